"""The llm component through the trainer: evaluation keys, exact resume, a small artifact."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch

from astrobio.components.llm.data import build_data
from astrobio.components.llm.model import build_model
from astrobio.components.llm.task import SPEC, evaluate
from astrobio.trainer import Preempted, StopFlag, TrainingRun, train
from astrobio.trainer.checkpoint import list_checkpoints, load_weights
from astrobio.trainer.distributed import DistEnv
from tests.components.llm.helpers import make_cfg


def test_spec_contract():
    assert SPEC.name == "llm" and SPEC.phase == "llm_guided" and SPEC.upstream == ("fusion",)
    assert SPEC.image == "astrobio/llm" and SPEC.export_artifact is not None and SPEC.supports_ddp


def test_evaluate_reports_model_and_base_and_caches_the_base(tiny_model, fusion_dir):
    cfg = make_cfg(tiny_model, fusion_dir)
    data = build_data(cfg, 0, 1)
    model = build_model(cfg, data)
    model.train()
    metrics = evaluate(model, data, "val")
    assert set(metrics) == {"val_ppl", "baseline_base_val_ppl", "val_num_acc", "baseline_base_val_num_acc",
                            "val_trainable_pct", "val_num_questions"}
    assert metrics["val_num_questions"] == 8  # eval.num_prompts of make_cfg
    assert all(math.isfinite(v) for v in metrics.values()) and model.training
    assert 0 <= metrics["val_num_acc"] <= 1 and 0 < metrics["val_trainable_pct"] < 100
    data.memo[("base_scores", "val")]["ppl"] = -1.0  # proves the base is not scored again
    assert evaluate(model, data, "val")["baseline_base_val_ppl"] == -1.0
    quiet = make_cfg(tiny_model, fusion_dir, eval={"num_prompts": 0})
    qdata = build_data(quiet, 0, 1)
    assert set(evaluate(build_model(quiet, qdata), qdata, "test")) == {"test_ppl", "baseline_base_test_ppl", "test_trainable_pct"}


def test_evaluate_reuses_the_tuned_scores_only_while_the_weights_are_unchanged(tiny_model, fusion_dir):
    """The trainer evaluates val at the last step and again when it publishes: the second is free,
    but any optimizer step in between must be scored afresh."""
    cfg = make_cfg(tiny_model, fusion_dir)
    data = build_data(cfg, 0, 1)
    model = build_model(cfg, data)
    first = evaluate(model, data, "val")
    fingerprint, scores = data.memo[("tuned_scores", "val")]
    scores["ppl"] = -1.0  # proves the unchanged model is not scored again
    assert evaluate(model, data, "val")["val_ppl"] == -1.0
    with torch.no_grad():
        model.projector.out.bias.add_(0.5)  # (a LoRA A matrix would not do: B starts at zero)
    again = evaluate(model, data, "val")
    assert again["val_ppl"] > 0 and again["val_ppl"] != first["val_ppl"]
    assert data.memo[("tuned_scores", "val")][0] != fingerprint


def make_job(tmp: Path, model_dir: Path, fusion_dir: Path) -> TrainingRun:
    cfg = make_cfg(model_dir, fusion_dir, optim={"lr": 0.01},
                   trainer={"max_steps": 8, "eval_every": 4, "log_every": 4, "checkpoint": {"every": 4, "keep_last": 2}})
    return TrainingRun(spec=SPEC, cfg=cfg, seed=3, output_dir=tmp, run_id="t", config_hash="h")


def test_resume_is_exact_and_the_artifact_holds_only_adapter_and_projector(tmp_path, tiny_model, fusion_dir):
    full = tmp_path / "full"
    result = train(make_job(full, tiny_model, fusion_dir), DistEnv(), StopFlag())
    assert result.metrics["test_ppl"] < result.metrics["baseline_base_test_ppl"]
    split = tmp_path / "split"
    with pytest.raises(Preempted):
        train(make_job(split, tiny_model, fusion_dir), DistEnv(), StopFlag(at_step=4))
    assert [p.name for p in list_checkpoints(split / "checkpoints")][0] == "step-00000004"
    resumed = train(make_job(split, tiny_model, fusion_dir), DistEnv(), StopFlag())
    assert resumed.resumed_from == 4
    a, b = load_weights(full / "artifact" / "model.safetensors"), load_weights(split / "artifact" / "model.safetensors")
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key
    assert all(k.startswith("projector.") or "lora_" in k for k in a)
    art = full / "artifact"
    assert (art / "adapter" / "adapter_config.json").is_file()
    info = json.loads((art / "llm_conditioning.json").read_text())
    assert info["n_soft_tokens"] == 2 and info["latent_dim"] == 16 and info["prompt_format"] == "plain"
    card = json.loads((art / "model_card.json").read_text())
    assert card["baselines"]["baseline_base_test_ppl"] == pytest.approx(result.metrics["baseline_base_test_ppl"])
