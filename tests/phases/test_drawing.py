"""The run's section drawer: a failed drawing is said and left to the report; a failed run's drawer
stops after the drawing under way. The whole path (steps draw nothing, each section drawn once
on the drawer thread, the report takes them) is tests/phases/test_run.py."""

from __future__ import annotations

import threading

from astrobio.phases.drawing import SectionDrawer


def test_a_failed_drawing_is_one_warning_not_an_error(tmp_path, capsys) -> None:
    def artifact_of(name: str) -> tuple[str, dict]:
        raise FileNotFoundError(f"no artifact for {name}")

    drawer = SectionDrawer(tmp_path, tmp_path, {}, artifact_of)
    drawer.submit("causal")
    drawer.finish()
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["warning: drawing a report section failed (FileNotFoundError: no artifact for causal); "
                   "the report draws it again"]
    assert list(tmp_path.iterdir()) == []


def test_cancel_drops_the_drawings_not_started(tmp_path) -> None:
    release, asked = threading.Event(), []

    def artifact_of(name: str) -> tuple[str, dict]:
        asked.append(name)
        release.wait(10)
        raise LookupError("stop here")  # the drawing itself is not what this test is about

    drawer = SectionDrawer(tmp_path, tmp_path, {}, artifact_of)
    drawer.submit("causal")
    drawer.submit("datacube")
    for _ in range(1000):  # the first drawing is under way
        if asked:
            break
        threading.Event().wait(0.01)
    finishing = threading.Thread(target=drawer.finish, kwargs={"cancel": True})
    finishing.start()
    queued = drawer._pending[1]
    for _ in range(1000):  # finish cancels what has not started, then waits on the drawing under way
        if queued.cancelled():
            break
        threading.Event().wait(0.01)
    release.set()
    finishing.join(10)
    assert not finishing.is_alive() and asked == ["causal"]
