"""`astrobio tune`: search hyperparameters locally (Optuna) or on Katib.

The body runs under `guarded`, so a bad config, an unknown parameter path or a missing kubeconfig
is one line and exit 2, a study in which no trial completed one line and exit 1. Heavy imports
(optuna, the Katib SDK, torch via the registry) happen inside the body, keeping `--help` fast.
"""

from __future__ import annotations

import dataclasses
import os
import shlex
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from astrobio.cli.options import KubeconfigOpt, NamespaceOpt, guarded_command
from astrobio.errors import RuntimeFailure, UsageError

BACKENDS = ("optuna", "katib")


@guarded_command
def tune_cmd(
    config: Annotated[Path, typer.Option("--config", "-f", help="tuning config with a `tune:` section, e.g. configs/tune-graph-vae.yaml")],
    backend: Annotated[str, typer.Option("--backend", help="optuna (local study, trials are `astrobio train` runs) or katib (Experiment)")] = "optuna",
    set_: Annotated[Optional[list[str]], typer.Option("--set", help="override KEY=VALUE, tune.* included (repeatable)")] = None,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="optuna: study folder (default: <run.output_root>/<run_id>/tune); rerun to continue")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="katib: print the Experiment, submit nothing; optuna: print a trial's command")] = False,
    namespace: NamespaceOpt = None,
    kubeconfig: KubeconfigOpt = None,
) -> None:
    """Search hyperparameters: every trial is a real training run, locally (Optuna) or on Katib."""
    run_tune(config, backend, set_ or [], output, dry_run, namespace, kubeconfig)


def run_tune(config: Path, backend: str, sets: list[str], output: Path | None, dry_run: bool,
          namespace: str | None, kubeconfig: Path | None) -> None:
    from astrobio.tune.load import load_tune_config

    if backend not in BACKENDS:
        raise UsageError(f"--backend {backend!r}: expected one of {', '.join(BACKENDS)}")
    if backend == "optuna" and (namespace or kubeconfig):
        raise UsageError("--namespace/--kubeconfig apply to --backend katib")
    if backend == "katib" and output is not None:
        raise UsageError("--output is the Optuna study folder; for Katib use --dry-run > experiment.yaml")
    tc = load_tune_config(config, sets)
    if backend == "katib":
        if not dry_run:  # fail at once without credentials, before rendering imports torch
            from astrobio.kube.cluster import load_cluster_access

            load_cluster_access(os.environ, kubeconfig)
        from astrobio.kube.submission.submit import with_namespace
        from astrobio.tune.katib_backend import submit_experiment

        tc = dataclasses.replace(tc, cfg=with_namespace(tc.cfg, namespace))
        typer.echo(submit_experiment(tc, dry_run, env=os.environ, kubeconfig=kubeconfig), nl=not dry_run)
        return
    from astrobio.cli.tables import print_table
    from astrobio.tune.optuna_backend import StudyRunner, check_declared_metrics, default_output, run_study

    if dry_run:
        check_declared_metrics(tc)
        folder = (output or default_output(tc)).resolve()
        argv = StudyRunner.command(tc, folder, "<n>", tc.space.placeholder_args())
        typer.echo(f"# {tc.tune.budget.trials} trials of {tc.tune.component}, study folder {folder}; each runs:")
        typer.echo(shlex.join(argv))
        return
    if sys.stderr.isatty():
        from astrobio.tune.progress import TrialProgress

        objective = tc.tune.objective
        with TrialProgress(tc.tune.budget.trials, objective.metric, objective.goal == "max") as bar:
            result = run_study(tc, output, note=bar.note, told=bar.told)
    else:
        result = run_study(tc, output)
    print_table(result.table)
    typer.echo(f"study: {result.output} (rerun the same command to continue it)")
    typer.echo(f"history plot: {result.plot}")
    if result.best_yaml is None:
        raise RuntimeFailure(f"no trial completed ({result.counts['FAIL']} failed, {result.counts['PRUNED']} pruned); "
                             f"see {result.output}/trial-*/stderr.log")
    typer.echo(f"best: trial {result.best_number}, {tc.tune.objective.metric}={result.best_value:.6g}; "
               f"config: {result.best_yaml}")
    typer.echo(f"train it: astrobio train -c {tc.tune.component} --config {result.best_yaml}")
