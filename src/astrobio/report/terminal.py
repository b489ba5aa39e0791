"""The summary `astrobio run` prints once at the end: the same rows as run.json and the report."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TextIO

from rich.console import Console
from rich.table import Table

from astrobio.report.summary import SummaryRow, fmt, verdict


def summary_table(rows: list[SummaryRow]) -> Table:
    """Component, headline metric, best baseline, margin, verdict (red where the model loses), wall time."""
    table = Table(title="held-out metric vs best baseline")
    for col in ("phase", "component", "metric", "model", "best baseline", "margin", "verdict", "wall s"):
        table.add_column(col, justify="right" if col in ("model", "margin", "wall s") else "left")
    for r in rows:
        base = f"{r.baseline} {fmt(r.baseline_value)}" if r.baseline else "-"
        mark = verdict(r)
        table.add_row(r.phase, r.component, r.metric or "-", fmt(r.value), base, fmt(r.margin),
                      f"[bold red]{mark}[/]" if r.beats is False else mark, fmt(r.seconds))
    return table


def print_summary(run: Mapping[str, Any], rows: list[SummaryRow], stream: TextIO) -> None:
    """Summary table, wall time per phase, then where the artifacts, logs and report are."""
    console = Console(file=stream, width=max(110, Console(file=stream).width), soft_wrap=True)
    console.print(summary_table(rows))
    phases = ", ".join(f"{p['number']} {p['name']} {p['status']} {fmt(p.get('seconds'))} s" for p in run["phases"])
    console.print(f"phases: {phases}", highlight=False)
    console.print(f"artifacts: {run['store'].rstrip('/')}/runs/{run['run_id']}/", highlight=False)
    console.print(f"logs: {run.get('logs', '-')}", highlight=False)
    console.print(f"report: {run.get('report', '-')}", highlight=False)
    step = run.get("failed_step")
    if step:
        console.print(f"[bold red]failed step[/]: {step['task']} ({step['component']}); log {step['log']}; last lines:")
        for line in step.get("tail") or []:
            console.print(f"  {line}", markup=False, highlight=False)
