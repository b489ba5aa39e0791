"""Where a forward call's time goes, and so how much dynamic int8 can win at most.

Dynamic quantisation replaces only Linear layers; everything else (a graph network's message
passing: gather, multiply by edge weights, scatter-add, the per-call degree normalisation) runs in
fp32 as before. If Linear layers take a share `s` of the fp32 forward, int8 cannot beat
1 / (1 - s) even if its matrix products cost nothing (Amdahl). `profile_forward` measures `s` with
forward hooks on the Linear layers, in CPU time of the calling thread (so another process's load
on a shared machine does not enter the figure), and names the operators that take the rest with
torch.profiler, so a report can say why a model misses a speedup goal from the measurement itself.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
from torch import nn

from astrobio.production.quantize import pyg_linear_class

LINEAR_OPS = ("aten::mm", "aten::addmm", "aten::linear", "aten::matmul", "quantized::linear_dynamic")
"""Operators a Linear layer's forward runs (fp32 and dynamic int8): left out of `rest`."""


@dataclass
class ForwardProfile:
    """Linear layers' share of the forward's CPU time, the int8 bound it implies, and the top other ops."""

    cpu_ms: float
    linear_share: float
    rest: list[tuple[str, float]] = field(default_factory=list)
    """(operator, share of the profiled self CPU time) of the largest non-Linear operators."""

    @property
    def int8_bound(self) -> float:
        """The speedup int8 would give if every Linear layer cost nothing."""
        return 1.0 / (1.0 - self.linear_share) if self.linear_share < 1.0 else float("inf")

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "int8_bound": self.int8_bound}

    def why(self) -> str:
        """One sentence: the share, the bound, and what takes the rest."""
        rest = ", ".join(f"{op} {share:.0%}" for op, share in self.rest)
        return (f"Linear layers are {self.linear_share:.0%} of the fp32 forward's CPU time, so int8 can give at most "
                f"{self.int8_bound:.2f}x; the rest is {rest or 'not profiled'}")


def _linear_modules(model: nn.Module) -> list[nn.Module]:
    """What dynamic int8 replaces: nn.Linear, torch_geometric's Linear (swapped for one before
    quantising, see quantize.py) and the dynamically quantised Linear itself."""
    pyg = pyg_linear_class()
    return [m for m in model.modules() if type(m) is nn.Linear or (pyg is not None and isinstance(m, pyg))
            or (type(m).__name__ == "Linear" and ".quantized." in type(m).__module__)]


def linear_share(model: nn.Module, call: Callable[[], Any], repeats: int = 10) -> tuple[float, float]:
    """(CPU ms per call, share of it inside Linear layers), from `repeats` calls after one warm-up."""
    spent = [0]
    started: dict[int, int] = {}

    def before(module: nn.Module, _args: Any) -> None:
        started[id(module)] = time.thread_time_ns()

    def after(module: nn.Module, _args: Any, _out: Any) -> None:
        spent[0] += time.thread_time_ns() - started.pop(id(module))

    handles = [h for m in _linear_modules(model)
               for h in (m.register_forward_pre_hook(before), m.register_forward_hook(after))]
    try:
        with torch.inference_mode():
            call()
            spent[0] = 0
            t0 = time.thread_time_ns()
            for _ in range(repeats):
                call()
            total = time.thread_time_ns() - t0
    finally:
        for h in handles:
            h.remove()
    return total / repeats / 1e6, (spent[0] / total if total > 0 else 0.0)


def top_other_ops(call: Callable[[], Any], repeats: int = 5, top: int = 3) -> list[tuple[str, float]]:
    """The `top` operators by self CPU time outside LINEAR_OPS, with their share of all self CPU time."""
    from torch.profiler import ProfilerActivity, profile

    with torch.inference_mode(), profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(repeats):
            call()
    events = [(e.key, e.self_cpu_time_total) for e in prof.key_averages()]
    total = sum(t for _, t in events) or 1.0
    others = sorted(((k, t) for k, t in events if k not in LINEAR_OPS), key=lambda kv: -kv[1])
    return [(k, round(t / total, 3)) for k, t in others[:top]]


def profile_forward(model: nn.Module, call: Callable[[], Any], repeats: int = 10) -> ForwardProfile:
    """Profile `call` (a forward of `model` on a fixed batch): Linear share and the rest's top ops."""
    cpu_ms, share = linear_share(model, call, repeats)
    return ForwardProfile(round(cpu_ms, 3), round(share, 3), top_other_ops(call))
