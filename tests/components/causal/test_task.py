"""The component through the project's one trainer: metrics contract, smoke training, exact resume,
and the refusal of multi-process runs."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import torch

from astrobio.components.causal.data import build_data
from astrobio.components.causal.graphs import is_dag
from astrobio.components.causal.model import read_graph
from astrobio.components.causal.task import SPEC, build_model, evaluate
from astrobio.errors import UsageError
from astrobio.trainer import Preempted, StopFlag, TrainingRun, train
from astrobio.trainer.checkpoint import load_weights
from astrobio.trainer.distributed import DistEnv
from tests.components.causal.conftest import TIERS, chain_rows, make_cfg, write_csv

GRAPH_KEYS = {"{s}_shd", "{s}_precision", "{s}_recall", "{s}_edges", "{s}_nll", "{s}_h", "{s}_acyclic",
              "baseline_pc_{s}_shd", "baseline_pc_{s}_precision", "baseline_pc_{s}_recall",
              "baseline_empty_{s}_shd", "baseline_empty_{s}_nll"}
CF_KEYS = {"{s}_cf_rmse", "baseline_obs_{s}_cf_rmse"}


def keys(template: set[str], split: str) -> set[str]:
    return {k.format(s=split) for k in template}


def smoke_job(out: Path, steps: int = 600, **over) -> TrainingRun:
    trainer = {"max_steps": steps, "eval_every": 200, "log_every": 100, "checkpoint": {"every": 200, "keep_last": 2}}
    cfg = make_cfg(trainer=trainer, optim={"lr": 0.02}, data={"n_samples": 1000},
                   priors={"tiers": TIERS}, **over)
    return TrainingRun(spec=SPEC, cfg=cfg, seed=0, output_dir=out, run_id="t", config_hash="h")


@pytest.mark.parametrize("split", ["val", "test"])
def test_evaluate_returns_exactly_the_documented_keys_on_the_scm(split):
    cfg = make_cfg(data={"n_samples": 300})
    data = build_data(cfg, 0, 1, None)
    metrics = evaluate(build_model(cfg, data), data, split)
    assert set(metrics) == keys(GRAPH_KEYS | CF_KEYS, split)
    assert metrics[f"baseline_empty_{split}_shd"] == 10.0  # = number of true edges
    assert all(isinstance(v, float) for v in metrics.values())


def test_without_a_true_graph_only_data_metrics_are_reported(tmp_path):
    cfg = make_cfg(data={"source": str(write_csv(tmp_path / "o.csv", ["a", "b", "c"], chain_rows()))})
    data = build_data(cfg, 0, 1, None)
    assert set(evaluate(build_model(cfg, data), data, "val")) == {
        "val_edges", "val_nll", "val_h", "val_acyclic", "baseline_empty_val_nll"}


def test_pc_baseline_is_computed_once(monkeypatch):
    cfg = make_cfg(data={"n_samples": 300})
    data = build_data(cfg, 0, 1, None)
    model = build_model(cfg, data)
    first = evaluate(model, data, "val")
    calls = []
    monkeypatch.setattr("astrobio.components.causal.baselines.pc_algorithm", lambda *a, **k: calls.append(1))
    second = evaluate(model, data, "test")
    assert not calls and first["baseline_pc_val_shd"] == second["baseline_pc_test_shd"]


def test_smoke_training_recovers_the_scm_graph_and_is_acyclic(tmp_path):
    result = train(smoke_job(tmp_path), DistEnv(), StopFlag())
    m = result.metrics
    assert m["test_recall"] == 1.0 and m["test_precision"] >= 0.9 and m["test_shd"] <= 1
    assert m["test_acyclic"] == 1.0 and m["test_h"] < 1e-3
    assert m["test_shd"] <= m["baseline_pc_test_shd"] < m["baseline_empty_test_shd"]
    assert m["test_cf_rmse"] < 0.5 * m["baseline_obs_test_cf_rmse"]
    assert m["test_nll"] < m["baseline_empty_test_nll"]
    weights = load_weights(tmp_path / "artifact" / "model.safetensors")
    assert {"weight", "rho", "alpha", "h_last", "calls"} <= set(weights)
    cfg = smoke_job(tmp_path).cfg
    model = build_model(cfg, build_data(cfg, 0, 1, None))
    model.load_state_dict(weights)
    graph, raw_acyclic = read_graph(model, cfg.model.w_threshold)
    assert raw_acyclic and is_dag(graph)


def test_mlp_variant_trains_through_the_trainer(tmp_path):
    job = smoke_job(tmp_path, steps=60, model={"kind": "mlp", "hidden": 4, "lambda2": 0.01, "dual_every": 20})
    result = train(job, DistEnv(), StopFlag())
    assert set(result.metrics) == keys(GRAPH_KEYS | CF_KEYS, "val") | keys(GRAPH_KEYS | CF_KEYS, "test")
    assert all(v == v for v in result.metrics.values())  # no NaN
    assert result.metrics["test_nll"] < result.metrics["baseline_empty_test_nll"]


def test_resume_is_exact(tmp_path):
    """N steps == N/2 steps, stop, resume, N/2 steps: weights and Lagrangian state bit for bit."""
    full = tmp_path / "full"
    train(smoke_job(full, steps=300), DistEnv(), StopFlag())
    split = tmp_path / "split"
    with pytest.raises(Preempted):
        train(smoke_job(split, steps=300), DistEnv(), StopFlag(at_step=150))
    resumed = train(smoke_job(split, steps=300), DistEnv(), StopFlag())
    assert resumed.resumed_from == 150
    a = load_weights(full / "artifact" / "model.safetensors")
    b = load_weights(split / "artifact" / "model.safetensors")
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key
    assert int(a["calls"]) == 300 and float(a["rho"]) > 1.0  # the dual updates did run


def test_two_processes_are_refused_before_any_work(tmp_path):
    assert SPEC.supports_ddp is False

    def never(*args):
        raise AssertionError("data was built before the refusal")

    job = smoke_job(tmp_path)
    job.spec = dataclasses.replace(SPEC, build_data=never)
    with pytest.raises(UsageError, match="single process"):
        train(job, DistEnv(rank=0, world_size=2), StopFlag())
    assert not (tmp_path / "checkpoints").exists() and not (tmp_path / "artifact").exists()
