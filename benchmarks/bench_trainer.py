"""Trainer step overhead: astrobio's loop vs a hand-written minimal loop vs a Lightning Trainer.

Same model (benchmarks/mlp.py, ~3 ms/step on one CPU thread), same precomputed batches, same
AdamW + LambdaLR schedule, same gradient clipping (norm 1.0), same process. The step clock is the
model's own forward: time between consecutive forward calls is one whole loop iteration, so fixed
costs (building, final evaluation, artifact writing) drop out and each framework's per-step
bookkeeping -- including periodic logging/evaluation/checkpointing -- is what differs.

Two settings:
- sparse: astrobio with eval/log/checkpoint intervals beyond max_steps; Lightning with logger,
  checkpointing, progress bar and model summary off. Goal: astrobio <= 1.03 x raw, faster than Lightning.
- defaults: astrobio's default intervals (log 10, eval 50, checkpoint 50 keeping 3, TensorBoard +
  metrics.jsonl); Lightning with its defaults (TensorBoard logger, progress bar) set to the same
  intervals (log_every_n_steps=10, validation every 50 steps, ModelCheckpoint every 50 steps).
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import tempfile
import warnings
from pathlib import Path
from typing import Any

import torch

from astrobio.trainer import StopFlag, TrainingRun, train
from astrobio.trainer.distributed import DistEnv
from astrobio.trainer.rng import seed_everything
from astrobio.trainer.schedule import build_optimizer, build_scheduler
from benchmarks.common import Options, Result, Row, interleave, med
from benchmarks.mlp import MLP, SPEC, MLPConfig, MLPData, steady_step_seconds

SEED = 0


def config(steps: int, defaults: bool) -> MLPConfig:
    trainer: dict[str, Any] = {"max_steps": steps, "device": "auto", "amp": "off"}
    if not defaults:
        trainer.update(eval_every=10**7, log_every=10**7, checkpoint={"every": 10**7})
    return MLPConfig.model_validate({"trainer": trainer})


@contextlib.contextmanager
def silenced():
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def raw_loop(cfg: MLPConfig, device: torch.device) -> float:
    """What a researcher writes: zero_grad, forward, backward, clip, step, schedule."""
    seed_everything(SEED, cfg.trainer.deterministic)
    data = MLPData(cfg)
    model = MLP(cfg).to(device)
    opt = build_optimizer(model, cfg.optim)
    sched = build_scheduler(opt, cfg.optim, cfg.trainer.max_steps)
    model.train()
    done = 0
    while done < cfg.trainer.max_steps:
        for batch in data.batches(0):
            batch = {k: v.to(device) for k, v in batch.items()}
            opt.zero_grad(set_to_none=True)
            loss = model(batch)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.trainer.clip_grad_norm)
            opt.step()
            sched.step()
            done += 1
            if done == cfg.trainer.max_steps:
                break
    if device.type == "cuda":
        torch.cuda.synchronize()
    return steady_step_seconds(model.stamps)


def astrobio_loop(cfg: MLPConfig) -> float:
    models: list[MLP] = []
    spec = SPEC.__class__(**{**SPEC.__dict__, "build_model": lambda c, d: models.append(MLP(c)) or models[-1]})
    with tempfile.TemporaryDirectory(prefix="bench-trainer-") as out, silenced():
        train(TrainingRun(spec=spec, cfg=cfg, seed=SEED, output_dir=Path(out), run_id="bench", config_hash="bench"),
              DistEnv(), StopFlag())
    return steady_step_seconds(models[0].stamps)


def lightning_loop(cfg: MLPConfig, device: torch.device, defaults: bool) -> float:
    import lightning as L

    class Module(L.LightningModule):
        def __init__(self) -> None:
            super().__init__()
            self.model = MLP(cfg)

        def training_step(self, batch, batch_idx):
            loss = self.model(batch)
            if defaults:
                self.log("train_loss", loss)
            return loss

        def validation_step(self, batch, batch_idx):
            self.log("val_loss", self.model(batch))

        def configure_optimizers(self):
            opt = build_optimizer(self.model, cfg.optim)
            sched = build_scheduler(opt, cfg.optim, cfg.trainer.max_steps)
            return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}

    seed_everything(SEED, cfg.trainer.deterministic)
    data = MLPData(cfg)
    module = Module()
    accel = "gpu" if device.type == "cuda" else "cpu"
    with tempfile.TemporaryDirectory(prefix="bench-lightning-") as out, silenced():
        logging.getLogger("lightning").setLevel(logging.ERROR)
        logging.getLogger("lightning.pytorch").setLevel(logging.ERROR)
        common = dict(max_steps=cfg.trainer.max_steps, accelerator=accel, devices=1, gradient_clip_val=cfg.trainer.clip_grad_norm,
                      default_root_dir=out, num_sanity_val_steps=0, deterministic=cfg.trainer.deterministic)
        if defaults:
            from lightning.pytorch.callbacks import ModelCheckpoint

            trainer = L.Trainer(**common, log_every_n_steps=cfg.trainer.log_every, val_check_interval=cfg.trainer.eval_every,
                                check_val_every_n_epoch=None,
                                callbacks=[ModelCheckpoint(dirpath=os.path.join(out, "ckpt"), every_n_train_steps=cfg.trainer.checkpoint.every,
                                                           save_top_k=-1)])
            trainer.fit(module, train_dataloaders=_Loop(data.train_batches), val_dataloaders=_Loop([data.val]))
        else:
            trainer = L.Trainer(**common, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                                enable_model_summary=False, limit_val_batches=0)
            trainer.fit(module, train_dataloaders=_Loop(data.train_batches))
    return steady_step_seconds(module.model.stamps)


class _Loop:
    """An endless-enough iterable of the precomputed batches, with a length (Lightning wants one for epochs)."""

    def __init__(self, batches: list[dict[str, torch.Tensor]]) -> None:
        self.batches = batches

    def __iter__(self):
        return iter(self.batches)

    def __len__(self) -> int:
        return len(self.batches)


def run(opts: Options) -> Result:
    device = torch.device(opts.device)
    steps, repeats = (40, 1) if opts.quick else (400, 11)
    rows: list[Row] = []
    details: dict[str, Any] = {"model": "MLP 256-512-512-10, batch 64, AdamW, clip 1.0", "steps_per_run": steps,
                               "repeats": repeats, "torch_threads": torch.get_num_threads(), "device": opts.device,
                               "method": "mean time between consecutive forward calls after 5 warm-up steps; "
                                         "variants interleaved in rotating order; median over repeats"}
    for defaults in (False, True):
        cfg = config(steps, defaults)
        variants = {"raw": lambda: raw_loop(cfg, device), "astrobio": lambda: astrobio_loop(cfg),
                    "lightning": lambda: lightning_loop(cfg, device, defaults)}
        if defaults:
            variants.pop("raw")
        samples = interleave(variants, repeats, warmup=0 if opts.quick else 1)
        ms = {k: med(v) * 1e3 for k, v in samples.items()}
        key = "defaults" if defaults else "sparse"
        details[key] = {"step_ms_median": ms, "step_ms_samples": {k: [x * 1e3 for x in v] for k, v in samples.items()}}
        if not defaults:
            rows.append(Row("step, sparse logging vs raw loop", ms["astrobio"], ms["raw"], "ms", "raw loop",
                            goal="<= 1.03", met=ms["astrobio"] / ms["raw"] <= 1.03))
        rows.append(Row(f"step, {key} logging vs Lightning", ms["astrobio"], ms["lightning"], "ms", "Lightning 2.6",
                        goal="< 1.0", met=ms["astrobio"] < ms["lightning"]))
    # The loop's own bookkeeping in absolute terms: a model so small (16-16-16-10, batch 8) that a
    # step is ~0.3 ms, so the difference to the raw loop is nearly all per-step overhead.
    tiny = MLPConfig.model_validate({"in_dim": 16, "hidden": 16, "batch_size": 8,
                                     "trainer": config(150 if opts.quick else 1500, False).trainer.model_dump()})
    samples = interleave({"raw": lambda: raw_loop(tiny, device), "astrobio": lambda: astrobio_loop(tiny)}, repeats,
                         warmup=0 if opts.quick else 1)
    us = {k: med(v) * 1e6 for k, v in samples.items()}
    details["tiny"] = {"model": "MLP 16-16-16-10, batch 8", "step_us_median": us,
                       "overhead_us": us["astrobio"] - us["raw"],
                       "step_us_samples": {k: [x * 1e6 for x in v] for k, v in samples.items()}}
    rows.append(Row("step, tiny model (loop bookkeeping)", us["astrobio"], us["raw"], "us", "raw loop", goal="report",
                    note=f"overhead {us['astrobio'] - us['raw']:.0f} us/step"))
    return Result("trainer_overhead", rows, details)
