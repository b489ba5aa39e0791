"""`astrobio run`: the five phases on this machine, through the pipeline graph the cluster runs.

The KFP pipeline (`astrobio.pipeline.kfp_pipeline`, built from `astrobio.catalog.PHASES`) is executed by
KFP's own local runner in `local` mode, so every step trains with `astrobio train` in a
subprocess instead of creating a PyTorchJob. Steps whose artifact is COMPLETE are reused and an
interrupted training resumes from its checkpoint, so rerunning the same command resumes the run.
A SIGTERM to this process is passed on to the step in progress (`interrupt.py`), so no trainer
outlives the run it belonged to.
The summary (`run.json`) is built from what the store holds, not from what the runner printed.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from astrobio.config import AstrobioConfig
from astrobio.config.schema import COMPONENT_FIELDS
from astrobio.errors import AstrobioError, UsageError
from astrobio.catalog import PHASES, phase_of_component
from astrobio.phases.drawing import SectionDrawer, steps_leave_drawing_to
from astrobio.phases.interrupt import Terminated, forward_sigterm
from astrobio.phases.watch import RunWatcher
from astrobio.pipeline.kfp_components import kfp_component_name
from astrobio.pipeline.step_logs import StepEvent, log_path, tail
from astrobio.pipeline.steps import locate_artifact
from astrobio.report import REPORT_FILE
from astrobio.report.drawn import drawn_folder
from astrobio.report.summary import summary_rows
from astrobio.store import artifact_prefix, is_complete, open_store
from astrobio.store.artifacts import read_metrics
from astrobio.store.atomic import atomic_write_bytes

RUN_FILE = "run.json"
REPORT_MODULES = ("astrobio.report.build",)
"""What the report and the section drawer import (matplotlib: 0.55 s), imported while the first step runs."""


def parse_phase_range(text: str) -> tuple[int, int]:
    """'1-3' -> (1, 3); '2' -> (2, 2)."""
    match = re.fullmatch(r"\s*([1-5])\s*(?:-\s*([1-5])\s*)?", text)
    if not match:
        raise UsageError(f"--phases '{text}': expected N or A-B with phases 1..{len(PHASES)}, e.g. 1-3")
    first, last = int(match.group(1)), int(match.group(2) or match.group(1))
    if first > last:
        raise UsageError(f"--phases '{text}': {first} comes after {last}")
    return first, last


@dataclass
class PhaseSummary:
    number: int
    name: str
    status: str  # complete | failed | not_started
    components: dict[str, dict[str, Any]] = field(default_factory=dict)
    seconds: float | None = None


def summarise(cfg: AstrobioConfig, env: dict[str, str], last: int, task_seconds: dict[str, float]) -> list[PhaseSummary]:
    """Per phase: which artifacts are complete in the store, their metrics, and the steps' wall time.

    The first phase with an incomplete artifact is `failed`; every phase after it is `not_started`
    (the runner stops at the first failure, so no later phase ran on partial inputs).
    """
    store = open_store(cfg.store.uri, env)
    run_id = cfg.run.effective_run_id
    out: list[PhaseSummary] = []
    broken = False
    for phase in PHASES:
        if phase.number > last:
            break
        summary = PhaseSummary(phase.number, phase.name, "complete", seconds=0.0)
        for name in phase.components:
            prefix = artifact_prefix(run_id, phase.name, name)
            done = is_complete(store, prefix)
            seconds = task_seconds.get("production" if name == "production" else f"train-{name.replace('_', '-')}")
            summary.seconds = round((summary.seconds or 0.0) + (seconds or 0.0), 2)
            summary.components[name] = {"artifact": f"{store.uri.rstrip('/')}/{prefix}", "complete": done,
                                        "metrics": read_metrics(store, prefix, strict=False) if done else {}, "seconds": seconds}
        if broken:
            summary.status = "not_started"
        elif not all(c["complete"] for c in summary.components.values()):
            summary.status, broken = "failed", True
        out.append(summary)
    return out


def write_run_json(paths: list[Path], cfg: AstrobioConfig, phases: list[PhaseSummary], seconds: float,
                   error: str | None, runner: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Write the run's record (phases, the summary table, where logs and report are) to every path."""
    data = {"run_id": cfg.run.effective_run_id, "store": cfg.store.uri, "runner": runner,
            "wall_seconds": round(seconds, 2), "error": error,
            "phases": [p.__dict__ for p in phases], **(extra or {})}
    data["summary"] = [row.to_dict() for row in summary_rows(data["phases"])]
    for path in paths:
        atomic_write_bytes(path, (json.dumps(data, indent=2, default=str) + "\n").encode("utf-8"))
    return data


def _totals(cfg: AstrobioConfig, last: int) -> dict[str, int | None]:
    """Optimizer steps each component of phases 1..last trains for (None: not a training)."""
    names = [name for phase in PHASES if phase.number <= last for name in phase.components]
    return {name: cfg.component(name).trainer.max_steps if name in COMPONENT_FIELDS else None for name in names}


def failed_step(watcher: RunWatcher, log_dir: Path, lines: int = 15) -> dict[str, Any] | None:
    """The step that failed: its component, log file and the last lines of that log."""
    track = next((t for t in watcher.tracks.values() if t.state == "FAILED"), None)
    if track is None:
        return None
    task = kfp_component_name(track.component)
    return {"task": task, "component": track.component, "phase": track.phase.name,
            "log": str(log_path(log_dir, task)), "tail": tail(log_path(log_dir, task), lines, f"{track.component}: running ")}


def run_phases(cfg: AstrobioConfig, output: Path, last: int, env: dict[str, str],
               stream: TextIO | None = None, live: bool | None = None) -> tuple[list[PhaseSummary], str | None]:
    """Run phases 1..`last` locally; write run.json and the HTML report, also after a failure.

    The run folder is `output/<run_id>/`: each training's working folder, `logs/<step>.log` (all
    that KFP and the trainings print), `run.json` and `report.html`; `output/run.json` is a copy
    naming the latest run. `stream` (default stdout) gets the progress: a live table when `live`
    (default: when it is a terminal), else one line per event.
    A SIGTERM stops the run cleanly (`forward_sigterm`): the training in progress checkpoints, run.json
    is written, then `Terminated` (exit 143) is raised; `astrobio report` writes its report later.
    """
    from astrobio.pipeline.local_run import absolute_store_uri, run_pipeline_locally

    output = output.absolute()
    cfg = cfg.model_copy(update={
        "run": cfg.run.model_copy(update={"output_root": str(output)}),
        "store": cfg.store.model_copy(update={"uri": absolute_store_uri(cfg.store.uri)})})
    store = open_store(cfg.store.uri, env)
    store.check()
    run_dir = cfg.run.folder  # output/<run_id>: output_root is `output` from here on
    log_dir = run_dir / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    stream = stream or sys.stdout
    run_id = cfg.run.effective_run_id

    def metrics_of(name: str) -> dict[str, Any]:
        return read_metrics(store, artifact_prefix(run_id, phase_of_component(name).name, name), strict=False)

    watcher = RunWatcher(run_dir, log_dir, _totals(cfg, last), metrics_of, stream,
                         stream.isatty() if live is None else live)
    started = time.monotonic()
    error: str | None = None
    terminated: Terminated | None = None
    with kept_drawings(run_dir) as kept:
        drawer = SectionDrawer(kept, run_dir, env,
                               lambda name: (locate_artifact(cfg, name, env).uri, metrics_of(name)))
        succeeded = False
        try:
            with forward_sigterm(), watcher, steps_leave_drawing_to(kept):
                run_pipeline_locally(cfg, output, last, log_dir, draw_when_done(watcher, drawer), meanwhile=REPORT_MODULES)
            succeeded = True
        except Terminated as exc:
            error, terminated = str(exc), exc
        except AstrobioError as exc:
            error = str(exc)
        finally:  # after a failure or Ctrl-C only the drawing under way is waited for: the report draws the rest
            drawer.finish(cancel=not succeeded)
        phases, data = record_run(cfg, output, run_dir, log_dir, env, last, watcher, time.monotonic() - started, error)
        if terminated is not None:
            raise terminated  # exit 143 once run.json says where the run stopped (no report: the grace period is short)
        from astrobio.report.build import write_report  # imported while the first step ran (REPORT_MODULES)

        write_report(data, run_dir / REPORT_FILE, env, workdirs=run_dir, kept=kept)
    return phases, error


def draw_when_done(watcher: RunWatcher, drawer: SectionDrawer) -> Callable[[StepEvent], None]:
    """The runner's step-event hook: the watcher's view, then each training step that ended with its
    artifact complete goes to the drawer (its step left the drawing to this process, drawing.py)."""
    def on_event(event: StepEvent) -> None:
        watcher.event(event)
        track = watcher.tracks.get(event.task)
        if event.kind == "end" and track is not None and track.state in ("done", "reused") \
                and track.component in COMPONENT_FIELDS:
            drawer.submit(track.component)

    return on_event


@contextmanager
def kept_drawings(run_dir: Path) -> Iterator[Path]:
    """The folder where this run keeps its drawn figures for its report (report/drawn.py):
    made empty for this run, so nothing drawn by another run or another astrobio version is shown,
    and removed afterwards (a later `astrobio report` draws from the artifacts)."""
    folder = drawn_folder(run_dir)
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    try:
        yield folder
    finally:
        # a cache only: gone already (another run of this run id cleared it) must not replace the
        # run's own outcome (its error, or exit 143) with a clean-up traceback
        shutil.rmtree(folder, ignore_errors=True)


def record_run(cfg: AstrobioConfig, output: Path, run_dir: Path, log_dir: Path, env: dict[str, str], last: int,
               watcher: RunWatcher, seconds: float, error: str | None) -> tuple[list[PhaseSummary], dict[str, Any]]:
    """Write run.json (in the run folder, and a copy naming the latest run in `output`) from the store."""
    task_seconds = watcher.seconds()
    phases = summarise(cfg, env, last, task_seconds)
    extra = {"run_dir": str(run_dir), "logs": str(log_dir), "report": str(run_dir / REPORT_FILE),
             "failed_step": failed_step(watcher, log_dir) if error else None}
    return phases, write_run_json([output / RUN_FILE, run_dir / RUN_FILE], cfg, phases, seconds, error,
                                  "kfp.local SubprocessRunner", extra)
