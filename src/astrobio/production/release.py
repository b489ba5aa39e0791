"""Release one component: rebuild it from its artifact, quantise, time, score and export it.

Everything runs on CPU under a per-component time budget, because phase 5 runs in one small pod
after training and must finish even when a component is large (the LLM): a component is skipped,
with the reason in the report, when its weights or parameter count exceed the limits, or when one
forward call shows that timing it would not fit the budget. Within the budget, each later stage
checks what is left (int8 accuracy needs as long as fp32 accuracy took; exports run last).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

from astrobio.errors import RuntimeFailure, UsageError
from astrobio.production.artifact import CONFIG_FILE, DataUnavailable, LoadedComponent, load_component
from astrobio.production.export import export_model, state_dict_only
from astrobio.production.flat import NotFlattenable, flat_forward
from astrobio.production.latency import measure_interleaved, metric_deltas, primary_metric
from astrobio.production.options import ProductionOptions
from astrobio.production.quantize import QuantizeRecord, quantize_int8
from astrobio.catalog import get_spec
from astrobio.trainer.checkpoint import MODEL_FILE

MIN_TIMED_CALLS = 5


@dataclass
class ComponentReport:
    """What phase 5 did with one component, JSON-ready; `skipped` maps a stage to why it did not run."""

    component: str
    status: str = "skipped"  # released | skipped
    reason: str | None = None
    num_parameters: int | None = None
    weights_bytes: int | None = None
    quantize: dict[str, Any] | None = None
    latency_fp32: dict[str, Any] | None = None
    latency_int8: dict[str, Any] | None = None
    speedup: float | None = None
    metric: str | None = None
    artifact_metric: float | None = None
    metrics_fp32: dict[str, float] = field(default_factory=dict)
    metrics_int8: dict[str, float] = field(default_factory=dict)
    metric_deltas: dict[str, float] = field(default_factory=dict)
    export_fp32: dict[str, Any] | None = None
    export_int8: dict[str, Any] | None = None
    skipped: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Budget:
    """Seconds left for one component, from a monotonic clock."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.perf_counter) -> None:
        self.seconds, self.clock, self.start = seconds, clock, clock()

    def elapsed(self) -> float:
        return self.clock() - self.start

    def left(self) -> float:
        return self.seconds - self.elapsed()


def _numbers(metrics: Mapping[str, Any]) -> dict[str, float]:
    return {k: float(v) for k, v in metrics.items()
            if k.startswith("test_") and isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)}


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{exc.__class__.__name__}: {text.splitlines()[0] if text else ''}"[:300]


def pre_check(name: str, files: Mapping[str, int], options: ProductionOptions) -> str | None:
    """Why `name` cannot be released before anything is downloaded, or None if it may be."""
    if name in options.skip:
        return "listed in the production skip list"
    try:
        get_spec(name)
    except UsageError:
        return f"component '{name}' is not registered in this build of astrobio (registered only)"
    except ImportError as exc:  # one image per component: this one may lack another's extras
        return f"component '{name}' cannot be imported here ({exc}) (registered only)"
    for needed in (MODEL_FILE, CONFIG_FILE):
        if needed not in files:
            return f"the artifact has no {needed} (registered only)"
    if files[MODEL_FILE] > options.max_weight_bytes:
        return (f"weights of {files[MODEL_FILE] / 2**20:.1f} MiB exceed max_weight_bytes "
                f"({options.max_weight_bytes / 2**20:.1f} MiB)")
    return None


def release_component(name: str, files: Mapping[str, int], fetch_artifact: Callable[[], Path],
                      fetch_input: Callable[[str], Path], out_dir: Path, cache_dir: Path,
                      options: ProductionOptions, log: Callable[[str], None] = print) -> ComponentReport:
    """Release `name` (see module doc); exports go to `out_dir`. Skips are reported, not raised; a
    model that cannot be rebuilt or run from its own artifact is a RuntimeFailure."""
    report = ComponentReport(component=name, weights_bytes=files.get(MODEL_FILE))
    reason = pre_check(name, files, options)
    if reason is not None:
        report.reason = reason
        return report
    budget = Budget(options.budget_s)
    threads = torch.get_num_threads()
    if options.num_threads:
        torch.set_num_threads(options.num_threads)
    try:
        spec = get_spec(name)
        folder = fetch_artifact()
        try:
            loaded = load_component(spec, folder, cache_dir, {u: fetch_input(u) for u in spec.upstream})
        except (DataUnavailable, ImportError) as exc:
            report.reason = f"{str(exc)[:300]} (registered only)"
            return report
        _release(loaded, report, budget, out_dir, options, log)
        report.artifact_metric = read_artifact_metric(folder, report.metric)
    finally:
        torch.set_num_threads(threads)
        report.seconds = round(budget.elapsed(), 3)
    return report


def _release(loaded: LoadedComponent, report: ComponentReport, budget: Budget, out_dir: Path,
             options: ProductionOptions, log: Callable[[str], None]) -> None:
    name, fp32 = loaded.name, loaded.model
    report.num_parameters = loaded.num_parameters
    if report.num_parameters > options.max_parameters:
        report.reason = f"{report.num_parameters:,} parameters exceed max_parameters ({options.max_parameters:,})"
        return
    batch = loaded.example_batch()
    try:
        start = time.perf_counter()
        with torch.inference_mode():
            fp32(batch)
        one_call = time.perf_counter() - start
    except Exception as exc:
        raise RuntimeFailure(f"{name}: the rebuilt model fails on its own data: {_first_line(exc)}") from None
    needed = 2 * (options.warmup + MIN_TIMED_CALLS) * one_call
    if budget.left() < needed:
        report.reason = (f"one forward call takes {one_call:.2f} s: timing fp32 and int8 needs ~{needed:.0f} s, "
                         f"more than the {budget.left():.0f} s left of budget_s={options.budget_s:g}")
        return
    try:
        int8, qrec = quantize_int8(fp32)
    except Exception as exc:  # noqa: BLE001 - e.g. a module deepcopy cannot copy: fp32 still ships
        int8, qrec = None, QuantizeRecord(applied=False, reason=f"quantisation failed: {_first_line(exc)}")
    report.quantize = qrec.to_dict()
    if int8 is not None:
        try:
            with torch.inference_mode():
                int8(batch)
        except Exception as exc:  # noqa: BLE001 - an op without an int8 kernel: report, keep fp32
            report.skipped["int8"] = f"the int8 model fails on the batch: {_first_line(exc)}"
            int8 = None
    calls = {"fp32": lambda: fp32(batch), **({"int8": lambda: int8(batch)} if int8 is not None else {})}
    stats = measure_interleaved(calls, warmup=options.warmup, repeats=options.repeats,
                                max_seconds=budget.left() / 2)
    report.latency_fp32 = stats["fp32"].to_dict()
    if "int8" in stats:
        report.latency_int8 = stats["int8"].to_dict()
        report.speedup = stats["fp32"].p50_ms / stats["int8"].p50_ms if stats["int8"].p50_ms > 0 else None
    _accuracy(loaded, int8, report, budget)
    if options.export:
        _exports(loaded, int8, batch, report, budget, out_dir)
    report.status = "released"
    int8_note = f"int8 speedup {report.speedup:.2f}x" if report.speedup else "int8 n/a"
    export_note = report.export_fp32["method"] if report.export_fp32 else "off"
    log(f"production: {name} released ({int8_note}, export {export_note})")


def _accuracy(loaded: LoadedComponent, int8: torch.nn.Module | None, report: ComponentReport, budget: Budget) -> None:
    """The component's own test evaluation, fp32 then int8 (if the budget still allows it)."""
    spec, data = loaded.spec, loaded.data
    start = time.perf_counter()
    fp32_metrics = _numbers(spec.evaluate(loaded.model, data, "test"))
    took = time.perf_counter() - start
    report.metrics_fp32 = fp32_metrics
    report.metric = primary_metric(fp32_metrics)
    if int8 is None:
        return
    if budget.left() < 1.5 * took:
        report.skipped["accuracy_int8"] = f"the fp32 evaluation took {took:.1f} s; {budget.left():.1f} s of budget left"
        return
    try:
        report.metrics_int8 = _numbers(spec.evaluate(int8, data, "test"))
    except Exception as exc:  # noqa: BLE001 - evaluation code that assumes float weights: report it
        report.skipped["accuracy_int8"] = f"evaluate() fails on the int8 model: {_first_line(exc)}"
        return
    report.metric_deltas = metric_deltas(fp32_metrics, report.metrics_int8)


def _exports(loaded: LoadedComponent, int8: torch.nn.Module | None, batch: Any, report: ComponentReport,
             budget: Budget, out_dir: Path) -> None:
    """fp32 export (torch.export, TorchScript, state dict), then the int8 model's."""
    for label, model in (("fp32", loaded.model), ("int8", int8)):
        if model is None:
            continue
        stem = "model" if label == "fp32" else "model_int8"
        if budget.left() <= 0:
            record = state_dict_only(f"time budget spent before the {label} export")
        else:
            try:
                wrapper, example = flat_forward(model, batch)
                record = export_model(wrapper, example, out_dir, stem)
            except NotFlattenable as exc:
                record = state_dict_only(str(exc))
        setattr(report, f"export_{label}", record.to_dict())


def read_artifact_metric(folder: Path, metric: str | None) -> float | None:
    """The artifact's own recorded value of `metric` (to show the rebuild reproduces it)."""
    try:
        value = json.loads((folder / "metrics.json").read_text(encoding="utf-8")).get(metric or "")
    except (OSError, ValueError):
        return None
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
