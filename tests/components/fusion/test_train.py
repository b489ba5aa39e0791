"""Fusion through the one trainer: exact resume (with baselines retrained mid-run), and a smoke run
in which the fused model beats its best single modality and the majority class."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import torch

from astrobio.components.fusion.task import EMBEDDINGS_FILE, SPEC
from astrobio.trainer import Preempted, StopFlag, TrainingRun, train
from astrobio.trainer.checkpoint import load_weights
from astrobio.trainer.distributed import DistEnv
from tests.components.fusion.helpers import link_cache, make_cfg


def job(out: Path, cache: Path, **over) -> TrainingRun:
    link_cache(out, cache)
    return TrainingRun(spec=SPEC, cfg=make_cfg(**over), seed=3, output_dir=out, run_id="t", config_hash="h")


def test_resume_is_exact(tmp_path, cache):
    """20 steps == 10 steps, stop, resume, 10 steps: weights and exported embeddings bit for bit.
    The single-modality baselines train at the first evaluation of each process, so this also proves
    they leave the trainer's RNG stream alone."""
    full = train(job(tmp_path / "full", cache, model={"dropout": 0.2}), DistEnv(), StopFlag())
    with pytest.raises(Preempted):
        train(job(tmp_path / "split", cache, model={"dropout": 0.2}), DistEnv(), StopFlag(at_step=10))
    resumed = train(job(tmp_path / "split", cache, model={"dropout": 0.2}), DistEnv(), StopFlag())
    assert resumed.resumed_from == 10 and resumed.metrics == full.metrics
    for name in ("model.safetensors", EMBEDDINGS_FILE):
        a, b = load_weights(tmp_path / "full" / "artifact" / name), load_weights(tmp_path / "split" / "artifact" / name)
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a), name


def test_smoke_training_beats_single_modalities(tmp_path, cache):
    """Lean set: 400 planets (generation, then cached) and 4 single-modality baselines trained alike."""
    start = time.process_time()
    result = train(job(tmp_path, cache, data={"n_planets": 400, "batch_size": 32},
                       model={"latent_dim": 64, "hidden": 128, "cnn_width": 16, "dropout": 0.1},
                       trainer={"max_steps": 200, "eval_every": 100, "log_every": 50, "checkpoint": {"every": 100}},
                       eval={"baseline_steps": None}), DistEnv(), StopFlag())
    m = result.metrics
    print(f"fusion test_accuracy={m['test_accuracy']:.3f} best-single={m['baseline_best_single_test_accuracy']:.3f} "
          f"majority={m['baseline_majority_test_accuracy']:.3f}; cost {time.process_time() - start:.1f} CPU-s")
    assert m["test_accuracy"] > m["baseline_best_single_test_accuracy"] + 0.1
    assert m["test_accuracy"] > m["baseline_majority_test_accuracy"] + 0.3
    assert (tmp_path / "artifact" / EMBEDDINGS_FILE).is_file()
