"""The Optuna study behind `astrobio tune --backend optuna`: storage, sampler, pruner, resumption.

Kept apart from the trial loop so that what makes a study reproducible and resumable can be read
in one place: a SQLite file beside the trials, a sampler seeded from `tune.seed` (reseeded past the
trials a resumed study already has), a median pruner with Katib's `start_step` meaning, and a
signature that stops a rerun with another search space from mixing into an old study.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import optuna

from astrobio.errors import UsageError
from astrobio.tune.load import TuneConfig

STUDY_DB = "study.db"
Note = Callable[[str], None]


class _Grid(optuna.samplers.GridSampler):
    """GridSampler without its `study.stop()` on the last grid point, which only works inside
    `study.optimize`; the trial loop here stops on the budget, which a grid never exceeds."""

    def after_trial(self, study: Any, trial: Any, state: Any, values: Any) -> None:
        return None


def _sampler(tc: TuneConfig, offset: int) -> Any:
    """Seeded sampler; a resumed study reseeds past the trials it has, so it does not replay them."""
    seed = tc.tune.seed + offset
    if tc.tune.algorithm == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if tc.tune.algorithm == "grid":
        return _Grid(tc.space.grid(), seed=seed)
    return optuna.samplers.TPESampler(seed=seed)


class MedianStop(optuna.pruners.BasePruner):
    """Optuna's MedianPruner with Katib's `start_step` meaning: a trial may be stopped once it has
    made `start_step` intermediate reports (steps are optimizer steps, so they need not be 1..n)."""

    def __init__(self, min_trials: int, start_step: int) -> None:
        self.start_step = start_step
        self.median = optuna.pruners.MedianPruner(n_startup_trials=min_trials, n_warmup_steps=0, n_min_trials=min_trials)

    def prune(self, study: Any, trial: Any) -> bool:
        return len(trial.intermediate_values) >= self.start_step and self.median.prune(study, trial)


def _pruner(tc: TuneConfig) -> Any:
    es = tc.tune.early_stopping
    if es.rule == "none":
        return optuna.pruners.NopPruner()
    return MedianStop(es.min_trials, es.start_step)


def _signature(tc: TuneConfig) -> str:
    """What a study is about; a rerun with a different space or objective must not mix into it."""
    t = tc.tune
    return json.dumps({"component": t.component, "objective": [t.objective.metric, t.objective.goal],
                       "parameters": [p.model_dump(mode="json") for p in t.parameters]}, sort_keys=True)


def open_study(tc: TuneConfig, output: Path) -> Any:
    """Create or load the study in `<output>/study.db` (UsageError if it was made for another search)."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = optuna.storages.RDBStorage(f"sqlite:///{output / STUDY_DB}", engine_kwargs={"connect_args": {"timeout": 60}})
    direction = "maximize" if tc.tune.objective.goal == "max" else "minimize"
    study = optuna.create_study(study_name=tc.study_name, storage=storage, direction=direction, load_if_exists=True)
    signature = _signature(tc)
    if "signature" not in study.user_attrs:
        study.set_user_attr("signature", signature)
    elif study.user_attrs["signature"] != signature or study.direction.name.lower() != direction:
        raise UsageError(f"{output / STUDY_DB} holds study '{tc.study_name}' of another search space or objective; "
                         "choose another --output (or delete that study)")
    study.sampler = _sampler(tc, len(study.trials))
    study.pruner = _pruner(tc)
    return study


def finished_counts(study: Any) -> tuple[int, int]:
    """(finished trials that count against the budget, failed ones); interrupted ones do not count."""
    done = [t for t in study.get_trials(deepcopy=False) if t.state.is_finished() and not t.user_attrs.get("interrupted")]
    return len(done), sum(1 for t in done if t.state.name == "FAIL")


def recover_interrupted(study: Any, note: Note) -> None:
    """Trials left RUNNING by a killed tuner: mark them failed (interrupted) and queue their values again."""
    for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
        optuna.trial.Trial(study, t._trial_id).set_user_attr("interrupted", True)
        study.tell(t.number, state=optuna.trial.TrialState.FAIL)
        study.enqueue_trial(dict(t.params))
        note(f"trial {t.number} was interrupted; its values are queued again")


def enqueue_config_values(tc: TuneConfig, study: Any, note: Note) -> None:
    """First trial = the config as given, when every searched value of it lies in the space (not for
    grid, which visits every point anyway and would not count an enqueued one as visited)."""
    if tc.tune.algorithm == "grid":
        return
    tree = tc.cfg.model_dump(mode="json")
    values: dict[str, Any] = {}
    for p in tc.tune.parameters:
        node: Any = tree
        for part in p.path.split("."):
            node = node[part]
        if not tc.space.contains(p, node):
            note(f"note: {p.path}={node!r} is outside the search space; the study starts from sampled values")
            return
        values[p.key] = tc.space.typed(p, node)
    study.enqueue_trial(values, user_attrs={"note": "the config's own values"})
