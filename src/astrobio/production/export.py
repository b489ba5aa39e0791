"""Export a model for serving: torch.export first, TorchScript trace second, state dict last.

Why this order: `torch.export` gives a graph with symbolic shapes that `torch.export.load` (and
AOTInductor, ExecuTorch) run without this package's Python code; a TorchScript trace is the older
form that still covers modules export cannot (e.g. the packed weights of dynamically quantised
Linear layers); and the artifact's `model.safetensors` with the package's `build_model` always
works. Each attempt's failure reason is kept, so the report says why a model ended where it did.

Every saved program is loaded back and run on the example batch: an export is only recorded as
working if its output matches the eager model's (`max_abs_diff`).
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

from astrobio.production.flat import FlatForward

METHODS = ("torch.export", "torchscript", "state_dict")
EXPORT_SUFFIX = {"torch.export": ".pt2", "torchscript": ".ts"}
MATCH_ATOL = 1e-4
"""How close a reloaded program's outputs must be to the eager ones (fp32 round-off, not real change)."""


@dataclass
class ExportRecord:
    """What worked for one model: method, file, whether shapes stayed symbolic, and why others failed."""

    method: str
    file: str | None = None
    dynamic: bool = False
    seconds: float = 0.0
    max_abs_diff: float | None = None
    attempts: dict[str, str] = field(default_factory=dict)  # method -> failure reason

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _reason(exc: BaseException) -> str:
    """The first line of an exception, bounded: reports stay one line per failed attempt."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{exc.__class__.__name__}: {text}"[:300]


def _max_abs_diff(a: Sequence[torch.Tensor], b: Sequence[torch.Tensor]) -> float:
    if len(a) != len(b):
        return float("inf")
    diffs = [float((x.detach().float() - y.detach().float()).abs().max()) if x.numel() else 0.0
             for x, y in zip(a, b)]
    return max(diffs, default=0.0)


def _auto_dims(example: Sequence[torch.Tensor]) -> tuple[tuple[dict[int, Any], ...]]:
    """Let export decide, per dimension, whether it can stay symbolic (graph sizes, batch sizes)."""
    return (tuple({i: torch.export.Dim.AUTO for i in range(t.dim())} for t in example),)


def _try_export(wrapper: FlatForward, example: tuple[torch.Tensor, ...], path: Path) -> tuple[bool, Any]:
    """torch.export with automatic dynamic dims, then fully static; returns (dynamic, reloaded module)."""
    errors = []
    for dynamic in (True, False):
        try:
            program = torch.export.export(wrapper, example, dynamic_shapes=_auto_dims(example) if dynamic else None)
            torch.export.save(program, str(path))
            return dynamic, torch.export.load(str(path)).module()
        except Exception as exc:  # noqa: BLE001 - any failure means: try the next form
            errors.append(_reason(exc))
    raise RuntimeError(errors[-1])


def _try_trace(wrapper: FlatForward, example: tuple[torch.Tensor, ...], path: Path) -> tuple[bool, Any]:
    """TorchScript trace (shapes are whatever the trace saw; control flow is frozen)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # TracerWarnings about python values: the output check decides
        traced = torch.jit.trace(wrapper, example, check_trace=False, strict=False)
        torch.jit.save(traced, str(path))
        return False, torch.jit.load(str(path))


def export_model(wrapper: FlatForward, example: tuple[torch.Tensor, ...], folder: Path, stem: str,
                 methods: Sequence[str] = METHODS[:2]) -> ExportRecord:
    """Export `wrapper` into `folder/<stem>.<pt2|ts>` by the first method in `methods` that works.

    Falls back to `state_dict` (the artifact's safetensors weights, no program written) with every
    attempt's reason recorded. A program whose reloaded outputs differ from eager counts as failed.
    """
    folder.mkdir(parents=True, exist_ok=True)
    wrapper.eval()
    with torch.no_grad():
        expected = wrapper(*example)
    record = ExportRecord(method="state_dict")
    for method in methods:
        path = folder / f"{stem}{EXPORT_SUFFIX[method]}"
        start = time.perf_counter()
        try:
            dynamic, loaded = (_try_export if method == "torch.export" else _try_trace)(wrapper, example, path)
            with torch.no_grad():
                got = loaded(*example)
            diff = _max_abs_diff(expected, got if isinstance(got, (tuple, list)) else (got,))
            if not diff <= MATCH_ATOL:
                raise RuntimeError(f"reloaded program differs from eager by {diff:.3g} (> {MATCH_ATOL})")
        except Exception as exc:  # noqa: BLE001 - recorded; the next method is tried
            path.unlink(missing_ok=True)
            record.attempts[method] = _reason(exc)
            continue
        record.method, record.file, record.dynamic = method, path.name, dynamic
        record.seconds, record.max_abs_diff = round(time.perf_counter() - start, 3), diff
        return record
    return record


def state_dict_only(reason: str) -> ExportRecord:
    """The record of a model that was not exported at all (e.g. skipped by the time budget)."""
    return ExportRecord(method="state_dict", attempts={"skipped": reason})
