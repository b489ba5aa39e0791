"""The one training loop. Every component trains here; `train` reads top to bottom.

Order of one optimizer step: `grad_accum` micro-batches (forward via `spec.step`, backward; DDP
gradient sync only on the last) -> non-finite check (trainer.nan_policy) -> unscale + clip ->
optimizer + scheduler -> `spec.on_step_end` -> log -> evaluate/early-stop -> checkpoint ->
preemption check.

Nothing non-finite is ever written as best/ or as the artifact, and a full disk while writing is
one error line naming the path (the previous checkpoint stays valid: writes are atomic). The steps
live next door: `session` (prepare, restore, begin), `update` (the optimizer update, shared with the
baselines' `fit`), `nonfinite` (the NaN policy, and the deferred look at the losses that spares
nan_policy=stop a host sync per step), `saving` (checkpoints, best/), `finish`.
"""

from __future__ import annotations

import torch

from astrobio.errors import Preempted, UsageError
from astrobio.trainer.distributed import DistEnv, any_rank_flags, barrier
from astrobio.trainer.finish import finish
from astrobio.trainer.training_run import StopFlag, TrainingRun, TrainResult
from astrobio.trainer.nonfinite import check_losses, handle_nonfinite, nonfinite_first
from astrobio.trainer.saving import Saver, disk_full_is_a_failure
from astrobio.trainer.session import Session, begin, prepare, restore
from astrobio.trainer.state import is_improvement
from astrobio.trainer.update import apply_update, forward_backward

__all__ = ["Preempted", "StopFlag", "TrainingRun", "TrainResult", "train"]


def train(job: TrainingRun, env: DistEnv, stop: StopFlag) -> TrainResult:
    """Train from the newest valid checkpoint (if any) to trainer.max_steps or an early stop, then
    evaluate and publish. Raises Preempted once `stop` asks and the checkpoint is on disk."""
    s = prepare(job, env)  # device, seeds, data, model, optimizer, schedule
    restore(s)             # rank 0's newest valid checkpoint (local, or from the store), on every rank
    begin(s)               # DDP wrapper, metrics, the data stream at the restored position
    saver = Saver(s)
    s.model.train()
    try:
        with disk_full_is_a_failure(saver.failed_write), nonfinite_first(s.watch, s.spec.name):
            while not s.done:
                stop_requested = optimizer_step(s, stop)
                maybe_evaluate(s, saver)
                if saver.due():
                    check_losses(s.watch, s.spec.name)  # never checkpoint a step after a non-finite loss
                    saver.save()
                if stop_requested and not s.done:
                    check_losses(s.watch, s.spec.name)
                    raise Preempted(s.state.step, saver.save(wait=True) or s.out / "checkpoints", stop.signum)
            check_losses(s.watch, s.spec.name)
            saver.wait()  # the last checkpoint is on disk before the run goes on to read or publish
    except BaseException:
        close_sink_after_failure(s)  # preempted or failed: TensorBoard's queued events are written
        raise
    finally:
        saver.close()
        s.progress.close()
    barrier(env)
    return finish(s)


def close_sink_after_failure(s: Session) -> None:
    """Flush and close the metrics sinks of a run that is leaving with an error or a preemption
    (no exit hook writes TensorBoard's queued events). The error in flight wins: a close that fails
    too (the disk that is full) is a warning, not a new error that would hide the first one's path."""
    try:
        s.sink.close()
    except OSError as exc:
        s.warn(f"the metrics sinks could not be flushed either: {exc}")


def optimizer_step(s: Session, stop: StopFlag) -> bool:
    """One optimizer step under the NaN policy, then the step-end hook and the log line.
    Returns whether any rank was asked to stop (one collective for both flags under DDP).

    Under nan_policy=stop in one process the loss is not looked at here (no host sync): `s.watch`
    keeps it and is looked at every LOOKBACK steps and before any log line, evaluation or write."""
    tcfg, state = s.tcfg, s.state
    s.opt.zero_grad(set_to_none=True)
    loss, parts = forward_backward(s.net, s.spec.step, s.next_batch, s.device, grad_accum=tcfg.grad_accum,
                                   dtype=s.dtype, scaler=s.scaler, distributed=s.env.is_distributed)
    state.step += 1
    if s.watch is not None:
        bad, stop_requested = False, stop.should_stop(state.step)
        if s.watch.add(state.step, loss):
            check_losses(s.watch, s.spec.name)
    else:
        bad, stop_requested = any_rank_flags([not bool(torch.isfinite(loss)), stop.should_stop(state.step)],
                                             s.env, s.device)
    if bad:
        handle_nonfinite(s.spec.name, state, tcfg, s.opt, s.sched, s.warn)
    else:
        state.nonfinite_in_a_row = 0
        apply_update(s.model, s.opt, s.sched, tcfg.clip_grad_norm, s.scaler)
        if s.spec.on_step_end is not None:
            s.spec.on_step_end(s.model, state.step)
    log_step(s, loss, parts)
    return stop_requested


def log_step(s: Session, loss: torch.Tensor, parts: dict[str, float]) -> None:
    """Every log_every steps (and the last): train metrics to the sinks and a progress line (the
    only steps that read the loss on the host); other steps only move a terminal's progress bar."""
    step = s.state.step
    if step % s.tcfg.log_every == 0 or step == s.tcfg.max_steps:
        check_losses(s.watch, s.spec.name)
        info = {"train_loss": float(loss), "lr": s.sched.get_last_lr()[0], **{f"train_{k}": float(v) for k, v in parts.items()}}
        s.sink.log(step, info, echo=False)
        s.progress.update(step, {"loss": info["train_loss"]}, force_line=True)
    else:
        s.progress.advance(step)


def maybe_evaluate(s: Session, saver: Saver) -> None:
    """Every eval_every steps (and the last): validation metrics; under early stopping, keep the
    best weights in best/ or count a bad evaluation (patience used up: the run stops early)."""
    state, es = s.state, s.tcfg.early_stopping
    if not (state.step % s.tcfg.eval_every == 0 or state.step == s.tcfg.max_steps):
        return
    check_losses(s.watch, s.spec.name)  # evaluate (and keep as best/) only weights of finite steps
    val = s.spec.evaluate(s.model, s.data, "val")
    s.sink.log(state.step, val)
    if es.metric is None:
        return
    if es.metric not in val:
        raise UsageError(f"trainer.early_stopping.metric: '{es.metric}' is not reported by "
                         f"{s.spec.name}; it reports: {', '.join(sorted(val))}")
    if is_improvement(val[es.metric], state.best_value, es.mode, es.min_delta):
        state.best_value, state.best_step, state.bad_evals = val[es.metric], state.step, 0
        if s.env.is_main:
            saver.save_best()
        return
    state.bad_evals += 1
    state.stopped_early = state.bad_evals >= es.patience
    if state.stopped_early:
        s.progress.message(f"early stop at step {state.step}: {es.metric} best "
                           f"{state.best_value:.4g} at step {state.best_step}")
