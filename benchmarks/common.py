"""Shared by every benchmark: machine facts, interleaved A/B timing, the result file and its table row.

Every comparison runs astrobio and its peer in the same process, alternating A, B, A, B, ... and
reports medians and their ratio, so a load spike on a shared machine hits both sides alike.
"""

from __future__ import annotations

import json
import os
import platform
import shlex
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"


@dataclass
class Options:
    """What `python -m benchmarks` was asked for."""

    quick: bool = False
    device: str = "cpu"               # "cpu" or "cuda" (auto-detected by __main__)
    results: Path = RESULTS
    command: str = "python -m benchmarks"
    round: int = 0                    # which of `--repeat N` rounds this run is: a run measures anew in each


@dataclass
class Row:
    """One line of the summary table: astrobio's figure, the peer's, their ratio, the goal."""

    name: str
    astrobio: float | None
    peer: float | None
    unit: str
    peer_name: str = ""
    ratio: float | None = None
    goal: str = ""
    met: bool | None = None
    note: str = ""
    repeat: dict[str, Any] | None = None
    """Only from `--repeat N` (benchmarks/goals.py): n, how the goal was judged, spread, each run."""

    def __post_init__(self) -> None:
        if self.ratio is None and self.astrobio is not None and self.peer:
            self.ratio = self.astrobio / self.peer


@dataclass
class Result:
    benchmark: str
    rows: list[Row]
    details: dict[str, Any] = field(default_factory=dict)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> dict[str, Any]:
    gpus = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())] if torch.cuda.is_available() else []
    return {"cpu": cpu_model(), "cores": os.cpu_count(), "torch": torch.__version__,
            "python": platform.python_version(), "platform": platform.platform(),
            "gpu": gpus or None, "loadavg": [round(x, 2) for x in os.getloadavg()]}


def command_line(only: str, opts: Options) -> str:
    return f"{opts.command} --only {only}" + (" --quick" if opts.quick else "")


def row_doc(row: Row) -> dict[str, Any]:
    """A row as its results file holds it (`repeat` only where runs were repeated)."""
    return {k: v for k, v in row.__dict__.items() if k != "repeat" or v is not None}


def write_result(result: Result, opts: Options, seconds: float) -> Path:
    """benchmarks/results/<name>.json: rows, details, machine, date, exact command."""
    doc = {"benchmark": result.benchmark,
           "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
           "command": command_line(result.benchmark, opts),
           "quick": opts.quick, "device": opts.device, "seconds": round(seconds, 1),
           "machine": machine(),
           "rows": [row_doc(r) for r in result.rows],
           "details": result.details}
    opts.results.mkdir(parents=True, exist_ok=True)
    path = opts.results / f"{result.benchmark}.json"
    path.write_text(json.dumps(doc, indent=2, default=str) + "\n", encoding="utf-8")
    return path


def interleave(variants: dict[str, Callable[[], float]], repeats: int, warmup: int = 1,
               settle: Callable[[], None] | None = None) -> dict[str, list[float]]:
    """Call each variant `repeats` times in rotating order (ABC, BCA, CAB, ...); warm-up calls are
    dropped. `settle` runs off the clock before every call (os.sync for I/O benchmarks: otherwise a
    sample pays for the writeback of the previous variant's dirty pages, which is how an un-fsynced
    torch.save peer once measured slower than torch.save + fsync)."""
    names = list(variants)
    for _ in range(warmup):
        for name in names:
            variants[name]()
    samples: dict[str, list[float]] = {n: [] for n in names}
    for r in range(repeats):
        order = names[r % len(names):] + names[: r % len(names)]
        for name in order:
            if settle is not None:
                settle()
            samples[name].append(variants[name]())
    return samples


def med(xs: Sequence[float]) -> float:
    return statistics.median(xs)


def fmt(x: float | None, unit: str = "") -> str:
    if x is None:
        return "-"
    if unit in ("ms", "s", "MiB", "%", "us"):
        return f"{x:.3g} {unit}" if abs(x) < 1000 else f"{x:.0f} {unit}"
    return f"{x:.3g}{(' ' + unit) if unit else ''}"


def spread(row: Row | dict[str, Any], key: str) -> str:
    """` [min-max]` of a figure over repeated runs; "" for a single run."""
    rep = row.repeat if isinstance(row, Row) else row.get("repeat")
    span = (rep or {}).get("spread", {}).get(key)
    if not span:
        return ""
    lo, hi = (f"{x:.3g}" for x in span)
    return f" [{lo}-{hi}]"


def table(rows: list[tuple[str, Row]]) -> str:
    head = ["benchmark", "case", "astrobio", "peer", "ratio", "goal", "met"]
    lines = [head]
    for bench, r in rows:
        met = "-" if r.met is None else ("yes" if r.met else "NO")
        peer = f"{fmt(r.peer, r.unit)} ({r.peer_name})" if r.peer_name else fmt(r.peer, r.unit)
        lines.append([bench, r.name, fmt(r.astrobio, r.unit) + spread(r, "astrobio"), peer,
                      ("-" if r.ratio is None else f"{r.ratio:.3f}") + spread(r, "ratio"), r.goal, met])
    widths = [max(len(str(line[i])) for line in lines) for i in range(len(head))]
    out = ["  ".join(str(c).ljust(w) for c, w in zip(line, widths)) for line in lines]
    out.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(out)


def quiet_env() -> dict[str, str]:
    """Environment for benchmark subprocesses: one torch thread, like `make run`."""
    env = dict(os.environ)
    env.setdefault("OMP_NUM_THREADS", "1")
    # the caller's PYTHONPATH first, so a run against another source tree reaches its subprocesses too
    env["PYTHONPATH"] = os.pathsep.join(p for p in (env.get("PYTHONPATH", ""), str(ROOT), str(ROOT / "src")) if p)
    return env


def python() -> list[str]:
    return [sys.executable]


def shell(cmd: Sequence[str]) -> str:
    return shlex.join(cmd)
