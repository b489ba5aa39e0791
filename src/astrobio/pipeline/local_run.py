"""Run the very pipeline the cluster runs, on this machine, with KFP's local runner.

`kfp.local.SubprocessRunner(use_venv=False)` executes each step of `build_pipeline(cfg)` as a
subprocess of the current interpreter (so astrobio and torch come from this environment, and
nothing is pip-installed: the components set `install_kfp_package=False`), in topological order,
one at a time. The pipeline is called with mode `local`, so each step trains through `astrobio
train` (or `$ASTROBIO_TRAIN_COMMAND`) instead of creating a PyTorchJob. Steps whose artifact is
already COMPLETE for the run id are reused, so rerunning after a failure resumes.

Limits (kfp 2.13): no parallelism (phase-1 steps run one after another); platform settings
(secrets, GPUs, node selectors) are ignored; steps inherit this process's environment (store
credentials, ASTROBIO_TRAIN_COMMAND); `kfp.local.init` is process-global state. The runner also
replaces every 'python3' substring in a step's command line with this interpreter's path, so a
store path or config value containing 'python3' would be altered.
"""

from __future__ import annotations

import contextlib
import json
import re
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from astrobio.config import AstrobioConfig, to_yaml
from astrobio.errors import RuntimeFailure
from astrobio.pipeline.meanwhile import imported_meanwhile
from astrobio.pipeline.step_logs import StepEvent, StepLogRouter

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
KFP_LOCAL_DIR = "kfp-local"


@dataclass(frozen=True)
class LocalTask:
    """One finished step: its KFP task name, the artifact it produced, and its wall time."""

    name: str
    artifact_uri: str | None
    seconds: float


@dataclass(frozen=True)
class LocalRunResult:
    """Where kfp.local put its outputs, and the steps in the order they finished."""

    run_dir: Path
    tasks: list[LocalTask]
    seconds: float

    def artifact(self, task_name: str) -> str | None:
        return next((t.artifact_uri for t in self.tasks if t.name == task_name), None)


def absolute_store_uri(uri: str) -> str:
    """A local store path made absolute (steps and reports then name one unambiguous folder)."""
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:/", uri):
        return uri
    return str(Path(uri).expanduser().absolute())


def _collect(run_dir: Path, started: float) -> list[LocalTask]:
    """Steps in finishing order; each one's time is measured from the previous one's end (the runner
    is sequential), so it includes the runner's own per-step overhead."""
    finished = []
    for output in run_dir.glob("*/executor_output.json"):
        data: dict[str, Any] = json.loads(output.read_text(encoding="utf-8"))
        uri = data.get("parameterValues", {}).get("artifact_uri")
        finished.append((output.stat().st_mtime, output.parent.name, uri))
    tasks, previous = [], started
    for end, name, uri in sorted(finished):
        tasks.append(LocalTask(name, uri, round(end - previous, 2)))
        previous = end
    return tasks


def run_pipeline_locally(cfg: AstrobioConfig, workdir: Path, last_phase: int | None = None,
                         log_dir: Path | None = None,
                         on_event: Callable[[StepEvent], None] | None = None,
                         meanwhile: Sequence[str] = ()) -> LocalRunResult:
    """Run `build_pipeline(cfg)` under kfp.local in mode `local`; KFP outputs go to `workdir/kfp-local`.

    Everything kfp.local and the steps print goes to one log file per step under `log_dir`
    (default `workdir/logs`), not to the terminal; `on_event` hears each step start and end.
    Raises RuntimeFailure naming the failed step and its `error:` line if any step fails.
    The modules `meanwhile` are imported on a second thread from the moment the runner starts: it
    shares the interpreter with kfp's compiling of the pipeline for a moment (~0.1 s), then
    overlaps the first step, during which this process only waits. What the caller needs
    afterwards is then off the critical path.
    """
    from kfp import local

    from astrobio.pipeline.kfp_pipeline import build_pipeline

    root = Path(workdir).absolute() / KFP_LOCAL_DIR
    root.mkdir(parents=True, exist_ok=True)
    before = set(root.iterdir())
    local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root=str(root), raise_on_error=True)
    pipeline = build_pipeline(cfg, last_phase)
    router = StepLogRouter(log_dir or Path(workdir).absolute() / "logs", on_event or (lambda event: None))
    started = time.time()
    with warnings.catch_warnings(), contextlib.redirect_stdout(router):  # type: ignore[type-var]
        warnings.filterwarnings("ignore", message=".*non-Python base image.*", category=RuntimeWarning)
        try:
            with imported_meanwhile(meanwhile):  # joined before the router closes: nothing prints into a closed log
                pipeline(run_id=cfg.run.effective_run_id, config_yaml=to_yaml(cfg),
                         store_uri=absolute_store_uri(cfg.store.uri), mode="local")
        except RuntimeError as exc:
            # the failed command's own error line (if any), then the step's
            detail = f" ({'; '.join(dict.fromkeys(router.errors[-2:]))})" if router.errors else ""
            raise RuntimeFailure(f"local pipeline run failed: {_ANSI.sub('', str(exc))}{detail}") from None
        finally:
            router.close()
    new = sorted(set(root.iterdir()) - before)
    run_dir = new[-1] if new else root
    return LocalRunResult(run_dir, _collect(run_dir, started), round(time.time() - started, 2))
