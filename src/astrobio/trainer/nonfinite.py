"""The NaN policy: what a non-finite loss does to a step, and the refusal to write non-finite weights."""

from __future__ import annotations

from collections.abc import Callable

import torch

from astrobio.sections import TrainerConfig
from astrobio.errors import RuntimeFailure
from astrobio.trainer.state import TrainState


def handle_nonfinite(name: str, state: TrainState, tcfg: TrainerConfig, opt: torch.optim.Optimizer,
                     sched: torch.optim.lr_scheduler.LRScheduler, warn: Callable[[str], None]) -> None:
    """Apply trainer.nan_policy to step `state.step`, whose loss was NaN/inf; raise to stop.

    skip and reduce_lr drop the step's gradients but still advance the schedule (the step counts);
    reduce_lr also scales the scheduler's base lrs, so every later step keeps the reduction, and
    records the cumulative factor in `state` (both are checkpointed, so it survives resume).
    """
    where = f"{name}: non-finite loss at step {state.step}"
    if tcfg.nan_policy == "stop":
        raise RuntimeFailure(f"{where}; stopped without saving (last good checkpoint kept; set "
                             f"trainer.nan_policy=skip or reduce_lr to skip such steps)")
    state.skipped_steps += 1
    state.nonfinite_in_a_row += 1
    if state.nonfinite_in_a_row >= tcfg.nan_max_consecutive:
        raise RuntimeFailure(f"{where}: {state.nonfinite_in_a_row} non-finite steps in a row "
                             f"(trainer.nan_max_consecutive={tcfg.nan_max_consecutive}); stopped without saving "
                             f"(last good checkpoint kept; lower optim.lr or check the data)")
    opt.zero_grad(set_to_none=True)
    if tcfg.nan_policy == "reduce_lr":
        factor = tcfg.nan_lr_factor
        state.lr_scale *= factor
        sched.base_lrs = [lr * factor for lr in sched.base_lrs]
        warn(f"{where}: step skipped, learning rate x{factor:g} (now x{state.lr_scale:.4g} of the schedule)")
    else:
        warn(f"{where}: step skipped")
    sched.step()


def first_nonfinite(model: torch.nn.Module) -> str | None:
    """Name of the first parameter holding NaN/inf, or None when all are finite.

    Parameters only: buffers may hold infinity by design (causal's augmented-Lagrangian `h_last`
    starts at +inf as "no previous constraint value"), and a diverged model shows in its parameters.
    """
    for key, value in model.named_parameters():
        if value.is_floating_point() and not bool(torch.isfinite(value).all()):
            return key
    return None


def require_finite(model: torch.nn.Module, name: str, step: int, what: str) -> None:
    """Refuse to write non-finite weights as `what` (a checkpoint, best/, the artifact)."""
    bad = first_nonfinite(model)
    if bad is not None:
        raise RuntimeFailure(f"{name}: non-finite weights at step {step} ('{bad}'); not writing {what} "
                             f"(last good checkpoint kept; lower optim.lr or set trainer.clip_grad_norm)")
