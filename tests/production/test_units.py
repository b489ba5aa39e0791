"""Pure parts of phase 5: flattening, export fallbacks, int8, timing statistics, report, options."""

from __future__ import annotations

import dataclasses
from collections import namedtuple
from pathlib import Path

import pytest
import torch
from torch import nn

from astrobio.errors import UsageError
from astrobio.production.export import export_model
from astrobio.production.flat import NotFlattenable, flat_forward, flatten
from astrobio.production.latency import measure_latency, metric_deltas, percentile, primary_metric
from astrobio.production.options import ProductionOptions
from astrobio.production.quantize import quantize_int8, swap_pyg_linear
from astrobio.production.report import flat_metrics, render_html, render_markdown


@dataclasses.dataclass(frozen=True)
class Batch:
    x: torch.Tensor
    extra: dict
    k: int = 3


Pair = namedtuple("Pair", "a b")


def test_flatten_rebuilds_nested_batches() -> None:
    batch = Batch(torch.ones(2), {"y": [torch.zeros(1), Pair(torch.ones(3), 5)]})
    leaves, rebuild = flatten(batch)
    assert [t.shape for t in leaves] == [(2,), (1,), (3,)]
    again = rebuild([t + 1 for t in leaves])
    assert isinstance(again, Batch) and again.k == 3 and isinstance(again.extra["y"][1], Pair)
    assert again.extra["y"][1].b == 5 and float(again.extra["y"][1].a.sum()) == 6.0
    with pytest.raises(NotFlattenable):
        flatten({"x": object()})


class Branchy(nn.Module):
    """Data-dependent control flow: torch.export cannot trace it, TorchScript trace freezes it."""

    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(4, 2)

    def forward(self, batch: dict) -> dict:
        x = batch["x"]
        return {"y": self.lin(x) if float(x.sum()) > 0 else -self.lin(x)}


class Noisy(nn.Module):
    def forward(self, batch: dict) -> torch.Tensor:
        return batch["x"] + torch.rand_like(batch["x"])


def test_export_falls_back_and_records_why(tmp_path: Path) -> None:
    wrapper, example = flat_forward(nn.Sequential(), torch.ones(3))  # identity on a bare tensor
    assert export_model(wrapper, example, tmp_path, "id").method == "torch.export"

    wrapper, example = flat_forward(Branchy().eval(), {"x": torch.ones(2, 4)})
    record = export_model(wrapper, example, tmp_path, "branchy")
    assert record.method == "torchscript" and (tmp_path / "branchy.ts").is_file()
    assert "torch.export" in record.attempts and not (tmp_path / "branchy.pt2").exists()

    wrapper, example = flat_forward(Noisy(), {"x": torch.ones(2)})
    record = export_model(wrapper, example, tmp_path, "noisy")
    assert record.method == "state_dict" and record.file is None
    assert set(record.attempts) == {"torch.export", "torchscript"} and "differs from eager" in record.attempts["torchscript"]


def test_int8_applies_to_linear_layers_only() -> None:
    mlp = nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 4)).eval()
    int8, record = quantize_int8(mlp)
    assert record.applied and record.linear_layers == 2 and type(mlp[0]) is nn.Linear  # original untouched
    x = torch.randn(5, 16)
    assert (int8(x) - mlp(x)).abs().max() < 0.1
    none, record = quantize_int8(nn.Sequential(nn.Conv1d(1, 1, 3)))
    assert none is None and not record.applied and "no nn.Linear" in record.reason


def test_pyg_linear_is_swapped_for_an_equal_nn_linear() -> None:
    from torch_geometric.nn import SAGEConv

    conv = SAGEConv(6, 8)
    x, edges = torch.randn(4, 6), torch.tensor([[0, 1, 2], [1, 2, 3]])
    expected = conv(x, edges)
    assert swap_pyg_linear(conv) == 2 and type(conv.lin_l) is nn.Linear
    assert torch.allclose(conv(x, edges), expected)


def test_latency_statistics() -> None:
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5 and percentile([5.0], 95) == 5.0
    ticks = iter(range(0, 10_000))
    calls = []
    stats = measure_latency(lambda: calls.append(1), warmup=2, repeats=10, clock=lambda: next(ticks) * 0.001)
    assert len(calls) == 12 and stats.repeats == 10 and stats.p50_ms == pytest.approx(1.0)
    bounded = measure_latency(lambda: None, warmup=0, repeats=1000, max_seconds=0.0, clock=lambda: next(ticks) * 0.001)
    assert bounded.repeats == 5  # stops at the minimum once the time cap is passed
    assert primary_metric({"test_ap": 1, "test_auc": 0.5, "val_auc": 1}) == "test_auc"
    assert primary_metric({"test_zeta": 1.0, "test_alpha": 2.0}) == "test_alpha"
    assert primary_metric({"val_auc": 1.0}) is None
    assert metric_deltas({"test_auc": 0.9, "baseline_x_test_auc": 0.5, "test_n": 1}, {"test_auc": 0.85}) == \
        pytest.approx({"test_auc": -0.05})


def test_flat_metrics_pair_int8_with_its_fp32_baseline() -> None:
    lat = {"p50_ms": 2.0, "p95_ms": 3.0}
    released = {"component": "graph_vae", "status": "released", "latency_fp32": lat,
                "latency_int8": {"p50_ms": 1.0, "p95_ms": 1.5}, "speedup": 2.0, "metric": "test_auc",
                "metrics_fp32": {"test_auc": 0.9}, "metrics_int8": {"test_auc": 0.88}, "metric_deltas": {"test_auc": -0.02},
                "export_fp32": {"method": "torch.export", "attempts": {}}, "quantize": {"applied": True}}
    fp32_only = {"component": "causal", "status": "released", "latency_fp32": lat, "latency_int8": None,
                 "metric": "test_nll", "metrics_fp32": {"test_nll": 2.5}, "metrics_int8": {}, "metric_deltas": {},
                 "export_fp32": {"method": "state_dict", "attempts": {"torch.export": "boom"}},
                 "quantize": {"applied": False, "reason": "no nn.Linear layers"}}
    skipped = {"component": "llm", "status": "skipped", "reason": "weights too big"}
    m = flat_metrics([released, fp32_only, skipped], registered=3, new_versions=1)
    assert m["graph_vae_p50_ms"] == 1.0 and m["baseline_fp32_graph_vae_p50_ms"] == 2.0
    assert m["graph_vae_int8_speedup"] == 2.0 and m["graph_vae_int8_metric_delta"] == pytest.approx(-0.02)
    assert m["graph_vae_test_auc"] == 0.88 and m["baseline_fp32_graph_vae_test_auc"] == 0.9
    assert m["causal_p50_ms"] == 2.0 and "baseline_fp32_causal_p50_ms" not in m and m["causal_int8_applied"] == 0.0
    counts = ("released_components", "skipped_components", "exported_components", "quantized_components")
    assert tuple(m[k] for k in counts) == (2, 1, 1, 1)
    assert not any(k.startswith("llm_") for k in m)
    doc = {"run_id": "r1", "components": [released, fp32_only, skipped], "machine": {"torch": "x"},
           "entries": [{"component": "graph_vae", "version": "abc123", "aliases": ["production"], "uri": "u"}]}
    md = render_markdown(doc)
    assert "| graph_vae | abc123 | released | 2.000 | 3.000 | 1.000 | 1.500 | 2.00 | test_auc | 0.9000 | -0.0200 |" in md
    assert "llm: skipped: weights too big" in md and "causal: export_fp32 torch.export failed: boom" in md
    assert "<td>graph_vae</td>" in render_html(doc)


def test_options_from_the_given_environment() -> None:
    opts = ProductionOptions.from_env({"ASTROBIO_PRODUCTION_BUDGET_S": "30", "ASTROBIO_PRODUCTION_SKIP": "llm, galactic",
                                       "ASTROBIO_PRODUCTION_EXPORT": "false", "ASTROBIO_PRODUCTION_NUM_THREADS": "1"})
    assert (opts.budget_s, opts.skip, opts.export, opts.num_threads) == (30.0, ("llm", "galactic"), False, 1)
    assert ProductionOptions.from_env({}) == ProductionOptions()
    with pytest.raises(UsageError, match="ASTROBIO_PRODUCTION_REPEATS='many'"):
        ProductionOptions.from_env({"ASTROBIO_PRODUCTION_REPEATS": "many"})
    with pytest.raises(UsageError, match="budget_s must be > 0"):
        ProductionOptions.from_env({"ASTROBIO_PRODUCTION_BUDGET_S": "0"})
    with pytest.raises(UsageError, match="promote"):
        ProductionOptions(promote="sometimes")


def test_interleaved_latency_rotates_the_order_and_times_each_call():
    """fp32 and int8 are timed in alternating rounds (AB, BA, ...), not one block after the other."""
    from astrobio.production.latency import measure_interleaved

    order: list[str] = []
    stats = measure_interleaved({"a": lambda: order.append("a"), "b": lambda: order.append("b")},
                                warmup=1, repeats=4)
    assert order == ["a", "b", "a", "b", "b", "a", "a", "b", "b", "a"]
    assert stats["a"].repeats == stats["b"].repeats == 4 and stats["a"].warmup == 1
