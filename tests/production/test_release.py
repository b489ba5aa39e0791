"""Releasing real (briefly trained) artifacts: rebuild, int8, latency, accuracy delta, export."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch
import yaml

from astrobio.production.options import ProductionOptions
from astrobio.production.release import release_component
from astrobio.store import open_store, read_manifest
from astrobio.trainer.checkpoint import load_weights

FAST = ProductionOptions(warmup=1, repeats=5, num_threads=1)


def release(trained_store: Path, tmp_path: Path, name: str, options: ProductionOptions = FAST):
    folder = trained_store / "runs/prod/pretrain" / name
    files = {rel: e["size"] for rel, e in read_manifest(open_store(str(folder), {}), "")["files"].items()}
    return release_component(name, files, lambda: folder, lambda n: pytest.fail(f"no input {n}"),
                             tmp_path / "exports", tmp_path / "cache", options, log=lambda _: None)


def test_graph_vae_is_quantised_timed_scored_and_exported(trained_store: Path, tmp_path: Path) -> None:
    r = release(trained_store, tmp_path, "graph_vae")
    assert r.status == "released" and r.reason is None
    assert r.quantize["applied"] and r.quantize["swapped_pyg_linear"] > 0 and r.quantize["linear_layers"] >= 4
    assert "deprecated" in r.quantize["notes"][0]
    assert r.latency_fp32["repeats"] == 5 and r.latency_int8["p50_ms"] > 0
    assert r.speedup == pytest.approx(r.latency_fp32["p50_ms"] / r.latency_int8["p50_ms"])
    assert r.metric == "test_auc" and r.artifact_metric == pytest.approx(r.metrics_fp32["test_auc"])  # rebuild reproduces
    assert set(r.metric_deltas) == {"test_auc", "test_ap"} and abs(r.metric_deltas["test_auc"]) < 0.25
    assert r.export_fp32["method"] == "torch.export" and r.export_fp32["dynamic"] and r.export_fp32["max_abs_diff"] <= 1e-4
    assert r.export_int8["method"] == "torchscript" and "torch.export" in r.export_int8["attempts"]

    program = torch.export.load(str(tmp_path / "exports" / r.export_fp32["file"])).module()
    weights = load_weights(trained_store / "runs/prod/pretrain/graph_vae/model.safetensors")
    x = torch.randn(7, weights["encoder.layers.0.lin_l.weight"].shape[1])  # another graph size: shapes stayed symbolic
    edges = torch.tensor([[0, 1, 2, 3], [1, 2, 3, 4]])
    pos_logits, neg_logits, mu, _ = program(x, torch.cat([edges, edges.flip(0)], 1), edges[:, :2], edges[:, 2:])
    assert pos_logits.shape == (2,) and mu.shape[0] == 7
    assert torch.jit.load(str(tmp_path / "exports/model_int8.ts")) is not None


def test_causal_has_no_linear_layers_so_int8_is_skipped_with_a_reason(trained_store: Path, tmp_path: Path) -> None:
    r = release(trained_store, tmp_path, "causal")
    assert r.status == "released" and not r.quantize["applied"]
    assert "no nn.Linear" in r.quantize["reason"] and r.latency_int8 is None and r.speedup is None
    assert r.metric == "test_nll" and r.metrics_int8 == {} and r.export_int8 is None
    assert r.export_fp32["method"] == "torch.export" and (tmp_path / "exports/model.pt2").is_file()


@pytest.mark.parametrize(("options", "reason"), [
    (ProductionOptions(budget_s=1e-6), "more than the"),
    (ProductionOptions(max_parameters=10), "exceed max_parameters"),
    (ProductionOptions(max_weight_bytes=10), "exceed max_weight_bytes"),
    (ProductionOptions(skip=("causal",)), "skip list"),
])
def test_limits_skip_with_a_recorded_reason(trained_store: Path, tmp_path: Path, options, reason: str) -> None:
    r = release(trained_store, tmp_path, "causal", options)
    assert r.status == "skipped" and reason in r.reason and r.export_fp32 is None


def test_weightless_and_unknown_artifacts_are_registered_only(trained_store: Path, tmp_path: Path) -> None:
    folder = tmp_path / "copy"
    shutil.copytree(trained_store / "runs/prod/pretrain/causal", folder)
    r = release_component("causal", {"metrics.json": 10}, lambda: folder, lambda n: folder, tmp_path, tmp_path, FAST)
    assert r.status == "skipped" and "no model.safetensors" in r.reason
    r = release_component("hal9000", {"model.safetensors": 10}, lambda: folder, lambda n: folder, tmp_path, tmp_path, FAST)
    assert r.status == "skipped" and "not registered in this build" in r.reason


def test_data_that_cannot_be_rebuilt_here_is_registered_only(trained_store: Path, tmp_path: Path) -> None:
    folder = tmp_path / "copy"
    shutil.copytree(trained_store / "runs/prod/pretrain/causal", folder)
    config = yaml.safe_load((folder / "config.yaml").read_text())
    config["data"]["source"] = str(tmp_path / "training-host-only.csv")  # a path of the machine that trained it
    (folder / "config.yaml").write_text(yaml.safe_dump(config))
    files = {"model.safetensors": 10, "config.yaml": 10}
    r = release_component("causal", files, lambda: folder, lambda n: folder, tmp_path / "x", tmp_path / "c", FAST)
    assert r.status == "skipped" and "cannot rebuild its data here" in r.reason and "registered only" in r.reason
