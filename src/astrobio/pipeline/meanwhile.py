"""Import what a step needs after its training while the training runs, on the core it leaves idle.

A local pipeline step outside `astrobio run` (which draws them itself, phases/drawing.py) waits on
its `astrobio train` subprocess, then draws its component's figures for the KFP HTML output:
matplotlib, the report renderers and the component's figure module cost 0.7 s of imports
(measured 2026-12-03), paid after the training, in series with it. Smoke trainings
run one torch thread, so a second core is idle meanwhile; importing on a thread while the main
thread is blocked in `subprocess.call` takes that cost off the run's critical path.

In a step the thread starts only once the main thread has done its own work and waits on the
training (so the two never import side by side and nothing competes for the GIL); `astrobio run`
starts it with the runner (see `local_run.py`). A failed import is reported on stderr by the
thread's excepthook and raised again, properly, where the module is imported for use.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager


def _import_all(modules: Sequence[str]) -> None:
    for name in modules:
        importlib.import_module(name)


@contextmanager
def imported_meanwhile(modules: Sequence[str]) -> Iterator[None]:
    """Import `modules` on a second thread while the body runs; wait for it before leaving."""
    if not modules:
        yield
        return
    thread = threading.Thread(target=_import_all, args=(tuple(modules),), name="astrobio-step-imports", daemon=True)
    thread.start()
    try:
        yield
    finally:
        thread.join()


def report_modules(component: str) -> tuple[str, ...]:
    """What a train step imports after its training: the step report, the renderers, the figure hook."""
    from astrobio.catalog import figure_module

    module = figure_module(component)
    return ("astrobio.pipeline.report", "astrobio.report.build", *([module] if module else []))
