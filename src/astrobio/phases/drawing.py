"""Draw a finished step's report section in `astrobio run` while the next step trains.

Each training step of a local run used to draw its component's section (curves, model vs
baselines, the component's own figure) after its training, before it exited: 0.5-0.9 s a step
on the pipeline benchmark (measured 2026-12-03, after the other cuts of #19), in series with the
trainings. The run's report needs those drawings, the step's own KFP HTML output on this machine
is read by nobody else, and the parent process only waits while a step runs, with a core left
idle by a smoke training's one torch thread. So in `astrobio run` the steps leave the drawing to
the parent (`steps_leave_drawing_to`; their HTML says so), and the parent draws each finished
step's section on one background thread, into the run's kept-drawings folder (`report/drawn.py`),
under the key the report looks up. Only the last step's drawing is still waited for (before the
report); one that failed is drawn again by the report. On a cluster, steps draw their own.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from astrobio.pipeline.steps import RUN_DRAWS_ENV


@contextmanager
def steps_leave_drawing_to(kept: Path) -> Iterator[None]:
    """Tell the steps started meanwhile that this run draws their figures into `kept`.

    Through this process's environment, which kfp.local's runner hands to every step it starts
    (the only channel it has besides the pipeline's parameters, which are the cluster's too)."""
    before = os.environ.get(RUN_DRAWS_ENV)
    os.environ[RUN_DRAWS_ENV] = str(kept)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(RUN_DRAWS_ENV, None)
        else:
            os.environ[RUN_DRAWS_ENV] = before


class SectionDrawer:
    """One thread that draws finished steps' sections into `kept`, in the order they finished."""

    def __init__(self, kept: Path, run_dir: Path, env: Mapping[str, str],
                 artifact_of: Callable[[str], tuple[str, dict[str, Any]]]) -> None:
        """`artifact_of(component)`: the artifact URI and the held-out metrics the report will use."""
        self.kept, self.run_dir, self.env, self.artifact_of = kept, run_dir, env, artifact_of
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="astrobio-draw")
        self._pending: list[Future[None]] = []

    def submit(self, component: str) -> None:
        """Draw `component`'s section soon; returns at once."""
        self._pending.append(self._pool.submit(self._draw, component))

    def _draw(self, component: str) -> None:
        from astrobio.report.build import section_figures  # imported while the first step ran
        from astrobio.report.collect import read_artifact

        uri, metrics = self.artifact_of(component)
        files = read_artifact(uri, self.env, self.run_dir / component)
        with tempfile.TemporaryDirectory(prefix="astrobio-draw-") as tmp:
            section_figures(component, metrics, files, Path(tmp), self.kept, keep=True)

    def finish(self, cancel: bool = False) -> None:
        """Wait for the drawings (`cancel`: only the one under way, dropping those not started). A
        drawing that failed is said on stderr and left to the report, which draws what it lacks."""
        self._pool.shutdown(wait=True, cancel_futures=cancel)
        for future in self._pending:
            error = None if future.cancelled() else future.exception()
            if error is not None:
                print(f"warning: drawing a report section failed ({type(error).__name__}: {error}); "
                      "the report draws it again", file=sys.stderr)
