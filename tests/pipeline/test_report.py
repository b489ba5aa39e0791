"""What a step shows in the KFP UI: finite metrics only, and a metrics-vs-baselines table."""

from __future__ import annotations

from astrobio.pipeline.report import DRAWN_BY_RUN, log_metrics, metrics_table_html, step_page, step_report_html
from astrobio.pipeline.steps import StepResult


class Sink:
    def __init__(self) -> None:
        self.logged: list[tuple[str, float]] = []

    def log_metric(self, metric: str, value: float) -> None:
        self.logged.append((metric, value))


def test_only_finite_numbers_reach_kfp_metrics() -> None:
    sink = Sink()
    log_metrics(sink, {"val_auc": 0.9, "loss": float("nan"), "note": "x", "flag": True, "steps": 3})
    assert sink.logged == [("steps", 3.0), ("val_auc", 0.9)]


def test_table_groups_baselines_with_their_metric() -> None:
    html = metrics_table_html({"val_auc": 0.9, "baseline_cn_val_auc": 0.7, "baseline_aa_val_auc": 0.6,
                               "test_auc": 0.8})
    assert "<th>baseline aa</th><th>baseline cn</th>" in html
    assert "<tr><td>val_auc</td><td>0.9000</td><td>0.6000</td><td>0.7000</td></tr>" in html
    assert "<tr><td>test_auc</td><td>0.8000</td><td>-</td><td>-</td></tr>" in html


def test_report_names_the_artifact_and_escapes() -> None:
    result = StepResult("graph_vae", "pretrain", "s3://b/<x>", {}, "kubeflow", details={"PyTorchJob": "ns/j"})
    page = step_report_html(result)
    assert "s3://b/&lt;x&gt;" in page and "ns/j" in page and "No metrics were recorded" in page


def test_inside_astrobio_run_the_step_page_leaves_the_figures_to_the_run(monkeypatch, tmp_path) -> None:
    """With the run's drawn-figures folder set the step draws nothing (the run does, phases/drawing.py);
    without it, on a cluster, the page carries the step's own figures (or why there are none)."""
    from astrobio.report import build

    drawn: list[str] = []
    monkeypatch.setattr(build, "step_figures_html", lambda component, *a: drawn.append(component) or "<svg/>")
    in_run = StepResult("causal", "pretrain", str(tmp_path), {}, "local", drawn_dir=str(tmp_path))
    assert DRAWN_BY_RUN in step_page(in_run, {}) and drawn == []
    alone = StepResult("causal", "pretrain", str(tmp_path), {}, "kubeflow")
    page = step_page(alone, {})
    assert drawn == ["causal"] and "<svg/>" in page and DRAWN_BY_RUN not in page


def test_only_the_run_that_made_the_folder_takes_the_drawing_over(tmp_path) -> None:
    """A drawn-figures folder left by a killed `astrobio run` must not stop a step run by hand from
    drawing: the step also needs the variable the live run sets for its steps, naming that folder."""
    from astrobio.config import load_config
    from astrobio.pipeline.steps import RUN_DRAWS_ENV, drawn_dir
    from astrobio.report.drawn import drawn_folder
    from tests.pipeline.helpers import DEFAULT_CONFIG

    cfg = load_config(DEFAULT_CONFIG, [f"run.output_root={tmp_path}", "run.run_id=r1"])
    folder = drawn_folder(cfg.run.folder)
    folder.mkdir(parents=True)
    assert drawn_dir(cfg, "local", {}) is None
    assert drawn_dir(cfg, "local", {RUN_DRAWS_ENV: str(tmp_path / "another-run")}) is None
    assert drawn_dir(cfg, "local", {RUN_DRAWS_ENV: str(folder)}) == str(folder)
    assert drawn_dir(cfg, "kubeflow", {RUN_DRAWS_ENV: str(folder)}) is None
    folder.rmdir()
    assert drawn_dir(cfg, "local", {RUN_DRAWS_ENV: str(folder)}) is None
