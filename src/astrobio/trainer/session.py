"""What one `train()` call builds and carries from step to step (`Session`), and the three steps
that make it: `prepare` (device, seeds, data, model, optimizer), `restore` (rank 0's checkpoint)
and `begin` (DDP wrapper, metrics, data stream at the restored position, the non-finite watch)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import torch
from torch.nn.parallel import DistributedDataParallel

from astrobio.sections import ComponentConfig, TrainerConfig
from astrobio.errors import UsageError
from astrobio.spec import ComponentSpec, TrainData
from astrobio.trainer.checkpoint import load_checkpoint
from astrobio.trainer.distributed import DistEnv, broadcast_from_main, init_process_group, pick_device
from astrobio.trainer.training_run import TrainingRun
from astrobio.trainer.metrics import MetricsSink
from astrobio.trainer.nonfinite import LossWatch, loss_watch
from astrobio.trainer.pretrained import WeightsReport, apply_init_from
from astrobio.trainer.progress import ProgressReporter
from astrobio.trainer.resume import resume_point
from astrobio.trainer.rng import restore_rng, seed_everything
from astrobio.trainer.schedule import build_optimizer, build_scheduler
from astrobio.trainer.state import TrainState, batch_stream


@dataclass
class Session:
    """One training run in progress: what the named steps of the loop read and change."""

    job: TrainingRun
    env: DistEnv
    device: torch.device
    dtype: torch.dtype | None                  # autocast dtype, None without AMP
    progress: ProgressReporter
    data: TrainData
    model: torch.nn.Module
    init_report: WeightsReport | None          # what init_from loaded, for the model card
    opt: torch.optim.Optimizer
    sched: torch.optim.lr_scheduler.LambdaLR
    scaler: torch.amp.GradScaler
    state: TrainState = field(default_factory=TrainState)
    resumed_from: int | None = None
    warnings: list[str] = field(default_factory=list)
    watch: LossWatch | None = None             # deferred non-finite check (nan_policy=stop, one process)
    net: torch.nn.Module = field(init=False)   # the model, or its DDP wrapper (begin)
    sink: MetricsSink = field(init=False)      # opened by begin, after restore
    stream: Iterator[tuple[int, int, Any]] = field(init=False)

    # Read several times every step: cached on first use (a run's job does not change while it trains).
    @cached_property
    def spec(self) -> ComponentSpec:
        return self.job.spec

    @cached_property
    def cfg(self) -> ComponentConfig:
        return self.job.cfg

    @cached_property
    def tcfg(self) -> TrainerConfig:
        return self.job.cfg.trainer

    @property
    def out(self) -> Path:
        return self.job.output_dir

    @property
    def done(self) -> bool:
        return self.state.step >= self.tcfg.max_steps or self.state.stopped_early

    def warn(self, msg: str) -> None:
        """Kept for the result (the CLI prints them) and shown now."""
        self.warnings.append(msg)
        self.progress.message(f"warning: {msg}")

    def next_batch(self) -> Any:
        """The next training batch; the data position moves with it (it is checkpointed)."""
        self.state.epoch, self.state.batch_index, batch = next(self.stream)
        return batch


def amp_dtype(setting: str, device: torch.device) -> torch.dtype | None:
    if setting == "off" or (setting == "auto" and device.type != "cuda"):
        return None
    if device.type != "cuda":
        raise UsageError(f"trainer.amp: '{setting}' needs a GPU; use 'auto' or 'off' on CPU")
    return torch.float16 if setting == "fp16" else torch.bfloat16


def prepare(job: TrainingRun, env: DistEnv) -> Session:
    """Device, process group, seeds, data, model (with init_from), optimizer, schedule, scaler."""
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
    progress = ProgressReporter(tcfg.max_steps, 0, spec.name, env.is_main)
    data = spec.build_data(cfg, env.rank, env.world_size, job.output_dir / "cache")
    model = spec.build_model(cfg, data)
    init_report = apply_init_from(model, Path(cfg.init_from), cfg.init_strict) if cfg.init_from else None
    if init_report is not None:
        progress.message(init_report.render())
    model.to(device)
    opt = build_optimizer(model, cfg.optim)
    sched = build_scheduler(opt, cfg.optim, tcfg.max_steps)
    scaler = torch.amp.GradScaler(device.type, enabled=dtype == torch.float16)
    return Session(job, env, device, dtype, progress, data, model, init_report, opt, sched, scaler)


def restore(s: Session) -> None:
    """Resume from the newest valid checkpoint, if there is one.

    Only rank 0's folder is trusted (on a multi-node job each pod has its own disk): it decides
    where training resumes and sends the optimizer/trainer state to the other ranks; DDP then
    copies rank 0's weights to every rank when it wraps the model (begin). A pod that lost its disk
    (restart, eviction) finds its checkpoints in the store (job.mirror).
    """
    out = s.out
    resumed = resume_point(out / "checkpoints", s.job.mirror, s.warn, s.progress.message, out / "best") \
        if s.env.is_main else None
    weights, saved = load_checkpoint(resumed) if resumed is not None else (None, None)
    saved = broadcast_from_main(saved, s.env)
    if saved is None:
        return
    if weights is not None:
        s.model.load_state_dict(weights)
    s.opt.load_state_dict(saved["optimizer"])
    s.sched.load_state_dict(saved["scheduler"])
    s.scaler.load_state_dict(saved["scaler"])
    if s.env.is_main:
        restore_rng(saved["rng"][0])
    s.state = TrainState.from_dict(saved["train"])
    s.resumed_from = s.state.step
    if resumed is not None and resumed.meta.get("config_hash") != s.job.config_hash:
        s.warn(f"resuming from a checkpoint of config {resumed.meta.get('config_hash')} (now {s.job.config_hash})")
    s.progress.message(f"resumed from {resumed.path if resumed else 'rank 0'} at step {s.state.step}")


def begin(s: Session) -> None:
    """Wrap the model for DDP (which copies rank 0's weights to every rank), open the metrics sinks,
    and start the data stream where the restored state left it."""
    if s.env.is_distributed:
        s.net = DistributedDataParallel(s.model, device_ids=[s.device.index] if s.device.type == "cuda" else None)
    else:
        s.net = s.model
    s.sink = MetricsSink(s.out, s.env.is_main)
    s.watch = loss_watch(s.tcfg, s.env.is_distributed)
    s.stream = batch_stream(s.data, s.state.epoch, s.state.batch_index)
