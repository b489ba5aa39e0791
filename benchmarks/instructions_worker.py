"""One variant of the instruction-count benchmark, run as its own process (under callgrind).

    python -m benchmarks.instructions_worker VARIANT [--quick]

Variants (the same workloads as benchmarks/bench_trainer.py and bench_checkpoint.py):
- trainer_raw, trainer_astrobio: the MLP of the trainer benchmark, sparse logging; the window spans
  `STEPS` whole loop iterations after `WARMUP`, from one training forward to the one `STEPS` later.
- save_none, save_async: the checkpoint benchmark's training loop, no saving or a background save
  every `save_every` steps. The window opens after the first save (so the writes overlap training
  and the snapshot reuses its buffers, as in a long run) and spans the following steps, their saves
  and the wait for the last write.

The window is marked for callgrind (benchmarks/callgrind.py); the worker also prints the window's
CPU time as one JSON line, which is all `--quick` (no callgrind) reads.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from benchmarks.callgrind import window_close, window_open

COUNTED_THREADS = {"trainer_raw": "every thread", "trainer_astrobio": "every thread",
                   "save_none": "main thread", "save_async": "main thread"}
"""Each variant and the threads its row counts: the trainer pair's work wherever it runs, the save
pair's training thread alone (the writer's work is what the save takes off that thread)."""
VARIANTS = tuple(COUNTED_THREADS)


@dataclass(frozen=True)
class Sizes:
    """Window lengths: the full run's are what the results quote; --quick only checks the plumbing."""

    warmup: int      # trainer: steps before the window
    steps: int       # trainer: whole loop iterations in the window
    width: int       # saves: the MLP width (bench_checkpoint.build)
    save_every: int  # saves: steps between two saves; the window holds steps save_every+1 .. 3*save_every


# 32 steps: two looks of the trainer's LossWatch. Width 1024 (2.1 M parameters, 24 MiB of state with
# AdamW's) rather than the checkpoint benchmark's 2048: a step of that under callgrind takes ~22 s; the
# snapshot and the step both scale with the parameter count, so the ratio does not depend on it much.
FULL = Sizes(warmup=5, steps=32, width=1024, save_every=10)
QUICK = Sizes(warmup=2, steps=6, width=256, save_every=3)


@dataclass
class Window:
    """The callgrind markers plus the window's CPU time (thread and process), taken at the markers."""

    opened: tuple[float, float] | None = None
    cpu: dict[str, float] = field(default_factory=dict)

    def open(self) -> None:
        self.opened = (time.thread_time(), time.process_time())
        window_open()

    def close(self) -> None:
        window_close()
        if self.opened is None:
            raise RuntimeError("the instruction window was closed before it was opened")
        self.cpu = {"thread_cpu_s": time.thread_time() - self.opened[0],
                    "process_cpu_s": time.process_time() - self.opened[1]}


def forward_window(window: Window, first: int, last: int) -> Callable[[torch.nn.Module], None]:
    """A `prepare` hook for bench_trainer's loops: opens the window at the `first` training forward
    and closes it at the `last` one (eval-mode forwards are not steps and are not counted)."""
    def prepare(model: torch.nn.Module) -> None:
        seen = [0]

        def hook(module: torch.nn.Module, args: Any) -> None:
            if not module.training:
                return
            seen[0] += 1
            if seen[0] == first:
                window.open()
            elif seen[0] == last:
                window.close()

        model.register_forward_pre_hook(hook)
    return prepare


def run_variant(variant: str, sizes: Sizes) -> dict[str, Any]:
    """Run `variant` once with its window marked; its steps and the window's CPU time."""
    window = Window()
    if variant.startswith("trainer_"):
        from benchmarks.bench_trainer import astrobio_loop, config, raw_loop

        cfg = config(sizes.warmup + sizes.steps + 1, defaults=False)
        cfg = cfg.model_copy(update={"trainer": cfg.trainer.model_copy(update={"device": "cpu"})})  # as the raw loop
        prepare = forward_window(window, sizes.warmup + 1, sizes.warmup + sizes.steps + 1)
        if variant == "trainer_raw":
            raw_loop(cfg, torch.device("cpu"), prepare)
        else:
            astrobio_loop(cfg, prepare)
        steps = sizes.steps
    else:
        from benchmarks.bench_checkpoint import training_with_saves

        with tempfile.TemporaryDirectory(prefix="bench-instr-") as tmp:
            training_with_saves(sizes.width, 3 * sizes.save_every, sizes.save_every, variant.removeprefix("save_"),
                                Path(tmp), window=(window.open, window.close), window_from=sizes.save_every + 1)
        steps = 2 * sizes.save_every
    if not window.cpu:
        raise RuntimeError(f"{variant}: the instruction window never closed")
    return {"variant": variant, "steps": steps, **window.cpu}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.instructions_worker", description=__doc__.splitlines()[0])
    parser.add_argument("variant", choices=VARIANTS)
    parser.add_argument("--quick", action="store_true", help="tiny sizes (plumbing only)")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)  # one thread: callgrind serialises threads anyway, and no pool spins in the window
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    print(json.dumps(run_variant(args.variant, QUICK if args.quick else FULL)), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
