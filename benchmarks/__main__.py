"""`python -m benchmarks`: astrobio against its peers; one JSON per benchmark in benchmarks/results/.

    python -m benchmarks                    # everything (~30-35 min on 2 CPU cores; instructions needs valgrind)
    python -m benchmarks --only trainer_overhead --only checkpoint
    python -m benchmarks --quick --results /tmp/bench   # tiny sizes, seconds per benchmark (CI)
    python -m benchmarks --device cpu       # default: cuda when a GPU is visible, else cpu
    python -m benchmarks --repeat 3         # `make bench`: every goal judged on the median of 3 runs

With `--repeat N` each selected benchmark runs N times (all of them once, then again, so a slow
spell of a shared machine spreads over every benchmark), each results file holds the median of
every figure, its spread and each run's figures, and the command exits 1 when a goal's median
misses (benchmarks/goals.py). A single run, or `--quick`, reports goals without failing on them.

Each comparison runs astrobio and its peer in the same process (or the same parent process, for
those that need subprocesses), interleaved, and reports medians and their ratio: the machines this
runs on are shared, and only ratios measured side by side mean anything there.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import os
import sys
import time
import traceback
from pathlib import Path

import torch

from benchmarks.common import RESULTS, Options, Result, Row, table, write_result
from benchmarks.goals import combine, misses

# name -> "module:function"; order = run order (cheap and self-contained first).
BENCHMARKS = {
    "trainer_overhead": "benchmarks.bench_trainer:run",
    "checkpoint": "benchmarks.bench_checkpoint:run",
    "data_pipeline": "benchmarks.bench_components:run_data",
    "memory": "benchmarks.bench_components:run_memory",
    "ddp_scaling": "benchmarks.bench_ddp:run",
    "production_int8": "benchmarks.bench_production:run",
    "startup": "benchmarks.bench_startup:run",
    "instructions": "benchmarks.bench_instructions:run",
    "tuning": "benchmarks.bench_tune:run",
    "pipeline_overhead": "benchmarks.bench_pipeline:run",
}


def run_one(name: str, opts: Options) -> Result | None:
    """One run of one benchmark; None (traceback printed) when it raised."""
    module, func = BENCHMARKS[name].split(":")
    print(f"== {name} ({'quick' if opts.quick else 'full'}, {opts.device})", file=sys.stderr, flush=True)
    try:
        return getattr(importlib.import_module(module), func)(opts)
    except Exception:
        traceback.print_exc()
        return None


def run_all(names: list[str], opts: Options, repeat: int) -> tuple[list[tuple[str, Row]], list[str]]:
    """Run `names` `repeat` times in rounds, write one results file per benchmark (the median of its
    runs when repeated); the table rows and the benchmarks that failed in any round."""
    runs: dict[str, list[Result]] = {n: [] for n in names}
    seconds = dict.fromkeys(names, 0.0)
    failed: list[str] = []
    for round_ in range(repeat):
        for name in (n for n in names if n not in failed):
            t0 = time.perf_counter()
            result = run_one(name, dataclasses.replace(opts, round=round_))
            seconds[name] += time.perf_counter() - t0
            if result is None:
                failed.append(name)
            else:
                runs[name].append(result)
                print(f"   {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
    collected: list[tuple[str, Row]] = []
    for name in names:
        if name in failed:
            continue
        result = runs[name][0] if repeat == 1 else combine(runs[name])
        path = write_result(result, opts, seconds[name])
        print(f"   {name}: {seconds[name]:.0f} s -> {path}", file=sys.stderr, flush=True)
        collected.extend((name, row) for row in result.rows)
    return collected, failed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", choices=list(BENCHMARKS), help="run only this benchmark (repeatable)")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: checks the plumbing in seconds, numbers mean little")
    parser.add_argument("--repeat", type=int, default=1, help="runs per benchmark; >1 judges goals on the median and fails on a miss")
    parser.add_argument("--results", type=Path, default=RESULTS, help="folder for the JSON results")
    parser.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    parser.add_argument("--threads", type=int, default=1, help="torch threads in this process (default 1, like `make run`)")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error(f"--repeat: expected a whole number >= 1, got {args.repeat}")
    device = ("cuda" if torch.cuda.is_available() else "cpu") if args.device == "auto" else args.device
    torch.set_num_threads(args.threads)
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    words = ["python -m benchmarks"] + (["--device", args.device] if args.device != "auto" else []) \
        + (["--repeat", str(args.repeat)] if args.repeat > 1 else [])
    opts = Options(quick=args.quick, device=device, results=args.results, command=" ".join(words))
    collected, failed = run_all(args.only or list(BENCHMARKS), opts, args.repeat)
    print(table(collected))
    missed = misses(collected)
    for bench, row in missed:
        print(f"goal missed: {bench}: {row.name}: {row.goal} (ratio {row.ratio}, astrobio {row.astrobio})", file=sys.stderr)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    enforce = args.repeat > 1 and not args.quick
    return 1 if failed or (enforce and missed) else 0


if __name__ == "__main__":
    sys.exit(main())
