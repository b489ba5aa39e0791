"""The NaN policy: what a non-finite loss does to a step, and the refusal to write non-finite weights.

Under nan_policy=stop (the default) the loop does not ask every step whether the loss is finite:
`bool(torch.isfinite(loss))` is a host sync (on a GPU it waits for the whole step; on a CPU it costs
~8 us of dispatch), which a hand-written loop does not pay. `LossWatch` keeps the last steps' loss
tensors (references, no copy) and looks at them in one sync every `LOOKBACK` steps, and always before
anything is logged, evaluated or written. A run whose loss went non-finite therefore stops at most
`LOOKBACK` steps later, naming the first bad step, and still writes nothing non-finite (`require_finite`
guards every write as before). skip and reduce_lr must know before `opt.step` whether this step's
loss is finite (they drop its gradients), so they keep the per-step check; so does a DDP job, whose
ranks agree on that flag (and on a stop request) in one collective every step.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

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
        raise stop_failure(name, state.step)
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


def stop_failure(name: str, step: int) -> RuntimeFailure:
    """nan_policy=stop: the run ends at the first non-finite loss, naming its step."""
    return RuntimeFailure(f"{name}: non-finite loss at step {step}; stopped without saving (last good checkpoint "
                          f"kept; set trainer.nan_policy=skip or reduce_lr to skip such steps)")


LOOKBACK = 16  # steps between two looks at the losses under nan_policy=stop (one host sync each)


class LossWatch:
    """The losses of the steps since the last look, checked for NaN/inf in one host sync.

    `add` stores a reference in a preallocated slot (no tensor op, no allocation per step) and says
    when the slots are full; `first_nonfinite` stacks them, asks once, and empties the watch.
    """

    def __init__(self, lookback: int = LOOKBACK) -> None:
        self.slots: list[Any] = [None] * lookback  # loss tensors; None when free
        self.count = 0
        self.first_step = 0

    def add(self, step: int, loss: torch.Tensor) -> bool:
        """Keep step `step`'s (detached) loss; True when the watch is full and must be looked at now."""
        if self.count == 0:
            self.first_step = step
        self.slots[self.count] = loss
        self.count += 1
        return self.count == len(self.slots)

    def first_nonfinite(self) -> int | None:
        """The first kept step whose loss is NaN/inf, or None; the watch is empty afterwards."""
        if self.count == 0:
            return None
        kept, self.count = self.slots[:self.count], 0
        self.slots = [None] * len(self.slots)  # drop the references (once per look, not per step)
        finite = torch.isfinite(torch.stack(kept)).reshape(-1)  # a loss is one number (backward needs it)
        if bool(finite.all()):
            return None
        return self.first_step + int(finite.to(torch.uint8).argmin())


def loss_watch(tcfg: TrainerConfig, distributed: bool) -> LossWatch | None:
    """A deferred watch where the policy allows it (stop, one process); None: check every step."""
    return LossWatch() if tcfg.nan_policy == "stop" and not distributed else None


def check_losses(watch: LossWatch | None, name: str) -> None:
    """Look at the watched losses now (before a log line, an evaluation or a write); raise at a bad one."""
    if watch is not None and watch.count:
        bad = watch.first_nonfinite()
        if bad is not None:
            raise stop_failure(name, bad)


@contextlib.contextmanager
def nonfinite_first(watch: LossWatch | None, name: str) -> Iterator[None]:
    """An error in the steps after a non-finite loss (a hook, a solver fed NaN) is reported as the
    non-finite loss that caused it, as it was when every step was checked."""
    try:
        yield
    except Exception as exc:
        try:
            check_losses(watch, name)
        except RuntimeFailure as nan_error:
            raise nan_error from exc
        raise


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
