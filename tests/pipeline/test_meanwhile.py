"""`imported_meanwhile`: a step imports what it needs after its training on a second thread while the
training runs; by the end of the block the modules are loaded, and a failed import is not hidden."""

from __future__ import annotations

import sys
import threading

import pytest

from astrobio.pipeline.meanwhile import imported_meanwhile, report_modules


def test_modules_are_imported_on_another_thread_during_the_block(tmp_path, monkeypatch):
    (tmp_path / "slow_to_import_probe.py").write_text(
        "import threading, time\nLOADED_ON = threading.current_thread().name\ntime.sleep(0.2)\nDONE = True\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "slow_to_import_probe", raising=False)
    with imported_meanwhile(["slow_to_import_probe"]):
        pass  # the body returns at once: leaving the block must wait for the whole import
    module = sys.modules["slow_to_import_probe"]
    assert module.LOADED_ON == "astrobio-step-imports" and module.DONE is True


def test_a_failed_import_is_reported_then_raised_where_the_step_imports_it(tmp_path, monkeypatch):
    seen: list[BaseException] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: seen.append(args.exc_value))
    with imported_meanwhile(["astrobio_no_such_module_here"]):
        pass
    assert len(seen) == 1 and isinstance(seen[0], ModuleNotFoundError)
    with pytest.raises(ModuleNotFoundError):
        __import__("astrobio_no_such_module_here")


def test_a_train_step_warms_the_renderers_and_its_own_figure_hook():
    assert report_modules("causal") == ("astrobio.pipeline.report", "astrobio.report.build",
                                        "astrobio.components.causal.figure")
