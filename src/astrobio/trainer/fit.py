"""Fit a small model in memory the way the trainer does: how the baselines are trained (fusion's
single-modality nets, galactic's local-only and centralised models).

Why not `train()`: a baseline is fitted inside another run's evaluation and memoised on its data
object. `train()` would seed the global RNG, open a process group, write checkpoints, best/,
metrics and an artifact and publish it: a baseline has none of these, and the global RNG belongs to
the run being evaluated (it is checkpointed). What makes a baseline trained "the same way" is shared
with the loop instead: the optimizer and schedule (`schedule.py`), the data order
(`state.batch_stream`) and the optimizer update itself (`update.forward_backward` and
`update.apply_update`: forward, backward, clipping, optimizer step, schedule), without AMP,
gradient accumulation or DDP.

It runs inside `torch.random.fork_rng` with its own seed, so the caller's RNG stream is untouched
and a resumed run retrains identical baselines and still resumes bit for bit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from astrobio.sections import ComponentConfig
from astrobio.spec import TrainData
from astrobio.trainer.schedule import build_optimizer, build_scheduler
from astrobio.trainer.state import batch_stream
from astrobio.trainer.update import apply_update, forward_backward


def fit_baseline(make: Callable[[], nn.Module], data: TrainData, steps: int, cfg: ComponentConfig,
                 device: torch.device, seed: int, loss_fn: Callable[[nn.Module, Any], torch.Tensor]) -> nn.Module:
    """Build a model with `make` (under `seed`) and train it `steps` optimizer steps on
    `data.batches` with the component config's optimizer, schedule and clipping; returns it in eval mode."""
    devices = [device.index or 0] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        model = make().to(device)
        model.train()
        opt = build_optimizer(model, cfg.optim)
        sched = build_scheduler(opt, cfg.optim, steps)
        stream = batch_stream(data, 0, 0)

        def step(net: nn.Module, batch: Any) -> tuple[torch.Tensor, dict[str, float]]:
            return loss_fn(net, batch), {}

        def next_batch() -> Any:
            return next(stream)[2]

        for _ in range(steps):
            opt.zero_grad(set_to_none=True)
            forward_backward(model, step, next_batch, device)
            apply_update(model, opt, sched, cfg.trainer.clip_grad_norm)
    return model.eval()
