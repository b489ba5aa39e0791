"""`astrobio tune --backend optuna`: a local study whose trials are real `astrobio train` runs.

Each trial trains in its own subprocess with the study's values as `--set` arguments, so a trial is
exactly the command a user would type, and a crash, a NaN or an out-of-memory kill is recorded as a
failed trial instead of taking the study down. The study lives in SQLite next to its trials
(`<output>/study.db`): rerunning the command continues it, and a trial cut off by an interrupted
run is re-queued with its values. At the end, `best.yaml` is the input config with the best values
applied (ready for `astrobio train`), with a results table and an optimisation-history plot.
"""

from __future__ import annotations

import math
import os
import shutil
import sys
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import optuna
import yaml

from astrobio.console import to_stderr
from astrobio.sections import DownstreamConfig
from astrobio.errors import UsageError
from astrobio.tune.load import TuneConfig, trial_tree, validate_tree
from astrobio.tune.metrics import declared_metrics, describe_names, did_you_mean, unknown_names
from astrobio.tune.optuna_study import Note, enqueue_config_values, finished_counts, open_study, recover_interrupted
from astrobio.tune.report import results_table, write_history_plot
from astrobio.tune.trial_runner import TrialOutcome, TrialProcess, run_trial

Told = Callable[[str, "float | None"], None]
"""Hears each trial outcome as it is recorded: (complete | pruned | failed, objective or None)."""
BASE_FILE = "trial-base.yaml"
BEST_FILE = "best.yaml"


@dataclass
class StudyResult:
    """Where a study's outputs are, and its best trial (None when no trial completed)."""

    output: Path
    table: Any
    plot: Path
    counts: dict[str, int]
    best_number: int | None = None
    best_value: float | None = None
    best_params: dict[str, Any] = field(default_factory=dict)
    best_yaml: Path | None = None


def default_output(tc: TuneConfig) -> Path:
    """`<run.output_root>/<run_id>/tune`, beside where `astrobio train` puts a component's run."""
    return tc.cfg.run.folder / "tune"


def check_declared_metrics(tc: TuneConfig) -> None:
    """Fail before any trial when the component declares its metric names and the objective (or
    an additional metric) is not among them."""
    declared = declared_metrics(tc.cfg, tc.tune.component)
    if declared is None:
        return
    wanted = [tc.tune.objective.metric, *tc.tune.objective.additional_metrics]
    missing = unknown_names(wanted, declared)
    if missing:
        raise UsageError(f"{tc.source}: tune.objective: '{missing[0]}' is not a metric '{tc.tune.component}' prints"
                         f"{did_you_mean(missing[0], declared)}; it prints: {describe_names(declared, 40)}")


def _trial_env(parallel: int, env: Mapping[str, str] | None) -> dict[str, str]:
    out = {**(os.environ if env is None else env), "PYTHONUNBUFFERED": "1"}
    if parallel > 1 and "OMP_NUM_THREADS" not in out:
        out["OMP_NUM_THREADS"] = str(max(1, (os.cpu_count() or 1) // parallel))
    return out


class StudyRunner:
    """Launches trials (up to `budget.parallel` at once), feeds their metrics to Optuna, records outcomes."""

    def __init__(self, tc: TuneConfig, output: Path, study: Any, *, python: str, env: dict[str, str], note: Note,
                 poll_s: float, grace_s: float, inputs: Sequence[str] = (), told: Told | None = None) -> None:
        self.tc, self.output, self.study, self.python, self.env, self.note = tc, output, study, python, env, note
        self.told = told or (lambda state, value: None)
        self.inputs = list(inputs)
        self.poll_s, self.grace_s = poll_s, grace_s
        self.active: dict[int, TrialProcess] = {}

    @staticmethod
    def command(tc: TuneConfig, output: Path, number: int | str, set_args: list[str],
                python: str = sys.executable, inputs: Sequence[str] = ()) -> list[str]:
        """The `astrobio train` command of trial `number`: the study's base config plus its values;
        its run id and store are the trial's own, so trials never publish over each other or the
        user's runs (`inputs` pins a downstream component's upstream artifacts, fetched once)."""
        fixed = [f"run.run_id={tc.study_name}-trial-{number}", f"store.uri={output / 'store'}", *inputs]
        sets = [part for arg in (*fixed, *set_args) for part in ("--set", arg)]
        return [python, "-m", "astrobio", "train", "-c", tc.tune.component, "--config", str(output / BASE_FILE),
                "--output", str(output / f"trial-{number}"), *sets]

    def run_one(self, trial: Any) -> TrialOutcome:
        """Runs in a worker thread; never raises for a failing trial."""
        set_args = self.tc.space.set_args(trial.params)
        try:
            validate_tree(trial_tree(self.tc.base_tree, set_args), f"trial {trial.number}")
        except UsageError as exc:
            return TrialOutcome("failed", None, reason=f"invalid combination: {exc}")
        workdir = self.output / f"trial-{trial.number}"
        shutil.rmtree(workdir, ignore_errors=True)  # a stale folder would make the trainer resume
        trial.set_user_attr("set", set_args)

        def report(step: int, value: float) -> bool:
            trial.report(value, step)
            return trial.should_prune()

        def started(proc: TrialProcess) -> None:
            self.active[trial.number] = proc

        argv = self.command(self.tc, self.output, trial.number, set_args, self.python, self.inputs)
        self.note(f"trial {trial.number} running ({', '.join(set_args)}); logs in {workdir}")
        try:
            return run_trial(argv, workdir, self.tc.tune.objective.metric, report, env=self.env, poll_s=self.poll_s,
                             grace_s=self.grace_s, started=started)
        finally:
            self.active.pop(trial.number, None)

    def tell(self, trial: Any, outcome: TrialOutcome) -> None:
        """Record `outcome`; a trial that ran to the end without printing the objective stops the study."""
        TrialState = optuna.trial.TrialState
        metric = self.tc.tune.objective.metric
        trial.set_user_attr("seconds", round(outcome.seconds, 3))
        extra = {k: v for k, v in outcome.printed.items() if k in self.tc.tune.objective.additional_metrics}
        if extra:
            trial.set_user_attr("metrics", extra)
        params = ", ".join(f"{k}={v}" for k, v in trial.params.items())
        if outcome.state == "complete" and outcome.value is None:
            trial.set_user_attr("failure", f"{metric} was never printed")
            self.study.tell(trial, state=TrialState.FAIL)
            raise UsageError(f"objective metric '{metric}' was never printed by trial {trial.number} "
                             f"({self.output / f'trial-{trial.number}' / 'stdout.log'}); the trial printed: "
                             f"{describe_names(outcome.printed, 40)}")
        if outcome.state == "complete" and not math.isfinite(outcome.value or 0.0):
            outcome = TrialOutcome("failed", None, outcome.printed, f"{metric} is not finite", outcome.returncode,
                                   outcome.seconds, outcome.reports)
        self.told(outcome.state, outcome.value if outcome.state == "complete" else None)
        if outcome.state == "complete":
            self.study.tell(trial, outcome.value)
            self.note(f"trial {trial.number} complete: {metric}={outcome.value:.6g} ({params}) in {outcome.seconds:.1f}s")
        elif outcome.state == "pruned":
            trial.set_user_attr("note", outcome.reason)
            self.study.tell(trial, state=TrialState.PRUNED)
            self.note(f"trial {trial.number} pruned: {outcome.reason} ({params})")
        else:
            trial.set_user_attr("failure", outcome.reason)
            self.study.tell(trial, state=TrialState.FAIL)
            self.note(f"trial {trial.number} failed: {outcome.reason} ({params})")

    def reuse_duplicate(self, trial: Any) -> bool:
        """A sampler may propose values a complete trial already ran (TPE did on a 4x4 grid); the
        training is deterministic for a seed, so the earlier result is told again instead of paying
        for an identical run. Pruned or failed trials are not reused: their values deserve a full run."""
        earlier = next((t for t in self.study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
                        if t.params == trial.params and t.number != trial.number), None)
        if earlier is None:
            return False
        trial.set_user_attr("note", f"same values as trial {earlier.number}: not run again")
        trial.set_user_attr("seconds", 0.0)
        self.study.tell(trial, earlier.value)
        self.told("complete", earlier.value)
        self.note(f"trial {trial.number} has the values of trial {earlier.number}: reused its {self.tc.tune.objective.metric}")
        return True

    def reached_target(self, outcome: TrialOutcome) -> bool:
        target = self.tc.tune.objective.target
        if target is None or outcome.state != "complete" or outcome.value is None:
            return False
        return outcome.value >= target if self.tc.tune.objective.goal == "max" else outcome.value <= target

    def run(self) -> None:
        budget = self.tc.tune.budget
        max_failed = budget.max_failed or budget.trials
        dists = self.tc.space.optuna_distributions()
        futures: dict[Future[TrialOutcome], Any] = {}
        stop = False
        with ThreadPoolExecutor(max_workers=budget.parallel, thread_name_prefix="trial") as pool:
            try:
                while True:
                    done, failed = finished_counts(self.study)
                    if failed >= max_failed and not stop:
                        self.note(f"stopping: {failed} failed trials (budget.max_failed={max_failed})")
                        stop = True
                    while not stop and len(futures) < budget.parallel and done + len(futures) < budget.trials:
                        trial = self.study.ask(dists)
                        if self.reuse_duplicate(trial):
                            done += 1
                            continue
                        futures[pool.submit(self.run_one, trial)] = trial
                    if not futures:
                        return
                    finished, _ = wait(list(futures), return_when=FIRST_COMPLETED)
                    for fut in finished:
                        trial = futures.pop(fut)
                        outcome = fut.result()
                        self.tell(trial, outcome)
                        if self.reached_target(outcome):
                            self.note(f"trial {trial.number} reached the target {self.tc.tune.objective.target:g}")
                            stop = True
            except BaseException:
                self.abort(futures)
                raise

    def abort(self, futures: Mapping[Future[TrialOutcome], Any]) -> None:
        """Stop running trials; they are recorded as interrupted (queued again on the next run)."""
        for proc in list(self.active.values()):
            proc.terminate(self.grace_s)
        for trial in futures.values():  # trials in `futures` were never told: `run` pops before telling
            trial.set_user_attr("interrupted", True)
            self.study.tell(trial, state=optuna.trial.TrialState.FAIL)
            self.study.enqueue_trial(dict(trial.params))


def upstream_inputs(tc: TuneConfig, output: Path, env: Mapping[str, str]) -> list[str]:
    """`components.<c>.inputs.<up>=<folder>` for a downstream component: its upstream artifacts are
    fetched once from the config's store and run id (trials have their own run ids and store)."""
    if not isinstance(tc.cfg.component(tc.tune.component), DownstreamConfig):
        return []  # decided from the config class: no need to import the component (torch)
    from astrobio.catalog import get_spec

    spec = get_spec(tc.tune.component)
    if not spec.upstream:
        return []
    from astrobio.store import open_store
    from astrobio.upstream import resolve_inputs

    store = open_store(tc.cfg.store.uri, env)
    section = resolve_inputs(tc.cfg.component(spec.name), spec, store, tc.cfg.run.effective_run_id, output)
    return [f"components.{spec.name}.inputs.{name}={path}" for name, path in sorted(section.inputs.items())]


def write_best_yaml(tc: TuneConfig, trial: Any, output: Path) -> Path:
    """The input config (less `tune:`) with the best trial's values applied."""
    tree = trial_tree(tc.base_tree, tc.space.set_args(trial.params))
    path = output / BEST_FILE
    header = (f"# Best trial {trial.number} of study '{tc.study_name}' ({tc.tune.objective.metric}={trial.value:.6g}),\n"
              f"# written by `astrobio tune` from {tc.source}. Train it with:\n"
              f"#   astrobio train -c {tc.tune.component} --config {path}\n")
    path.write_text(header + yaml.safe_dump(tree, sort_keys=False), encoding="utf-8")
    return path


def run_study(tc: TuneConfig, output: Path | None = None, *, python: str = sys.executable, note: Note = to_stderr,
              env: Mapping[str, str] | None = None, poll_s: float = 0.2, grace_s: float = 15.0,
              told: Told | None = None) -> StudyResult:
    """Run (or continue) the study of `tc`; returns where its outputs are and its best trial."""
    check_declared_metrics(tc)
    output = (output or default_output(tc)).resolve()
    output.mkdir(parents=True, exist_ok=True)
    study = open_study(tc, output)
    (output / BASE_FILE).write_text("# Run config every trial starts from (written by `astrobio tune`).\n"
                                    + yaml.safe_dump(tc.base_tree, sort_keys=False), encoding="utf-8")
    recover_interrupted(study, note)
    if tc.tune.start_from_config and not study.trials:
        enqueue_config_values(tc, study, note)
    trial_env = _trial_env(tc.tune.budget.parallel, env)
    runner = StudyRunner(tc, output, study, python=python, env=trial_env, note=note, poll_s=poll_s, grace_s=grace_s,
                         inputs=upstream_inputs(tc, output, trial_env), told=told)
    try:
        runner.run()
    finally:
        trials = study.get_trials(deepcopy=False)
        plot = write_history_plot(trials, tc.tune.objective.metric, tc.tune.objective.goal == "max", output)
    best = study.best_trial if any(t.state.name == "COMPLETE" for t in trials) else None
    counts = {state: sum(1 for t in trials if t.state.name == state) for state in ("COMPLETE", "PRUNED", "FAIL")}
    table = results_table(trials, tc.tune.objective.metric, tc.space.keys, best.number if best else None)
    result = StudyResult(output=output, table=table, plot=plot, counts=counts)
    if best is not None:
        result.best_number, result.best_value, result.best_params = best.number, best.value, dict(best.params)
        result.best_yaml = write_best_yaml(tc, best, output)
    return result
