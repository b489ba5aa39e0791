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
