"""The body of a training step: check its inputs, train (PyTorchJob or subprocess), read back the result.

A KFP task, `astrobio run` and the tests all call `run_train_step`; the KFP component in
`kfp_components.py` is only a thin shim around it (KFP embeds the shim's source in the compiled
YAML, so keeping logic here keeps that YAML small and this code testable without KFP).

Steps are idempotent per run id: if `runs/<run_id>/<phase>/<component>` is already COMPLETE the
step reuses it instead of training again, which is what makes a rerun of a failed pipeline resume.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from astrobio.errors import RuntimeFailure, UsageError
from astrobio.catalog import phase_of_component
from astrobio.pipeline.meanwhile import imported_meanwhile, report_modules
from astrobio.pipeline.steps import (
    StepResult,
    check_mode,
    check_upstream,
    drawn_dir,
    locate_artifact,
    parse_upstream,
    step_config,
)
from astrobio.store import is_complete
from astrobio.store.artifacts import read_metrics

TRAIN_COMMAND_ENV = "ASTROBIO_TRAIN_COMMAND"
"""Replaces `python -m astrobio train` in local mode (shell-quoted words). `--component NAME
--config FILE` are appended. Used for torchrun wrappers, and by tests to plug in a fast stub."""

Log = Callable[[str], None]


def _log(message: str) -> None:
    print(message, flush=True)


def train_command(env: Mapping[str, str]) -> list[str]:
    """The command prefix that trains one component in local mode."""
    raw = env.get(TRAIN_COMMAND_ENV, "").strip()
    if not raw:
        return [sys.executable, "-m", "astrobio", "train"]
    try:
        words = shlex.split(raw)
    except ValueError as exc:
        raise UsageError(f"{TRAIN_COMMAND_ENV}={raw!r} cannot be split into words: {exc}") from None
    if not words:
        raise UsageError(f"{TRAIN_COMMAND_ENV} is blank")
    return words


def run_local_train(component: str, config_path: Path, env: Mapping[str, str], log: Log = _log,
                    meanwhile: Sequence[str] = ()) -> dict[str, str]:
    """Train in a subprocess with the step's config; its output streams into the task log. The
    modules `meanwhile` are imported on a second thread while it trains (`meanwhile.py`)."""
    cmd = [*train_command(env), "--component", component, "--config", str(config_path)]
    log(f"{component}: running {shlex.join(cmd)}")
    try:
        with imported_meanwhile(meanwhile):
            code = subprocess.call(cmd, env=dict(env))
    except OSError as exc:
        raise UsageError(f"{component}: cannot start {cmd[0]!r}: {exc.strerror or exc}") from None
    if code != 0:
        raise RuntimeFailure(f"{component}: `{shlex.join(cmd)}` exited with code {code}")
    return {"command": shlex.join(cmd)}


def run_train_step(
    *,
    component: str,
    run_id: str,
    config_yaml: str,
    store_uri: str,
    mode: str,
    upstream: str,
    env: Mapping[str, str],
    training_client: Any = None,
    log: Log = _log,
    import_meanwhile: bool = False,
) -> StepResult:
    """Train `component` for this run (or reuse its complete artifact) and return where it went.

    kubeflow mode renders the component's PyTorchJob and waits for it (`pytorchjob_launch`);
    local mode runs `astrobio train` (or `$ASTROBIO_TRAIN_COMMAND`) in a subprocess. Both publish to
    the same store prefix, which this function then checks for COMPLETE and reads metrics from.
    `training_client` replaces `kubeflow.training.TrainingClient()` (tests pass a fake).
    `import_meanwhile`: import what drawing the step's report needs while a local training runs
    (not inside `astrobio run`, which draws the step's figures itself).
    """
    check_mode(mode)
    try:
        phase = phase_of_component(component)
    except KeyError:
        raise UsageError(f"component {component!r} is in no phase of the five-phase graph") from None
    upstream_uris = parse_upstream(upstream, component)
    with tempfile.TemporaryDirectory(prefix=f"astrobio-{component}-") as tmp:
        cfg, config_path = step_config(config_yaml, run_id, store_uri, Path(tmp))
        location = locate_artifact(cfg, component, env)
        drawn = drawn_dir(cfg, mode, env)
        location.store.check()
        if is_complete(location.store, location.prefix):
            log(f"{component}: {location.uri} is already complete; reusing it (new run id to retrain)")
            return StepResult(component, phase.name, location.uri, read_metrics(location.store, location.prefix, strict=True),
                              mode, reused=True, drawn_dir=drawn)
        check_upstream(upstream_uris, env)
        if mode == "local":
            draws = import_meanwhile and drawn is None  # inside `astrobio run` the run draws it (step_page)
            details = run_local_train(component, config_path, env, log, report_modules(component) if draws else ())
        else:
            from astrobio.pipeline.pytorchjob_launch import launch_pytorchjob

            details = launch_pytorchjob(cfg, component, env=env, training_client=training_client, log=log)
    if not is_complete(location.store, location.prefix):
        raise RuntimeFailure(f"{component}: training finished but {location.uri} has no COMPLETE marker")
    return StepResult(component, phase.name, location.uri, read_metrics(location.store, location.prefix, strict=True), mode,
                      details=details, drawn_dir=drawn)


def report_failure_and_exit(error: Exception, stream: Any = None) -> None:
    """One `error:` line and the CLI's exit code, instead of a KFP executor traceback."""
    from astrobio.errors import AstrobioError

    print(f"error: {error}", file=stream or sys.stderr, flush=True)
    raise SystemExit(error.exit_code if isinstance(error, AstrobioError) else 1)

