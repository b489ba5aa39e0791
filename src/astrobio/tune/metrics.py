"""Which metric names a component prints, and reading them back from a trial's stdout.

Why a declaration: a Katib Experiment whose objective is not a printed name leaves every trial at
`MetricsUnavailable` after it has spent its GPU hours, so names are checked when the Experiment is
rendered (and before an Optuna study starts). Asking the component (build its data and model, call
`evaluate`) costs seconds to minutes and, for downstream components, needs upstream artifacts; the
names are a pure function of the component's config, so each component declares them in its
torch-free `metrics.py`, named by its catalog row (`astrobio.catalog`), and
`tests/tune/test_metrics.py` checks the declaration against what a real training prints.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Iterable
from typing import Any

from astrobio.catalog import component
from astrobio.trainer.metrics import KATIB_METRIC_REGEX

_LINE = re.compile(KATIB_METRIC_REGEX)
_NON_FINITE = re.compile(r"([\w|-]+)\s*[=:]\s*[+-]?(nan|inf)\b")


def declared_metrics(cfg: Any, name: str) -> frozenset[str] | None:
    """Names component `name` prints under `cfg` (an AstrobioConfig), or None when its catalog row
    declares none (then only a finished trial can tell)."""
    rule = component(name).metrics
    return None if rule is None else frozenset(rule(cfg.component(name)))


def unknown_names(wanted: Iterable[str], reported: Collection[str]) -> list[str]:
    return [name for name in wanted if name not in reported]


def did_you_mean(name: str, names: Iterable[str]) -> str:
    """' (did you mean 'val_auc'?)' when a close name exists, else ''."""
    import difflib

    close = difflib.get_close_matches(name, sorted(set(names)), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def describe_names(names: Iterable[str], limit: int = 12) -> str:
    """A short sorted list for one-line messages."""
    ordered = sorted(set(names))
    if not ordered:
        return "(none)"
    shown = ", ".join(ordered[:limit])
    return shown + (f", ... (+{len(ordered) - limit} more)" if len(ordered) > limit else "")


def parse_metric_line(line: str) -> list[tuple[str, float]]:
    """(name, value) pairs in one stdout line, as Katib's StdOut collector reads them: the default
    metrics format with a value that parses as a float. `name: nan` / `name: inf` (how the trainer
    prints a non-finite value, which Katib's filter does not match; `name=nan` too) come back as
    NaN, so a trial can tell "printed but not finite" from "never printed"."""
    out = []
    for match in _LINE.finditer(line):
        name, raw = match.group(1).strip(), match.group(2)
        try:
            out.append((name, float(raw)))
        except ValueError:
            continue
    out += [(m.group(1).strip(), math.nan) for m in _NON_FINITE.finditer(line)]
    return out


def jsonl_value(raw: Any) -> float:
    """A metrics.jsonl value: a number, or 'nan'/'inf' written as text for non-finite values."""
    try:
        return float(raw)
    except (TypeError, ValueError):
        return math.nan
