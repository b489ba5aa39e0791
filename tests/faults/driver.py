"""A real training process for the fault suite: the toy component through `astrobio.trainer.train`.

`python -m tests.faults.driver OUT --steps N [fault]` trains like `astrobio train` does (same
SIGTERM handler, same error-to-exit-code mapping via `guarded`) and can do one fault to itself:

  --kill-after-step K        SIGKILL right after optimizer step K (before its checkpoint)
  --kill-in-write S MODE     SIGKILL inside the write of checkpoint S: MODE `before-rename` (temp
                             folder complete, not yet renamed) or `mid-file` (state.pt half written)
  --enospc-at-step S         the write of checkpoint S's state.pt fails with ENOSPC half-way (injected)
  --fill-disk-at-step S F    after step S, fill the disk by writing file F until the kernel says
                             ENOSPC (for a small real filesystem, e.g. a tmpfs mounted by the test)

  --print-steps              print `step N` (flushed) after every optimizer step, for an outside
                             killer that must know how far the run got
  --step-sleep SEC           sleep SEC after every step (a realistic step time for the toy model)

It prints `resumed from ... at step X` (the trainer's own line) and, at the end, `done step N`;
like `astrobio train`, it checkpoints and stops when its output's reader goes away.
The toy component cannot go through `astrobio train`, whose config schema lists the real
components only; everything after config parsing is the same code.
"""

from __future__ import annotations

import argparse
import dataclasses
import errno
import io
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from astrobio.cli.guard import guarded
from astrobio.cli.local_launch import install_stop_handler
from astrobio.cli.output_closed import stop_when_output_closes
from astrobio.trainer import StopFlag, TrainingRun, train
from astrobio.trainer import checkpoint as ckpt
from astrobio.trainer.distributed import DistEnv
from tests.toy_component import SPEC, ToyConfig

real_torch_save = torch.save


def die() -> None:
    sys.stderr.flush()
    os.kill(os.getpid(), signal.SIGKILL)


def in_checkpoint_tmp(target: Any, step: int) -> Path | None:
    """`target` (a path or an open file) as a Path when it lies in the temp folder of checkpoint `step`."""
    name = target if isinstance(target, (str, os.PathLike)) else getattr(target, "name", None)
    if not isinstance(name, (str, os.PathLike)):
        return None
    path = Path(name)
    prefix = f".tmp-{ckpt.PREFIX}{step:08d}"
    return path if path.name.startswith(prefix) or path.parent.name.startswith(prefix) else None


def write_half(obj: Any, target: Any) -> None:
    """What torch.save would write to `target`, cut off half-way, as a crash or a full disk leaves it."""
    buffer = io.BytesIO()
    real_torch_save(obj, buffer)
    data = buffer.getvalue()[: len(buffer.getvalue()) // 2]
    if hasattr(target, "write"):
        target.write(data)
        target.flush()
    else:
        Path(target).write_bytes(data)


def patch_state_write(step: int, after_half: Callable[[Path], None]) -> None:
    """The state file of checkpoint `step` (torch.save, however checkpoint.py calls it) is written
    half-way, then `after_half(path)` runs (die, or raise ENOSPC). This process is only a training
    run, so patching the function for the whole process is the simplest way to reach the real write."""
    def save(obj: Any, f: Any, *args: Any, **kwargs: Any) -> None:
        path = in_checkpoint_tmp(f, step)
        if path is None:
            real_torch_save(obj, f, *args, **kwargs)
            return
        write_half(obj, f)
        after_half(path)

    torch.save = save


def patch_rename(step: int) -> None:
    """Die when the complete temp folder of checkpoint `step` is about to be renamed into place."""
    real_replace = os.replace

    def replace(src: Any, dst: Any, *args: Any, **kwargs: Any) -> None:
        path = in_checkpoint_tmp(src, step)
        if path is not None and path.is_dir():
            die()
        real_replace(src, dst, *args, **kwargs)

    os.replace = replace


def enospc(path: Path) -> None:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))


def fill_disk(filler: Path, after: Path) -> None:
    """Fill the disk once checkpoint `after` is on it: the previous checkpoint is written in the
    background, and on a loaded machine it may still be in flight when the fault step comes; the
    fault this driver stages is the disk filling up during the *next* checkpoint."""
    deadline = time.monotonic() + 60
    while not after.is_dir() and time.monotonic() < deadline:
        time.sleep(0.02)
    chunk = b"\0" * 65536
    with open(filler, "wb") as fh:
        try:
            while True:
                fh.write(chunk)
                fh.flush()
        except OSError as exc:
            if exc.errno != errno.ENOSPC:
                raise
    print(f"driver: filled the disk with {filler}", file=sys.stderr, flush=True)


def parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m tests.faults.driver")
    p.add_argument("out", type=Path)
    p.add_argument("--steps", type=int, required=True)
    p.add_argument("--every", type=int, default=5, help="checkpoint every")
    p.add_argument("--keep", type=int, default=1000, help="checkpoints kept")
    p.add_argument("--log-every", type=int, default=1000)
    p.add_argument("--eval-every", type=int, default=1000)
    p.add_argument("--kill-after-step", type=int)
    p.add_argument("--kill-in-write", nargs=2, metavar=("STEP", "MODE"))
    p.add_argument("--enospc-at-step", type=int)
    p.add_argument("--fill-disk-at-step", nargs=2, metavar=("STEP", "FILE"))
    p.add_argument("--print-steps", action="store_true")
    p.add_argument("--step-sleep", type=float, default=0.0)
    p.add_argument("--debug", action="store_true")
    return p.parse_args(argv)


def main(argv: list[str]) -> None:
    args = parse(argv)
    torch.set_num_threads(1)
    hooks: list[Callable[[int], None]] = []
    if args.step_sleep:
        hooks.append(lambda _step: time.sleep(args.step_sleep))
    if args.print_steps:
        hooks.append(lambda step: print(f"step {step}", file=sys.stderr, flush=True))
    if args.kill_after_step is not None:
        hooks.append(lambda step: die() if step == args.kill_after_step else None)
    if args.fill_disk_at_step is not None:
        at, filler = int(args.fill_disk_at_step[0]), Path(args.fill_disk_at_step[1])
        previous = args.out / "checkpoints" / f"step-{(at - 1) // args.every * args.every:08d}"
        hooks.append(lambda step: fill_disk(filler, after=previous) if step == at else None)

    def on_step_end(_model: Any, step: int) -> None:
        for hook in hooks:
            hook(step)

    spec = dataclasses.replace(SPEC, on_step_end=on_step_end)
    if args.kill_in_write is not None:
        at, mode = int(args.kill_in_write[0]), args.kill_in_write[1]
        patch_rename(at) if mode == "before-rename" else patch_state_write(at, lambda _path: die())
    if args.enospc_at_step is not None:
        patch_state_write(args.enospc_at_step, enospc)
    trainer = {"max_steps": args.steps, "eval_every": args.eval_every, "log_every": args.log_every,
               "checkpoint": {"every": args.every, "keep_last": args.keep}}
    cfg = ToyConfig.model_validate({"trainer": trainer, "optim": {"lr": 0.01}})
    job = TrainingRun(spec=spec, cfg=cfg, seed=3, output_dir=args.out, run_id="fault", config_hash="toy")
    stop = StopFlag()
    install_stop_handler(stop)

    def body() -> None:
        with stop_when_output_closes(stop):
            result = train(job, DistEnv.from_env(os.environ), stop)
            print(f"done step {result.step}", file=sys.stderr, flush=True)

    guarded(body, args.debug)



# --- used by the tests that run this driver -------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]
CHILD_ENV = {**os.environ, "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1"}


def command(out: Path, steps: int, *extra: str) -> list[str]:
    return [sys.executable, "-m", "tests.faults.driver", str(out), "--steps", str(steps), *extra]


def run_driver(out: Path, steps: int, *extra: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run the driver to completion (or to its fault) and capture what it printed."""
    return subprocess.run(command(out, steps, *extra), cwd=ROOT, env=CHILD_ENV, capture_output=True, text=True,
                          timeout=timeout)


def resumed_step(stderr: str) -> int | None:
    """The step the trainer said it resumed from, None when it started from scratch."""
    found = re.search(r"^resumed from \S+ at step (\d+)$", stderr, re.MULTILINE)
    return int(found.group(1)) if found else None


if __name__ == "__main__":
    main(sys.argv[1:])
