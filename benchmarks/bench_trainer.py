"""Trainer step overhead: astrobio's loop vs a hand-written minimal loop vs a Lightning Trainer.

Same model (benchmarks/mlp.py, ~3 ms/step on one CPU thread), same precomputed batches, same
AdamW + LambdaLR schedule, same gradient clipping (norm 1.0), same process. The step clock is the
model's own forward: time between consecutive forward calls is one whole loop iteration, so fixed
costs (building, final evaluation, artifact writing) drop out and each framework's per-step
bookkeeping -- including periodic logging/evaluation/checkpointing -- is what differs.

Two clocks per step: wall time (the reported figure) and the process's CPU time (every thread), which
a machine shared with other work disturbs far less. Each ratio comes with a 95% bootstrap interval of
the median of its per-round ratios (one round runs every variant once, in rotating order).

Two settings:
- sparse: astrobio with eval/log/checkpoint intervals beyond max_steps; Lightning with logger,
  checkpointing, progress bar and model summary off. Goal: astrobio <= 1.02 x raw, faster than Lightning.
- defaults: astrobio's default intervals (log 10, eval 50, checkpoint 50 keeping 3, TensorBoard +
  metrics.jsonl); Lightning with its defaults (TensorBoard logger, progress bar) set to the same
  intervals (log_every_n_steps=10, validation every 50 steps, ModelCheckpoint every 50 steps).
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import random
import statistics
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from astrobio.trainer import StopFlag, TrainingRun, train
from astrobio.trainer.distributed import DistEnv
from astrobio.trainer.rng import seed_everything
from astrobio.trainer.schedule import build_optimizer, build_scheduler
from benchmarks.common import Options, Result, Row, interleave, med
from benchmarks.mlp import MLP, SPEC, MLPConfig, MLPData, steady_step_clocks

SEED = 0
Clocks = tuple[float, float]  # (wall, CPU) seconds per steady step
Prepare = Callable[[MLP], None] | None  # called on the freshly built model (benchmarks/bench_instructions.py marks its window)


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


def raw_loop(cfg: MLPConfig, device: torch.device, prepare: Prepare = None) -> Clocks:
    """What a researcher writes: zero_grad, forward, backward, clip, step, schedule."""
    seed_everything(SEED, cfg.trainer.deterministic)
    data = MLPData(cfg)
    model = MLP(cfg).to(device)
    if prepare is not None:
        prepare(model)
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
    return steady_step_clocks(model)


def astrobio_loop(cfg: MLPConfig, prepare: Prepare = None) -> Clocks:
    models: list[MLP] = []

    def build_model(c: MLPConfig, data: MLPData) -> MLP:
        models.append(MLP(c))
        if prepare is not None:
            prepare(models[-1])
        return models[-1]

    spec = SPEC.__class__(**{**SPEC.__dict__, "build_model": build_model})
    with tempfile.TemporaryDirectory(prefix="bench-trainer-") as out, silenced():
        train(TrainingRun(spec=spec, cfg=cfg, seed=SEED, output_dir=Path(out), run_id="bench", config_hash="bench"),
              DistEnv(), StopFlag())
    return steady_step_clocks(models[0])


def lightning_loop(cfg: MLPConfig, device: torch.device, defaults: bool) -> Clocks:
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
    return steady_step_clocks(module.model)


class _Loop:
    """An endless-enough iterable of the precomputed batches, with a length (Lightning wants one for epochs)."""

    def __init__(self, batches: list[dict[str, torch.Tensor]]) -> None:
        self.batches = batches

    def __iter__(self):
        return iter(self.batches)

    def __len__(self) -> int:
        return len(self.batches)


def ratio_interval(a: list[float], b: list[float], draws: int = 2000) -> tuple[float, float, float]:
    """Median of the per-round ratios a_i / b_i and its 95% bootstrap interval (fixed seed)."""
    ratios = [x / y for x, y in zip(a, b)]
    rng = random.Random(SEED)
    meds = sorted(statistics.median(rng.choices(ratios, k=len(ratios))) for _ in range(draws))
    return statistics.median(ratios), meds[int(0.025 * draws)], meds[int(0.975 * draws) - 1]


def compare(variants: dict[str, Callable[[], Clocks]], repeats: int, quick: bool, scale: float,
            peers: list[str]) -> dict[str, Any]:
    """Interleaved runs of `variants`: per clock, the median step (in 1/`scale` s) of each variant,
    every sample, and astrobio's ratio to each of `peers` with its interval."""
    samples = interleave(variants, repeats, warmup=0 if quick else 1)  # type: ignore[arg-type]
    out: dict[str, Any] = {}
    for i, clock in enumerate(("wall", "cpu")):
        per = {k: [v[i] for v in vs] for k, vs in samples.items()}
        out[clock] = {"median": {k: med(v) * scale for k, v in per.items()},
                      "samples": {k: [x * scale for x in v] for k, v in per.items()},
                      "ratio": {p: dict(zip(("median", "low95", "high95"), ratio_interval(per["astrobio"], per[p])))
                                for p in peers}}
    return out


def ratio_note(found: dict[str, Any], peer: str) -> str:
    parts = []
    for clock in ("wall", "cpu"):
        r = found[clock]["ratio"][peer]
        parts.append(f"{clock} x{r['median']:.3f} [{r['low95']:.3f}, {r['high95']:.3f}]")
    return "median of per-round ratios, 95% CI: " + "; ".join(parts)


def run(opts: Options) -> Result:
    device = torch.device(opts.device)
    steps, repeats = (40, 1) if opts.quick else (400, 11)
    rows: list[Row] = []
    details: dict[str, Any] = {"model": "MLP 256-512-512-10, batch 64, AdamW, clip 1.0", "steps_per_run": steps,
                               "repeats": repeats, "torch_threads": torch.get_num_threads(), "device": opts.device,
                               "method": "mean wall and process CPU time between consecutive forward calls after 5 "
                                         "warm-up steps; variants interleaved in rotating order; median over repeats; "
                                         "ratio: median of per-round ratios with a 95% bootstrap interval"}
    for defaults in (False, True):
        cfg = config(steps, defaults)
        variants = {"raw": lambda: raw_loop(cfg, device), "astrobio": lambda: astrobio_loop(cfg),
                    "lightning": lambda: lightning_loop(cfg, device, defaults)}
        if defaults:
            variants.pop("raw")
        key = "defaults" if defaults else "sparse"
        found = details[key] = compare(variants, repeats, opts.quick, 1e3, [p for p in ("raw", "lightning") if p in variants])
        ms = found["wall"]["median"]
        if not defaults:
            rows.append(Row("step, sparse logging vs raw loop", ms["astrobio"], ms["raw"], "ms", "raw loop",
                            goal="<= 1.02", met=ms["astrobio"] / ms["raw"] <= 1.02, note=ratio_note(found, "raw")))
        rows.append(Row(f"step, {key} logging vs Lightning", ms["astrobio"], ms["lightning"], "ms", "Lightning 2.6",
                        goal="< 1.0", met=ms["astrobio"] < ms["lightning"], note=ratio_note(found, "lightning")))
    # The loop's own bookkeeping in absolute terms: a model so small (16-16-16-10, batch 8) that a
    # step is ~0.3 ms, so the difference to the raw loop is nearly all per-step overhead.
    tiny = MLPConfig.model_validate({"in_dim": 16, "hidden": 16, "batch_size": 8,
                                     "trainer": config(150 if opts.quick else 1500, False).trainer.model_dump()})
    found = details["tiny"] = compare({"raw": lambda: raw_loop(tiny, device), "astrobio": lambda: astrobio_loop(tiny)},
                                      repeats, opts.quick, 1e6, ["raw"])
    details["tiny"]["model"] = "MLP 16-16-16-10, batch 8"
    us, cpu = found["wall"]["median"], found["cpu"]["median"]
    rows.append(Row("step, tiny model (loop bookkeeping)", us["astrobio"], us["raw"], "us", "raw loop", goal="report",
                    note=f"overhead {us['astrobio'] - us['raw']:.0f} us/step wall, {cpu['astrobio'] - cpu['raw']:.0f} "
                         f"us/step CPU; {ratio_note(found, 'raw')}"))
    return Result("trainer_overhead", rows, details)
