"""Which metric names a component prints, and reading them back from a trial's stdout.

Why a declaration: a Katib Experiment whose objective is not a printed name leaves every trial at
`MetricsUnavailable` after it has spent its GPU hours, so names are checked when the Experiment is
rendered (and before an Optuna study starts). Asking the component (build its data and model, call
`evaluate`) costs seconds to minutes and, for downstream components, needs upstream artifacts; the
names are a pure function of the component's config, so they are declared here, next to rules a
reader can compare with each `evaluate`, and `tests/tune/test_metrics.py` checks the declaration
against what a real training prints. A component missing from the table is looked up on its spec:
a `metric_names` attribute (a callable taking its config section, or a collection) if the registry
grows one; once it does for every component, this table can go.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Collection, Iterable
from typing import Any

from astrobio.trainer.metrics import KATIB_METRIC_REGEX

SPLITS = ("val", "test")
_LINE = re.compile(KATIB_METRIC_REGEX)
_NON_FINITE = re.compile(r"([\w|-]+)\s*[=:]\s*[+-]?(nan|inf)\b")


def _graph_vae(section: Any) -> set[str]:
    """graph_vae.task.evaluate: <split>_{auc,ap}; baselines cn/aa/l3 (only l3 on a bipartite graph)."""
    baselines = ("l3",) if section.data.graph == "bipartite" else ("cn", "aa", "l3")
    names = {f"{s}_{m}" for s in SPLITS for m in ("auc", "ap")}
    names |= {f"baseline_{b}_{s}_{m}" for b in baselines for s in SPLITS for m in ("auc", "ap")}
    return names


def _causal(section: Any) -> set[str]:
    """causal.task.evaluate: fit and acyclicity always; graph scores when the true graph is known
    (every bundled source, a CSV only with `graph`); counterfactual error for planetary_scm."""
    source = section.data.source
    names = {f"{s}_{m}" for s in SPLITS for m in ("edges", "nll", "h", "acyclic")}
    names |= {f"baseline_empty_{s}_nll" for s in SPLITS}
    has_truth = not source.lower().endswith((".csv", ".tsv")) or section.data.graph is not None
    if has_truth:
        names |= {f"{s}_{m}" for s in SPLITS for m in ("shd", "precision", "recall")}
        names |= {f"baseline_pc_{s}_{m}" for s in SPLITS for m in ("shd", "precision", "recall")}
        names |= {f"baseline_empty_{s}_shd" for s in SPLITS}
    if source == "planetary_scm":
        names |= {f"{s}_cf_rmse" for s in SPLITS} | {f"baseline_obs_{s}_cf_rmse" for s in SPLITS}
    return names


def _fusion(section: Any) -> set[str]:
    """fusion.task.evaluate: accuracy/loss and the two target bits always, the majority class always;
    the single-modality baselines only when `eval.baselines` is on."""
    names = {f"{s}_{m}" for s in SPLITS for m in ("accuracy", "loss", "wet_accuracy", "ch4_accuracy")}
    names |= {f"baseline_majority_{s}_accuracy" for s in SPLITS}
    if section.eval.baselines:
        modalities = ("climate", "spectrum", "scm", "network")
        names |= {f"baseline_single_{m}_{s}_accuracy" for m in modalities for s in SPLITS}
        names |= {f"baseline_best_single_{s}_accuracy" for s in SPLITS}
    return names


DECLARED: dict[str, Callable[[Any], set[str]]] = {"graph_vae": _graph_vae, "causal": _causal, "fusion": _fusion}


def declared_metrics(cfg: Any, component: str) -> frozenset[str] | None:
    """Names `component` prints under `cfg` (an AstrobioConfig), or None when nothing declares them
    (then only a finished trial can tell). The table here is consulted first because asking the
    registry imports the component (torch, torch-geometric: seconds); a component it does not
    know is looked up on its spec."""
    section = cfg.component(component)
    rule = DECLARED.get(component)
    if rule is not None:
        return frozenset(rule(section))
    try:
        from astrobio.registry import get_spec

        own = getattr(get_spec(component), "metric_names", None)
    except Exception:  # noqa: BLE001 - an unimportable component is reported where it is trained
        return None
    if callable(own):
        return frozenset(own(section))
    if isinstance(own, Collection) and not isinstance(own, str):
        return frozenset(own)
    return None


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
