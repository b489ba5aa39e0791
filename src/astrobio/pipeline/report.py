"""What a step shows in the KFP UI: a Metrics artifact and an HTML table of metrics vs baselines.

Pure functions of a `StepResult`, so the report is tested without KFP; metrics are grouped with
their baselines by `astrobio.heldout` (torch-free: a launcher pod waiting on a PyTorchJob does not
need the trainer).
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping
from typing import Any, Protocol

from astrobio.heldout import baseline_rows
from astrobio.pipeline.steps import StepResult


class MetricsSink(Protocol):
    """The one method of `kfp.dsl.Metrics` a step uses."""

    def log_metric(self, metric: str, value: float) -> None: ...


def numeric_metrics(metrics: Mapping[str, Any]) -> dict[str, float]:
    """Finite numbers only: KFP metrics must be floats and JSON cannot carry NaN or inf."""
    out = {}
    for name, value in metrics.items():
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            out[name] = float(value)
    return out


def log_metrics(sink: MetricsSink, metrics: Mapping[str, Any]) -> None:
    """Log every finite metric to the KFP Metrics artifact, in name order (stable UI tables)."""
    for name, value in sorted(numeric_metrics(metrics).items()):
        sink.log_metric(name, value)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4f}" if math.isfinite(value) else html.escape(str(value))
    return html.escape(str(value))


def metrics_table_html(metrics: Mapping[str, Any]) -> str:
    """An HTML table: one row per held-out metric, one column per baseline."""
    rows = baseline_rows(dict(sorted(metrics.items())))
    if not rows:
        return "<p>No metrics were recorded.</p>"
    names = sorted({b for _, _, base in rows for b in base})
    head = "".join(f"<th>baseline {html.escape(n)}</th>" for n in names)
    body = []
    for metric, value, base in rows:
        cells = "".join(f"<td>{_cell(base[n]) if n in base else '-'}</td>" for n in names)
        body.append(f"<tr><td>{html.escape(metric)}</td><td>{_cell(value)}</td>{cells}</tr>")
    return (f"<table><thead><tr><th>metric</th><th>model</th>{head}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table>")


STYLE = ("body{font-family:sans-serif;margin:1em}table{border-collapse:collapse}"
         "td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}td:first-child{text-align:left}")


def step_report_html(result: StepResult, extra: str = "") -> str:
    """The whole HTML page of one step: what ran, where its artifact is, metrics vs baselines."""
    facts = {"component": result.component, "phase": result.phase, "mode": result.mode,
             "artifact": result.artifact_uri,
             "outcome": "reused a complete artifact" if result.reused else "produced in this run", **result.details}
    items = "".join(f"<li><b>{html.escape(k)}</b>: {html.escape(str(v))}</li>" for k, v in facts.items())
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(result.component)}</title>"
            f"<style>{STYLE}</style></head><body><h2>{html.escape(result.component)}: held-out metrics vs baselines"
            f"</h2><ul>{items}</ul>{metrics_table_html(result.metrics)}{extra}</body></html>\n")


DRAWN_BY_RUN = ("<p>Figures: drawn by <code>astrobio run</code> into the run's report.html once this step "
                "ended (astrobio/phases/drawing.py).</p>")


def step_page(result: StepResult, env: Mapping[str, str]) -> str:
    """The step's HTML output: `step_report_html` with its component's figures, which the step draws
    itself except inside `astrobio run` (`result.drawn_dir` set), whose parent draws them for its
    report once the step has ended; matplotlib is then not even imported here."""
    if result.drawn_dir is not None:
        return step_report_html(result, DRAWN_BY_RUN)
    from astrobio.report.build import step_figures_html

    return step_report_html(result, step_figures_html(result.component, result.phase, result.artifact_uri,
                                                       result.metrics, env))
