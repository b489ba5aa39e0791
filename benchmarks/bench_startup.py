"""Start-up: what a person typing a command, and every tuning trial or pipeline step, pays first.

Four subprocesses, interleaved (rotating order, many repetitions) so a load spike hits each alike:
- `astrobio --help` and `astrobio components`: goal < 1 s each (issue #19 item 4; nothing heavy is
  imported on these paths, which tests/test_cli_imports.py proves by module list, not by clock);
- a 100-step causal `astrobio train` at smoke size (the tuning benchmark's trial) vs a bare
  `python -c "import torch"`, the floor of any subprocess-per-trial tuner: goal <= 1.5x;
- reported beside it, the floor of any loop that uses torch.optim: `import torch` plus one AdamW
  built and zeroed (torch.optim's `_disable_dynamo` wrappers import `torch._dynamo` on the first
  method call, which a bare `import torch` never pays).
The load average before and after is recorded: on a loaded 2-core machine the absolute figures
(not the ratio) drift, and a run to compare against the goals wants an idle machine.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from benchmarks.common import Options, Result, Row, interleave, med, quiet_env

HELP_GOAL_S = 1.0
TRAIN_GOAL_RATIO = 1.5


def wall(cmd: Sequence[str], cwd: Path, env: dict[str, str]) -> float:
    """Seconds `cmd` takes as a fresh process; a failure is an error, not a fast sample."""
    t0 = time.perf_counter()
    done = subprocess.run(list(cmd), cwd=cwd, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({done.returncode}): {done.stderr[-2000:]}")
    return seconds


def train_100_steps(folder: Path, env: dict[str, str]) -> Callable[[], float]:
    """A 100-step causal `astrobio train` (smoke settings, fresh output folder per call): the
    tuning benchmark's trial. 100 steps because the first NOTEARS dual update makes the h_last
    buffer finite; the trainer refuses to checkpoint a model holding an inf buffer."""
    from benchmarks.bench_tune import tune_config

    cfg = tune_config(folder, 100, 1, "none")
    count = [0]

    def trial() -> float:
        count[0] += 1
        return wall([sys.executable, "-m", "astrobio", "train", "--component", "causal", "--config", str(cfg),
                     "--output", str(folder / f"startup-{count[0]}")], folder, env)
    return trial


def bare_torch(folder: Path, env: dict[str, str]) -> Callable[[], float]:
    return lambda: wall([sys.executable, "-c", "import torch"], folder, env)


_OPTIM_FLOOR = "import torch; torch.optim.AdamW([torch.zeros(1, requires_grad=True)]).zero_grad()"


def samples(folder: Path, repeats: int) -> dict[str, list[float]]:
    env = quiet_env()
    cli = [sys.executable, "-m", "astrobio"]
    variants = {"astrobio_help": lambda: wall([*cli, "--help"], folder, env),
                "astrobio_components": lambda: wall([*cli, "components"], folder, env),
                "astrobio_train_100_steps": train_100_steps(folder, env),
                "python_import_torch": bare_torch(folder, env),
                "python_import_torch_adamw": lambda: wall([sys.executable, "-c", _OPTIM_FLOOR], folder, env)}
    return interleave(variants, repeats, warmup=1)


def run(opts: Options) -> Result:
    repeats = 2 if opts.quick else 15
    load_before = [round(x, 2) for x in os.getloadavg()]
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
        got = samples(Path(tmp), repeats)
    load_after = [round(x, 2) for x in os.getloadavg()]
    m = {k: med(v) for k, v in got.items()}
    rows = [Row("astrobio --help", m["astrobio_help"], None, "s", goal=f"< {HELP_GOAL_S:g} s",
                met=m["astrobio_help"] < HELP_GOAL_S),
            Row("astrobio components", m["astrobio_components"], None, "s", goal=f"< {HELP_GOAL_S:g} s",
                met=m["astrobio_components"] < HELP_GOAL_S),
            Row("100-step causal astrobio train vs bare import torch", m["astrobio_train_100_steps"],
                m["python_import_torch"], "s", "python -c 'import torch'", goal=f"<= {TRAIN_GOAL_RATIO:g}x",
                met=m["astrobio_train_100_steps"] / m["python_import_torch"] <= TRAIN_GOAL_RATIO),
            Row("100-step causal astrobio train vs import torch + one AdamW", m["astrobio_train_100_steps"],
                m["python_import_torch_adamw"], "s", "torch.optim floor", goal="report",
                note=f"the AdamW floor is {m['python_import_torch_adamw'] / m['python_import_torch']:.2f}x a bare "
                     "import torch (torch._dynamo)")]
    ratios = [a / b for a, b in zip(got["astrobio_train_100_steps"], got["python_import_torch"])]
    details = {"repeats": repeats, "median_s": m, "samples_s": got,
               "train_over_torch_per_round": ratios,
               "spread_s": {k: [min(v), max(v)] for k, v in got.items()},
               "torch_optim_floor_command": f"python -c {_OPTIM_FLOOR!r}",
               "loadavg_before": load_before, "loadavg_after": load_after,
               "workload": "causal smoke config, 100 steps, cpu, OMP_NUM_THREADS=1, fresh output folder per run"}
    return Result("startup", rows, details)
