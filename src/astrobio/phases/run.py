"""`astrobio run`: the five phases on this machine, through the pipeline graph the cluster runs.

The KFP pipeline (`astrobio.pipeline.kfp_pipeline`, built from `phases/graph.py`) is executed by
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
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from astrobio.config import AstrobioConfig
from astrobio.errors import AstrobioError, UsageError
from astrobio.phases.graph import PHASES
from astrobio.phases.interrupt import Terminated, forward_sigterm
from astrobio.store import KeyNotFound, artifact_prefix, is_complete, join_key, open_store
from astrobio.trainer.atomic import write_text_atomic

RUN_FILE = "run.json"


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


def read_metrics(store: Any, prefix: str) -> dict[str, float]:
    try:
        return json.loads(store.get_bytes(join_key(prefix, "metrics.json")))
    except (KeyNotFound, ValueError):
        return {}


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
                                        "metrics": read_metrics(store, prefix) if done else {}, "seconds": seconds}
        if broken:
            summary.status = "not_started"
        elif not all(c["complete"] for c in summary.components.values()):
            summary.status, broken = "failed", True
        out.append(summary)
    return out


def write_run_json(path: Path, cfg: AstrobioConfig, phases: list[PhaseSummary], seconds: float,
                   error: str | None, runner: str) -> None:
    data = {"run_id": cfg.run.effective_run_id, "store": cfg.store.uri, "runner": runner,
            "wall_seconds": round(seconds, 2), "error": error,
            "phases": [p.__dict__ for p in phases]}
    write_text_atomic(path, json.dumps(data, indent=2, default=str) + "\n")


def run_phases(cfg: AstrobioConfig, output: Path, last: int, env: dict[str, str]) -> tuple[list[PhaseSummary], str | None]:
    """Run phases 1..`last` locally; always write `output/run.json`, also after a failure.

    A SIGTERM stops the run cleanly (`forward_sigterm`): the training in progress checkpoints, run.json
    is written, then `Terminated` (exit 143) is raised.
    """
    from astrobio.pipeline.local_run import absolute_store_uri, run_pipeline_locally

    output = output.absolute()
    cfg = cfg.model_copy(update={
        "run": cfg.run.model_copy(update={"output_root": str(output)}),
        "store": cfg.store.model_copy(update={"uri": absolute_store_uri(cfg.store.uri)})})
    open_store(cfg.store.uri, env).check()
    output.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    error: str | None = None
    task_seconds: dict[str, float] = {}
    terminated: Terminated | None = None
    try:
        with forward_sigterm():
            result = run_pipeline_locally(cfg, output, last)
        task_seconds = {t.name: t.seconds for t in result.tasks}
    except Terminated as exc:
        error, terminated = str(exc), exc
    except AstrobioError as exc:
        error = str(exc)
    phases = summarise(cfg, env, last, task_seconds)
    write_run_json(output / RUN_FILE, cfg, phases, time.monotonic() - started, error, "kfp.local SubprocessRunner")
    if terminated is not None:
        raise terminated  # exit 143 once run.json says where the run stopped
    return phases, error
