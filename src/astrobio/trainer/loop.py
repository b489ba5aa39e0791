"""The one training loop. Every component trains here; read it top to bottom.

Order of one optimizer step: `grad_accum` micro-batches (forward via `spec.step`, backward; DDP
gradient sync only on the last) -> non-finite check (trainer.nan_policy) -> unscale + clip ->
optimizer + scheduler -> log -> evaluate/early-stop -> checkpoint -> preemption check.

Nothing non-finite is ever written as best/ or as the artifact, and a full disk while writing is
one error line naming the path (the previous checkpoint stays valid: writes are atomic).
"""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch.nn.parallel import DistributedDataParallel

from astrobio.config.load import to_yaml
from astrobio.sections import ComponentConfig, TrainerConfig
from astrobio.errors import AstrobioError, Preempted, RuntimeFailure, UsageError, is_disk_full
from astrobio.spec import ComponentSpec, TrainData
from astrobio.trainer import checkpoint as ckpt
from astrobio.trainer.atomic import write_text_atomic
from astrobio.trainer.card import build_card, package_versions, render_card_markdown
from astrobio.trainer.distributed import DistEnv, any_rank_flags, barrier, broadcast_from_main, init_process_group, pick_device
from astrobio.trainer.metrics import MetricsSink
from astrobio.trainer.pretrained import apply_init_from
from astrobio.trainer.progress import ProgressReporter
from astrobio.trainer.rng import capture_rng, restore_rng, seed_everything
from astrobio.trainer.schedule import build_optimizer, build_scheduler
from astrobio.trainer.state import TrainState, batch_stream, is_improvement


@dataclass
class StopFlag:
    """Set by a signal handler; checked once per optimizer step (tests set it directly)."""

    requested: bool = False
    at_step: int | None = None  # tests: request a stop once this step is done
    signum: int = 15            # the signal that asked (SIGTERM unless Ctrl-C): sets the exit code

    def should_stop(self, step: int) -> bool:
        return self.requested or (self.at_step is not None and step >= self.at_step)


@dataclass
class TrainJob:
    """One component's training: what to train, with what, where to write."""

    spec: ComponentSpec
    cfg: ComponentConfig
    seed: int
    output_dir: Path
    run_id: str
    config_hash: str
    publish: Callable[[Path], str] | None = None   # artifact dir -> URI in the store
    mirror: ckpt.Mirror | None = None              # checkpoints copied to (and restored from) the store


@dataclass
class TrainResult:
    step: int
    metrics: dict[str, float]
    artifact_dir: Path
    artifact_uri: str | None
    resumed_from: int | None
    stopped_early: bool
    warnings: list[str] = field(default_factory=list)


def amp_dtype(setting: str, device: torch.device) -> torch.dtype | None:
    if setting == "off" or (setting == "auto" and device.type != "cuda"):
        return None
    if device.type != "cuda":
        raise UsageError(f"trainer.amp: '{setting}' needs a GPU; use 'auto' or 'off' on CPU")
    return torch.float16 if setting == "fp16" else torch.bfloat16


def move_to(batch: Any, device: torch.device) -> Any:
    """Tensors, containers of them, and objects with `.to` (PyG Data) onto `device`."""
    if isinstance(batch, torch.Tensor) or hasattr(batch, "to"):
        return batch.to(device)
    if isinstance(batch, dict):
        return {k: move_to(v, device) for k, v in batch.items()}
    if isinstance(batch, (list, tuple)):
        return type(batch)(move_to(v, device) for v in batch)
    return batch


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


@contextlib.contextmanager
def disk_full_is_a_failure(what: Path | Callable[[], Path]) -> Iterator[None]:
    """A full disk while writing `what` becomes one RuntimeFailure line naming the path (a callable
    is asked after the failure: a background checkpoint write knows which one failed)."""
    try:
        yield
    except Exception as exc:
        if isinstance(exc, AstrobioError) or not is_disk_full(exc):
            raise
        what = what() if callable(what) else what
        file = getattr(exc, "filename", None)
        raise RuntimeFailure(f"no space left on device writing {what}{f' ({file})' if file else ''}; "
                             f"earlier checkpoints are kept; free space and run the same command again "
                             f"to resume") from exc


def train(job: TrainJob, env: DistEnv, stop: StopFlag) -> TrainResult:
    spec, cfg, tcfg = job.spec, job.cfg, job.cfg.trainer
    if env.is_distributed and not spec.supports_ddp:
        raise UsageError(f"component '{spec.name}' trains in a single process; run it without --nproc/WORLD_SIZE>1")
    device = pick_device(tcfg.device, env)
    if tcfg.cpu_threads is not None and device.type == "cpu":
        # Small models on a few shared cores: extra intra-op threads cost more in hand-off than they
        # save (measured 5-10x slower per step with 2 threads than 1 for datacube, fusion, llm).
        torch.set_num_threads(tcfg.cpu_threads)
    dtype = amp_dtype(tcfg.amp, device)
    init_process_group(env, device, tcfg.ddp_timeout_s)
    seed_everything(job.seed + env.rank, tcfg.deterministic)
    out = job.output_dir
    warnings: list[str] = []
    progress = ProgressReporter(tcfg.max_steps, 0, spec.name, env.is_main)
    warn = lambda msg: (warnings.append(msg), progress.message(f"warning: {msg}"))  # noqa: E731

    data = spec.build_data(cfg, env.rank, env.world_size, out / "cache")
    model = spec.build_model(cfg, data)
    init_report = apply_init_from(model, Path(cfg.init_from), cfg.init_strict) if cfg.init_from else None
    if init_report is not None:
        progress.message(init_report.render())
    model.to(device)
    opt = build_optimizer(model, cfg.optim)
    sched = build_scheduler(opt, cfg.optim, tcfg.max_steps)
    scaler = torch.amp.GradScaler(device.type, enabled=dtype == torch.float16)
    state = TrainState()

    # Only rank 0's folder is trusted (on a multi-node job each pod has its own disk): it decides
    # where training resumes and sends the optimizer/trainer state to the other ranks; DDP then
    # copies rank 0's weights to every rank when it wraps the model.
    # A pod that lost its disk (restart, eviction) finds its checkpoints in the store (job.mirror).
    resumed = ckpt.resume_point(out / "checkpoints", job.mirror, warn, progress.message, out / "best") \
        if env.is_main else None
    weights, saved = ckpt.load_checkpoint(resumed) if resumed is not None else (None, None)
    saved = broadcast_from_main(saved, env)
    resumed_step: int | None = None
    if saved is not None:
        if weights is not None:
            model.load_state_dict(weights)
        opt.load_state_dict(saved["optimizer"])
        sched.load_state_dict(saved["scheduler"])
        scaler.load_state_dict(saved["scaler"])
        if env.is_main:
            restore_rng(saved["rng"][0])
        state = TrainState.from_dict(saved["train"])
        resumed_step = state.step
        if resumed is not None and resumed.meta.get("config_hash") != job.config_hash:
            warn(f"resuming from a checkpoint of config {resumed.meta.get('config_hash')} (now {job.config_hash})")
        progress.message(f"resumed from {resumed.path if resumed else 'rank 0'} at step {state.step}")

    net: torch.nn.Module = DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None) \
        if env.is_distributed else model
    sink = MetricsSink(out, env.is_main)
    stream = batch_stream(data, state.epoch, state.batch_index)
    es = tcfg.early_stopping

    # Checkpoints are written in a background thread: a step waits only for the CPU copy of the
    # state (and for the previous write, if it is still going). Preemption waits for the write.
    saver = ckpt.AsyncCheckpointer(job.mirror if env.is_main else None)
    last_saved: list[int] = []

    def failed_write() -> Path:
        """What a full disk stopped: a background checkpoint write (settled first: it may be the
        write that failed, even when a later metrics write noticed), else the run folder."""
        saver.wait(raise_error=False)
        return saver.failed_dir or out

    def save(step: int, wait: bool = False) -> Path | None:
        if not env.is_main:
            return None
        path = out / "checkpoints" / f"{ckpt.PREFIX}{step:08d}"
        if last_saved[-1:] != [step]:  # a preemption right after a periodic save: just wait for it
            require_finite(model, spec.name, step, "a checkpoint")
            extra = {"optimizer": opt.state_dict(), "scheduler": sched.state_dict(), "scaler": scaler.state_dict(),
                     "rng": {0: capture_rng()}, "train": state.to_dict()}
            path = saver.save(out / "checkpoints", step, model.state_dict(), extra, job.config_hash,
                              tcfg.checkpoint.keep_last)  # raises the previous write's error, if any
            last_saved[:] = [step]
        if wait:
            saver.wait()
        while saver.notes:
            warn(saver.notes.pop(0))
        return path

    model.train()
    try:
        with disk_full_is_a_failure(failed_write):  # checkpoints, best/, metrics
            while state.step < tcfg.max_steps and not state.stopped_early:
                opt.zero_grad(set_to_none=True)
                total: torch.Tensor | None = None
                parts: dict[str, float] = {}
                for micro in range(tcfg.grad_accum):
                    state.epoch, state.batch_index, batch = next(stream)
                    sync = contextlib.nullcontext() if (micro == tcfg.grad_accum - 1 or not env.is_distributed) else net.no_sync()
                    with sync:
                        with torch.autocast(device.type, dtype=dtype) if dtype else contextlib.nullcontext():
                            loss, metrics = spec.step(net, move_to(batch, device))
                        scaled = loss if tcfg.grad_accum == 1 else loss / tcfg.grad_accum
                        (scaler.scale(scaled) if scaler.is_enabled() else scaled).backward()
                    part = loss.detach() if tcfg.grad_accum == 1 else loss.detach() / tcfg.grad_accum
                    total = part if total is None else total + part
                    parts = metrics
                state.step += 1
                assert total is not None
                # one collective per step for both flags under DDP: a non-finite loss or a stop request on any rank
                bad, stop_requested = any_rank_flags([not bool(torch.isfinite(total)), stop.should_stop(state.step)],
                                                     env, device)
                if bad:
                    handle_nonfinite(spec.name, state, tcfg, opt, sched, warn)
                else:
                    state.nonfinite_in_a_row = 0
                    if tcfg.clip_grad_norm is not None:
                        scaler.unscale_(opt)
                        torch.nn.utils.clip_grad_norm_(model.parameters(), tcfg.clip_grad_norm)
                    if scaler.is_enabled():
                        scaler.step(opt)
                        scaler.update()
                    else:
                        opt.step()
                    sched.step()
                    if spec.on_step_end is not None:
                        spec.on_step_end(model, state.step)
                log_now = state.step % tcfg.log_every == 0 or state.step == tcfg.max_steps
                if log_now:
                    info = {"train_loss": float(total), "lr": sched.get_last_lr()[0], **{f"train_{k}": float(v) for k, v in parts.items()}}
                    sink.log(state.step, info, echo=False)
                    progress.update(state.step, {"loss": info["train_loss"]}, force_line=True)
                else:
                    progress.update(state.step, {}, force_line=False)

                if state.step % tcfg.eval_every == 0 or state.step == tcfg.max_steps:
                    val = spec.evaluate(model, data, "val")
                    sink.log(state.step, val)
                    if es.metric is not None:
                        if es.metric not in val:
                            raise UsageError(f"trainer.early_stopping.metric: '{es.metric}' is not reported by "
                                             f"{spec.name}; it reports: {', '.join(sorted(val))}")
                        if is_improvement(val[es.metric], state.best_value, es.mode, es.min_delta):
                            state.best_value, state.best_step, state.bad_evals = val[es.metric], state.step, 0
                            if env.is_main:
                                require_finite(model, spec.name, state.step, "best/")
                                saver.wait()  # an upload of the previous best/ must not see this write
                                with disk_full_is_a_failure(out / "best" / ckpt.MODEL_FILE):
                                    ckpt.save_weights(out / "best" / ckpt.MODEL_FILE, model.state_dict())
                                saver.mirror(out / "best")
                        else:
                            state.bad_evals += 1
                            state.stopped_early = state.bad_evals >= es.patience
                            if state.stopped_early:
                                progress.message(f"early stop at step {state.step}: {es.metric} best "
                                                 f"{state.best_value:.4g} at step {state.best_step}")
                if state.step % tcfg.checkpoint.every == 0 or state.step == tcfg.max_steps or state.stopped_early:
                    save(state.step)
                if stop_requested and state.step < tcfg.max_steps and not state.stopped_early:
                    path = save(state.step, wait=True) or out / "checkpoints"
                    raise Preempted(state.step, path, stop.signum)
            saver.wait()  # the last checkpoint is on disk before the run goes on to read or publish
    finally:
        late = saver.wait(raise_error=False)  # never leave a write behind; the error in flight wins
        if late is not None:
            warn(f"a checkpoint write also failed: {late}")
        for note in saver.notes:
            warn(note)
        progress.close()

    barrier(env)
    if not env.is_main:
        sink.close()
        return TrainResult(state.step, {}, out / "artifact", None, resumed_step, state.stopped_early, warnings)
    best = out / "best" / ckpt.MODEL_FILE
    if es.metric is not None and best.is_file():
        model.load_state_dict(ckpt.load_weights(best))
    final = {**spec.evaluate(model, data, "val"), **spec.evaluate(model, data, "test")}
    sink.log(state.step, final)
    sink.close()
    require_finite(model, spec.name, state.step, "the artifact")
    with disk_full_is_a_failure(out / "artifact"):
        artifact = write_artifact(job, model, data, final, state, init_report.to_dict() if init_report else None)
    uri = job.publish(artifact) if job.publish else None
    return TrainResult(state.step, final, artifact, uri, resumed_step, state.stopped_early, warnings)


def write_artifact(job: TrainJob, model: torch.nn.Module, data_obj: TrainData, metrics: dict[str, float],
                   state: TrainState, init_from: dict[str, Any] | None) -> Path:
    """The folder that gets published: weights, config, metrics, model card."""
    folder = job.output_dir / "artifact"
    folder.mkdir(parents=True, exist_ok=True)
    ckpt.save_weights(folder / ckpt.MODEL_FILE, model.state_dict(), metadata={"component": job.spec.name})
    write_text_atomic(folder / "config.yaml", to_yaml(job.cfg))
    clean = {k: (v if math.isfinite(v) else str(v)) for k, v in metrics.items()}
    write_text_atomic(folder / "metrics.json", json.dumps(clean, indent=2))
    card = build_card(component=job.spec.name, phase=job.spec.phase, description=job.spec.description,
                      run_id=job.run_id, config_hash=job.config_hash, config=job.cfg.model_dump(mode="json"),
                      data=data_obj.describe(), metrics=metrics, step=state.step, best_step=state.best_step,
                      init_from=init_from, versions=package_versions())
    write_text_atomic(folder / "model_card.json", json.dumps(card, indent=2, default=str))
    write_text_atomic(folder / "model_card.md", render_card_markdown(card))
    if job.spec.export_artifact is not None:
        job.spec.export_artifact(model, data_obj, folder)
    if job.spec.figure_data is not None:
        job.spec.figure_data(model, data_obj, folder)
    history = job.output_dir / "metrics.jsonl"
    if history.is_file():  # the training curves travel with the artifact (the report reads them from the store)
        write_text_atomic(folder / "metrics.jsonl", history.read_text(encoding="utf-8"))
    return folder
