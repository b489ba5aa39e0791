"""`python -m benchmarks`: astrobio against its peers; one JSON per benchmark in benchmarks/results/.

    python -m benchmarks                    # everything (~15-20 min on 2 CPU cores)
    python -m benchmarks --only trainer_overhead --only checkpoint
    python -m benchmarks --quick --results /tmp/bench   # tiny sizes, seconds per benchmark (CI)
    python -m benchmarks --device cpu       # default: cuda when a GPU is visible, else cpu

Each comparison runs astrobio and its peer in the same process (or the same parent process, for
those that need subprocesses), interleaved, and reports medians and their ratio: the machines this
runs on are shared, and only ratios measured side by side mean anything there.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
import traceback
from pathlib import Path

import torch

from benchmarks.common import RESULTS, Options, Result, Row, table, write_result

# name -> "module:function"; order = run order (cheap and self-contained first).
BENCHMARKS = {
    "trainer_overhead": "benchmarks.bench_trainer:run",
    "checkpoint": "benchmarks.bench_checkpoint:run",
    "data_pipeline": "benchmarks.bench_components:run_data",
    "memory": "benchmarks.bench_components:run_memory",
    "ddp_scaling": "benchmarks.bench_ddp:run",
    "production_int8": "benchmarks.bench_production:run",
    "startup": "benchmarks.bench_startup:run",
    "tuning": "benchmarks.bench_tune:run",
    "pipeline_overhead": "benchmarks.bench_pipeline:run",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", choices=list(BENCHMARKS), help="run only this benchmark (repeatable)")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: checks the plumbing in seconds, numbers mean little")
    parser.add_argument("--results", type=Path, default=RESULTS, help="folder for the JSON results")
    parser.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    parser.add_argument("--threads", type=int, default=1, help="torch threads in this process (default 1, like `make run`)")
    args = parser.parse_args(argv)
    device = ("cuda" if torch.cuda.is_available() else "cpu") if args.device == "auto" else args.device
    torch.set_num_threads(args.threads)
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    words = ["python -m benchmarks"] + (["--device", args.device] if args.device != "auto" else [])
    opts = Options(quick=args.quick, device=device, results=args.results, command=" ".join(words))
    names = args.only or list(BENCHMARKS)
    collected: list[tuple[str, Row]] = []
    failed = []
    for name in names:
        module, func = BENCHMARKS[name].split(":")
        print(f"== {name} ({'quick' if opts.quick else 'full'}, {device})", file=sys.stderr, flush=True)
        t0 = time.perf_counter()
        try:
            result: Result = getattr(importlib.import_module(module), func)(opts)
        except Exception:
            traceback.print_exc()
            failed.append(name)
            continue
        path = write_result(result, opts, time.perf_counter() - t0)
        print(f"   {time.perf_counter() - t0:.0f} s -> {path}", file=sys.stderr, flush=True)
        collected.extend((name, row) for row in result.rows)
    print(table(collected))
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
