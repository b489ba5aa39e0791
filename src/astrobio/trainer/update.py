"""One optimizer update, shared by the loop and the in-memory baseline fit (`fit.py`), so a baseline
trained "the same way" really takes the same steps: forward and backward over the micro-batches,
then clipping, optimizer step and schedule."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import torch

NO_CONTEXT = contextlib.nullcontext()  # stateless and reusable: no context object built per micro-batch
StepFn = Callable[[torch.nn.Module, Any], tuple[torch.Tensor, dict[str, float]]]


def move_to(batch: Any, device: torch.device) -> Any:
    """Tensors, containers of them, and objects with `.to` (PyG Data) onto `device`."""
    if isinstance(batch, torch.Tensor) or hasattr(batch, "to"):
        return batch.to(device)
    if isinstance(batch, dict):
        return {k: move_to(v, device) for k, v in batch.items()}
    if isinstance(batch, (list, tuple)):
        return type(batch)(move_to(v, device) for v in batch)
    return batch


def forward_backward(net: torch.nn.Module, step: StepFn, next_batch: Callable[[], Any], device: torch.device, *,
                     grad_accum: int = 1, dtype: torch.dtype | None = None,
                     scaler: torch.amp.GradScaler | None = None,
                     distributed: bool = False) -> tuple[torch.Tensor, dict[str, float]]:
    """Forward (`step`, under autocast when `dtype`) and backward over `grad_accum` micro-batches;
    returns the step's loss (the mean over micro-batches, detached) and the last micro-batch's
    metrics. Under DDP (`distributed`) gradients are synchronised only on the last micro-batch."""
    total: torch.Tensor | None = None
    parts: dict[str, float] = {}
    for micro in range(grad_accum):
        batch = next_batch()
        sync = NO_CONTEXT if (micro == grad_accum - 1 or not distributed) else net.no_sync()
        with sync:
            with torch.autocast(device.type, dtype=dtype) if dtype else NO_CONTEXT:
                loss, parts = step(net, move_to(batch, device))
            scaled = loss if grad_accum == 1 else loss / grad_accum
            (scaler.scale(scaled) if scaler is not None and scaler.is_enabled() else scaled).backward()
        part = loss.detach() if grad_accum == 1 else loss.detach() / grad_accum
        total = part if total is None else total + part
    assert total is not None  # grad_accum >= 1 (config)
    return total, parts


def apply_update(model: torch.nn.Module, opt: torch.optim.Optimizer, sched: torch.optim.lr_scheduler.LRScheduler,
                 clip_grad_norm: float | None, scaler: torch.amp.GradScaler | None = None) -> None:
    """Clip (after unscaling), step the optimizer (through the scaler under fp16), advance the schedule."""
    if clip_grad_norm is not None:
        if scaler is not None:
            scaler.unscale_(opt)
        torch.nn.utils.clip_grad_norm_(model.parameters(), clip_grad_norm)
    if scaler is not None and scaler.is_enabled():
        scaler.step(opt)
        scaler.update()
    else:
        opt.step()
    sched.step()
