"""Goals judged as data: which figure of a row a goal's text bounds, and the median of repeated runs.

A single run's verdict sits on run-to-run noise (issue #19: 21 of 25 goals met in one run, 16 of 25
in the next), so `python -m benchmarks --repeat 3` judges every goal on the median of its runs.
The benchmarks state goals as short text (`<= 1.10`, `< 4096 MiB`, `overhead <= 10%`,
`>= 1.5x faster`); `parse` reads that text and `figure` picks the number it bounds:

- `overhead <= N%`: (ratio - 1) * 100;   `>= Nx faster`: 1 / ratio (peer time over astrobio time);
- `<= Nx` or a bare number: the ratio (astrobio / peer), or astrobio's own figure when a row has no peer;
- a unit equal to the row's (`< 4096 MiB`, `< 1 s`): astrobio's own figure.

Every run's own verdict (`met`, computed by the benchmark) is checked against the parsed one: when
they disagree the text is not machine-checkable as written, and the median row is judged by the
majority of the runs' verdicts instead (and says so in `judged`). Everything here is pure.
"""

from __future__ import annotations

import operator
import re
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from benchmarks.common import Result, Row

GOAL = re.compile(r"^\s*(overhead\s+)?(<=|>=|<|>)\s*(-?\d+(?:\.\d*)?)\s*(x faster|x|%|[A-Za-z]+)?")
OPS: dict[str, Callable[[float, float], bool]] = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}
FIGURES = ("astrobio", "peer", "ratio")


@dataclass(frozen=True)
class Goal:
    """`figure op threshold`, figure one of: ratio, astrobio, speedup, overhead_pct, ratio_pct."""

    figure: str
    op: str
    threshold: float


def parse(text: str, unit: str = "") -> Goal | None:
    """The goal a row's text states, or None for a row without one ("", "report ...", "n/a")."""
    m = GOAL.match(text or "")
    if not m:
        return None
    overhead, op, number, suffix = m.groups()
    if overhead:
        kind = "overhead_pct" if suffix == "%" else "overhead"
    elif suffix == "x faster":
        kind = "speedup"
    elif suffix == "%":
        kind = "ratio_pct"
    elif suffix and suffix != "x" and suffix == unit:
        kind = "astrobio"
    else:
        kind = "ratio"
    return Goal(kind, op, float(number))


def figure(goal: Goal, row: Row) -> float | None:
    """The number of `row` that `goal` bounds (None when the row lacks it)."""
    ratio, own = row.ratio, row.astrobio
    if goal.figure == "astrobio" or (goal.figure == "ratio" and row.peer is None and ratio is None):
        return own
    if ratio is None:
        return None
    return {"ratio": ratio, "ratio_pct": ratio * 100, "speedup": 1 / ratio if ratio else None,
            "overhead": ratio - 1, "overhead_pct": (ratio - 1) * 100}[goal.figure]


def judge(row: Row) -> bool | None:
    """Whether `row` meets its goal by its text; None when it has no machine-checkable goal."""
    goal = parse(row.goal, row.unit)
    value = None if goal is None else figure(goal, row)
    # rounded: (1.08 - 1) * 100 is 8.000000000000007, which must meet "overhead <= 8%"
    return None if goal is None or value is None else OPS[goal.op](round(value, 9), goal.threshold)


def _median(values: Sequence[float | None]) -> float | None:
    xs = [v for v in values if v is not None]
    return statistics.median(xs) if xs else None


def _spread(values: Sequence[float | None]) -> list[float] | None:
    xs = [v for v in values if v is not None]
    return [min(xs), max(xs)] if xs else None


def combine_rows(runs: Sequence[Row]) -> Row:
    """One row holding the median of each figure over `runs` (same row, repeated runs), its spread
    (min, max), each run's figures, and the goal judged on the median."""
    first = runs[0]
    ratios = [r.ratio for r in runs]
    mid = _median(ratios)
    # the note (which quotes the run's own figures) of the run closest to the median ratio
    closest = min(runs, key=lambda r: abs(r.ratio - mid) if r.ratio is not None and mid is not None else 0.0)
    row = Row(first.name, _median([r.astrobio for r in runs]), _median([r.peer for r in runs]), first.unit,
              first.peer_name, ratio=mid, goal=first.goal, note=closest.note)
    verdicts = [r.met for r in runs]
    parsed = [judge(r) for r in runs]
    if all(v is None for v in verdicts):
        row.met, judged = None, "none"
    elif parsed == verdicts:
        row.met, judged = judge(row), "median"
    else:
        row.met, judged = sum(bool(v) for v in verdicts) * 2 > len(verdicts), "majority of runs"
    row.repeat = {"n": len(runs), "judged": judged,
                  "spread": {k: _spread([getattr(r, k) for r in runs]) for k in FIGURES},
                  "runs": [{k: getattr(r, k) for k in (*FIGURES, "met", "note")} for r in runs]}
    return row


def combine(results: Sequence[Result]) -> Result:
    """The repeated runs of one benchmark as one result: rows matched by name in the first run's
    order (a row missing from a run is combined over the runs that have it), details per run."""
    names: list[str] = []
    by_name: dict[str, list[Row]] = {}
    for result in results:
        for row in result.rows:
            if row.name not in by_name:
                names.append(row.name)
            by_name.setdefault(row.name, []).append(row)
    details: dict[str, Any] = {"repeat": len(results), "runs": [r.details for r in results]}
    return Result(results[0].benchmark, [combine_rows(by_name[n]) for n in names], details)


def misses(rows: Sequence[tuple[str, Row]]) -> list[tuple[str, Row]]:
    """The (benchmark, row) pairs whose goal is judged and missed."""
    return [(bench, row) for bench, row in rows if row.met is False]
