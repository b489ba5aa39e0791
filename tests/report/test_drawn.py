"""The drawn-figure cache of a local run (report/drawn.py): a step's drawing is reused by the run
report only for byte-identical inputs, and the report reads the same either way."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from astrobio.report import build
from astrobio.report.build import render_report, section_figures
from astrobio.report.collect import read_artifact
from astrobio.report.drawn import drawn_key
from tests.report.fixture_run import write_run


@pytest.fixture()
def run_dir(tmp_path: Path) -> Path:
    return write_run(tmp_path)


def _artifact(run_dir: Path, name: str) -> tuple[dict, object]:
    run = json.loads((run_dir / "run.json").read_text())
    info = next(p["components"][name] for p in run["phases"] if name in p["components"])
    return info["metrics"], read_artifact(info["artifact"], {})


def _count_draws(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    real = build.draw_section

    def counting(name, *args):
        calls.append(name)
        return real(name, *args)

    monkeypatch.setattr(build, "draw_section", counting)
    return calls


def test_a_kept_drawing_is_reused_and_reads_the_same(run_dir, tmp_path, monkeypatch):
    kept = tmp_path / "kept"
    kept.mkdir()
    metrics, files = _artifact(run_dir, "causal")
    calls = _count_draws(monkeypatch)
    first = section_figures("causal", metrics, files, tmp_path, kept, keep=True)
    again = section_figures("causal", metrics, files, tmp_path, kept, keep=True)
    assert calls == ["causal"], "the second call must read the kept drawing"
    assert again == first and len(first.figures) == 3
    assert [p.name for p in kept.iterdir()] == [f"{drawn_key('causal', metrics, files)}.json"]


def test_other_inputs_are_drawn_again_not_shown_stale(run_dir, tmp_path, monkeypatch):
    kept = tmp_path / "kept"
    kept.mkdir()
    metrics, files = _artifact(run_dir, "causal")
    calls = _count_draws(monkeypatch)
    section_figures("causal", metrics, files, tmp_path, kept, keep=True)
    section_figures("causal", {**metrics, "test_shd": 1.0}, files, tmp_path, kept, keep=True)  # other metrics
    files.files["metrics.jsonl"] += b'{"step": 999, "train_loss": 0.5}\n'  # a longer history
    section_figures("causal", metrics, files, tmp_path, kept, keep=True)
    assert calls == ["causal"] * 3 and len(list(kept.iterdir())) == 3


def test_a_damaged_entry_is_drawn_again(run_dir, tmp_path, monkeypatch):
    kept = tmp_path / "kept"
    kept.mkdir()
    metrics, files = _artifact(run_dir, "datacube")
    first = section_figures("datacube", metrics, files, tmp_path, kept, keep=True)
    entry = next(kept.iterdir())
    entry.write_text('{"figures": [["cut')  # a half-written file
    calls = _count_draws(monkeypatch)
    assert section_figures("datacube", metrics, files, tmp_path, kept) == first
    assert calls == ["datacube"]


def test_without_the_folder_nothing_is_kept(run_dir, tmp_path):
    metrics, files = _artifact(run_dir, "spectra")
    section_figures("spectra", metrics, files, tmp_path, tmp_path / "absent", keep=True)
    assert not (tmp_path / "absent").exists()


def test_the_report_only_reads_and_a_failed_figure_is_not_kept(run_dir, tmp_path, monkeypatch):
    """The run report never writes into the folder (its renderer stays a function of its inputs);
    a step's drawing whose component figure failed is not kept: the report tries it again."""
    kept = tmp_path / "kept"
    kept.mkdir()
    metrics, files = _artifact(run_dir, "fusion")
    section_figures("fusion", metrics, files, tmp_path, kept)  # keep=False: the report's way
    assert list(kept.iterdir()) == []

    def broken(folder):
        raise OSError("figure_data.npz unreadable in this process")

    monkeypatch.setattr(build, "component_figure", lambda name, folder: broken(folder))
    failed = section_figures("fusion", metrics, files, tmp_path, kept, keep=True)
    assert any(n.startswith("component figure failed: OSError") for n in failed.notes)
    assert list(kept.iterdir()) == []


def test_the_report_is_byte_identical_with_kept_drawings(run_dir, tmp_path, monkeypatch):
    run = json.loads((run_dir / "run.json").read_text())
    fresh = render_report(run, {}, run_dir)
    kept = tmp_path / "kept"
    kept.mkdir()
    for phase in run["phases"]:  # what the steps leave: each one's section, kept
        for name, info in phase["components"].items():
            files = read_artifact(info["artifact"], {}, run_dir / name)
            section_figures(name, info["metrics"], files, tmp_path, kept, keep=True)
    calls = _count_draws(monkeypatch)
    assert render_report(run, {}, run_dir, kept) == fresh
    assert calls == []
