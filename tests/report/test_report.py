"""The HTML report of a finished and of a failed run: self-contained, every figure, the failure named."""

from __future__ import annotations

import json
import re

from astrobio.cli import app
from astrobio.report.build import write_report
from astrobio.report.summary import summary_row, verdict
from tests.report.fixture_run import write_run
from typer.testing import CliRunner


def test_summary_row_marks_a_model_that_does_not_beat_its_baseline():
    lose = summary_row("pretrain", "spectra", {"test_rmse": 0.3, "baseline_interp_test_rmse": 0.2}, 1.0, "complete")
    win = summary_row("pretrain", "graph_vae", {"test_auc": 0.9, "baseline_l3_test_auc": 0.8,
                                                "baseline_cn_test_auc": 0.85}, 1.0, "complete")
    assert (lose.beats, round(lose.margin, 6), verdict(lose)) == (False, -0.1, "DOES NOT BEAT")
    assert (win.baseline, win.beats, round(win.margin, 6)) == ("cn", True, 0.05)


def test_report_is_self_contained_with_a_figure_per_component(tmp_path):
    run_dir = write_run(tmp_path)
    path = write_report(json.loads((run_dir / "run.json").read_text()), run_dir / "report.html", {}, run_dir)
    page = path.read_text()
    assert not re.search(r"""(src|href)=['"](https?:)?//""", page), "the report must not reach the network"
    assert "<script" not in page
    for name in ("graph_vae", "datacube", "spectra", "causal", "fusion", "galactic", "llm"):
        section = page[page.index(f"id='c-{name}'"):]
        section = section[:section.index("</section>")]
        assert section.count("<svg") == 3, f"{name}: curves, baselines and its own figure"
        assert "model_card.md" in section
    assert "DOES NOT BEAT" in page and "figure failed" not in page


def test_failed_run_report_names_the_step_and_why(tmp_path):
    run_dir = write_run(tmp_path, failed=True)
    path = write_report(json.loads((run_dir / "run.json").read_text()), run_dir / "report.html", {}, run_dir)
    page = path.read_text()
    failure = page[page.index("id='failure'"):]
    assert "train-fusion" in failure and "ValueError: fusion data is empty" in failure
    assert "id='c-llm'" not in page  # phases after the failure did not start


def test_report_command_from_a_run_folder_and_from_a_store_uri(tmp_path):
    run_dir = write_run(tmp_path)
    result = CliRunner().invoke(app, ["report", str(run_dir)])
    assert result.exit_code == 0, result.output
    assert (run_dir / "report.html").is_file()
    out = tmp_path / "from-store.html"
    result = CliRunner().invoke(app, ["report", f"{tmp_path / 'store'}/runs/r1", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text().count("<svg") >= 8


def test_report_command_unknown_run_is_one_line_exit_2(tmp_path):
    result = CliRunner().invoke(app, ["report", "nope", "--store", str(tmp_path)])
    assert result.exit_code == 2
    assert "no complete artifact" in result.output


def test_kfp_step_html_uses_the_same_figures(tmp_path):
    from astrobio.report.build import step_figures_html
    from tests.report.fixture_run import METRICS

    write_run(tmp_path)
    uri = str(tmp_path / "store" / "runs" / "r1" / "pretrain" / "datacube")
    part = step_figures_html("datacube", "pretrain", uri, METRICS["datacube"], {})
    assert part.count("<svg") == 3 and "id='c-datacube'" in part
    assert "figures unavailable" in step_figures_html("datacube", "pretrain", "s3://", {}, {})


def test_phase_graph_draws_each_dependency_once():
    from astrobio.catalog import PHASES
    from astrobio.report.figures import direct_needs

    assert direct_needs({p.name: p.needs for p in PHASES}) == {
        "pretrain": [], "integrate": ["pretrain"], "llm_guided": ["integrate"], "galactic": ["integrate"],
        "production": ["llm_guided", "galactic"]}
