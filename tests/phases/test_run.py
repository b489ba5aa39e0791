"""`astrobio run`: a failed phase stops the run and is named in run.json; the rerun resumes,
reusing every complete artifact instead of training it again (fast train stub, real kfp.local)."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest

from astrobio.config import load_config
from astrobio.errors import UsageError
from astrobio.phases.run import parse_phase_range, run_phases
from astrobio.pipeline.launcher import TRAIN_COMMAND_ENV
from tests.pipeline.helpers import DEFAULT_CONFIG, fake_train_command


def completes(store: Path) -> dict[str, float]:
    return {str(p.parent.relative_to(store)): p.stat().st_mtime_ns for p in store.glob("runs/*/*/*/COMPLETE")}


def test_failed_phase_stops_the_run_then_the_rerun_resumes(tmp_path, monkeypatch):
    monkeypatch.setenv(TRAIN_COMMAND_ENV, fake_train_command())
    monkeypatch.setenv("FAKE_TRAIN_FAIL", "fusion")
    store = tmp_path / "store"
    cfg = load_config(DEFAULT_CONFIG, [f"store.uri={store}", "run.run_id=r1"])
    printed = io.StringIO()
    phases, error = run_phases(cfg, tmp_path / "out", 5, dict(os.environ), stream=printed)
    assert error and "train-fusion" in error
    run = json.loads((tmp_path / "out" / "run.json").read_text())
    lines = printed.getvalue().splitlines()  # off a terminal: one line per event, no KFP output
    assert lines[0] == "phase 1 pretrain: started" and lines[-1].startswith("phase 2 integrate: FAILED")
    assert len(lines) == 2 + 2 * 4 + 1 + 2 + 1 and not any("executor" in line.lower() for line in lines)
    assert run["failed_step"]["task"] == "train-fusion"
    assert "fake training of fusion failed on purpose" in run["failed_step"]["tail"]
    assert (tmp_path / "out" / "r1" / "logs" / "train-fusion.log").is_file()
    assert "Run failed" in (tmp_path / "out" / "r1" / "report.html").read_text()
    assert [row["component"] for row in run["summary"]] == ["graph_vae", "datacube", "spectra", "causal", "fusion", "llm", "galactic"]
    assert [p["status"] for p in run["phases"]] == ["complete", "failed", "not_started", "not_started", "not_started"]
    assert run["phases"][0]["components"]["graph_vae"]["metrics"]["test_auc"] == 0.88
    first = completes(store)
    assert sorted(first) == sorted(f"runs/r1/pretrain/{c}" for c in ("causal", "datacube", "graph_vae", "spectra"))

    monkeypatch.delenv("FAKE_TRAIN_FAIL")
    phases, error = run_phases(cfg, tmp_path / "out", 5, dict(os.environ))
    assert error is None and [p.status for p in phases] == ["complete"] * 5
    second = completes(store)
    for prefix, mtime in first.items():
        assert second[prefix] == mtime, f"{prefix} was trained again instead of reused"


def test_phase_range_stops_after_the_last_phase(tmp_path, monkeypatch):
    monkeypatch.setenv(TRAIN_COMMAND_ENV, fake_train_command())
    monkeypatch.delenv("FAKE_TRAIN_FAIL", raising=False)
    cfg = load_config(DEFAULT_CONFIG, [f"store.uri={tmp_path / 'store'}", "run.run_id=r2"])
    phases, error = run_phases(cfg, tmp_path / "out", 2, dict(os.environ))
    assert error is None and [p.name for p in phases] == ["pretrain", "integrate"]
    assert not list((tmp_path / "store").glob("runs/r2/llm_guided/*/COMPLETE"))


@pytest.mark.parametrize("text,expected", [("1-3", (1, 3)), ("2", (2, 2)), (" 1 - 5 ", (1, 5))])
def test_phase_range_parses(text, expected):
    assert parse_phase_range(text) == expected


@pytest.mark.parametrize("text", ["0-3", "3-1", "a", "1-6", ""])
def test_bad_phase_range_is_a_usage_error(text):
    with pytest.raises(UsageError, match="--phases"):
        parse_phase_range(text)


def test_each_section_is_drawn_once_by_the_run_while_the_steps_go_on(tmp_path, monkeypatch):
    """Inside `astrobio run` the steps draw nothing (their HTML output says who does); the run draws
    each finished step's section on its drawer thread (phases/drawing.py), the report at the end
    takes those drawings (report/drawn.py) instead of drawing again, and the folder they passed
    through is gone afterwards (a stale one is cleared first)."""
    import threading

    from astrobio.pipeline.report import DRAWN_BY_RUN
    from astrobio.pipeline.steps import RUN_DRAWS_ENV
    from astrobio.report import build
    from astrobio.report.drawn import DRAWN_DIR

    monkeypatch.setenv(TRAIN_COMMAND_ENV, fake_train_command())
    monkeypatch.delenv("FAKE_TRAIN_FAIL", raising=False)
    cfg = load_config(DEFAULT_CONFIG, [f"store.uri={tmp_path / 'store'}", "run.run_id=r3"])
    stale = tmp_path / "out" / "r3" / DRAWN_DIR
    stale.mkdir(parents=True)
    (stale / "left-by-another-run.json").write_text("{}")
    drawn_here: list[tuple[str, str]] = []
    real = build.draw_section
    monkeypatch.setattr(build, "draw_section",
                        lambda name, *a: drawn_here.append((name, threading.current_thread().name)) or real(name, *a))
    phases, error = run_phases(cfg, tmp_path / "out", 1, dict(os.environ))
    assert error is None and [p.status for p in phases] == ["complete"]
    assert sorted(name for name, _ in drawn_here) == sorted(("graph_vae", "datacube", "spectra", "causal"))
    assert all(thread.startswith("astrobio-draw") for _, thread in drawn_here), drawn_here
    assert not stale.exists() and RUN_DRAWS_ENV not in os.environ  # the steps' variable lives as long as the run
    page = (tmp_path / "out" / "r3" / "report.html").read_text()
    assert all(f"id='c-{name}'" in page for name in ("graph_vae", "datacube", "spectra", "causal"))
    assert page.count("<svg") >= 2  # the phase graph and a drawn section (the stub trains little); the next test compares bytes
    step_pages = list((tmp_path / "out" / "kfp-local").glob("*/train-*/report"))
    assert len(step_pages) == 4 and all(DRAWN_BY_RUN in p.read_text() and "<svg" not in p.read_text() for p in step_pages)


def test_the_report_without_kept_drawings_is_the_same_page(tmp_path, monkeypatch):
    """`astrobio report` on the finished run draws everything itself and writes the same figures."""
    from astrobio.report.build import render_report

    monkeypatch.setenv(TRAIN_COMMAND_ENV, fake_train_command())
    monkeypatch.delenv("FAKE_TRAIN_FAIL", raising=False)
    cfg = load_config(DEFAULT_CONFIG, [f"store.uri={tmp_path / 'store'}", "run.run_id=r4"])
    run_phases(cfg, tmp_path / "out", 1, dict(os.environ))
    run_dir = tmp_path / "out" / "r4"
    assert render_report(json.loads((run_dir / "run.json").read_text()), dict(os.environ), run_dir) == \
        (run_dir / "report.html").read_text()
