"""`torch.optim.AdamW` without its import of `torch._dynamo` in a process that never compiles.

Why: every `torch.optim.Optimizer` imports `torch._dynamo` on its first method call. It happens in
`add_param_group`, `zero_grad`, `state_dict` and `load_state_dict`, all wrapped by
`torch._compile._disable_dynamo`, and in `step`, wrapped by
`torch.optim.optimizer._use_grad_for_differentiable`, which calls `torch._dynamo.graph_break()`.
That import pulls in sympy and torch.fx's symbolic shapes: ~1.2 s of a 100-step
`astrobio train` that takes ~4 s. Every tuning trial and every pipeline step pays it.

Both wrappers only matter while dynamo is tracing. `_disable_dynamo` turns dynamo's frame
callback off around the call; `graph_break` is a no-op outside a trace. Tracing needs
`torch._dynamo` to be loaded. So while `"torch._dynamo" not in sys.modules`, calling the wrapped
function directly is the same call. Once anything has loaded dynamo (a `torch.compile`, DDP,
transformers), each method defers to torch's own wrapper again, and that costs one dict lookup.
Parameters, state and `state_dict()` match `torch.optim.AdamW` bit for bit
(tests/trainer/test_eager_adamw.py).
"""

from __future__ import annotations

import functools
import inspect
import sys
from collections.abc import Callable
from typing import Any

import torch
from torch.optim import Optimizer
from torch.optim.optimizer import _use_grad_for_differentiable

DYNAMO = "torch._dynamo"

_RAW_STEP = inspect.unwrap(torch.optim.AdamW.step)
"""Adam's update without `_use_grad_for_differentiable` and without the profiler hook that
`Optimizer._patch_step_function` may already have put on `AdamW.step` (`inspect.unwrap` follows
both). Taken once, at import: the class is torch's, not something astrobio changes."""

_TORCH_STEP = _use_grad_for_differentiable(_RAW_STEP)
"""The same update in torch's own grad-mode wrapper, for when dynamo is loaded. Not
`super().step`: once any plain Adam(W) has stepped, `AdamW.step` carries the profiler hook too,
and `EagerAdamW.step` has its own, so the hooks would run twice per step."""


def _eager(name: str) -> Callable[..., Any]:
    """`Optimizer.<name>` called directly while dynamo is not loaded, through torch's wrapper after."""
    raw = inspect.unwrap(getattr(Optimizer, name))

    def method(self: EagerAdamW, *args: Any, **kwargs: Any) -> Any:
        if DYNAMO in sys.modules:
            return getattr(super(EagerAdamW, self), name)(*args, **kwargs)
        return raw(self, *args, **kwargs)

    functools.update_wrapper(method, raw)
    method.__qualname__ = f"EagerAdamW.{name}"
    return method


class EagerAdamW(torch.optim.AdamW):
    """`torch.optim.AdamW`, whose methods skip the dynamo wrappers while dynamo is not loaded."""

    add_param_group = _eager("add_param_group")
    zero_grad = _eager("zero_grad")
    state_dict = _eager("state_dict")
    load_state_dict = _eager("load_state_dict")

    def step(self, closure: Callable[[], float] | None = None) -> float | None:  # type: ignore[override]
        """One AdamW update (torch's `Adam.step`). Without dynamo loaded, the grad mode that
        `_use_grad_for_differentiable` sets around it, less its `graph_break()` calls."""
        if DYNAMO in sys.modules:
            return _TORCH_STEP(self, closure)
        with torch.set_grad_enabled(self.defaults["differentiable"]):
            return _RAW_STEP(self, closure)
