"""The report's HTML: pure functions from already-rendered pieces (SVG text, rows) to one page.

One self-contained file: inline CSS, inline SVG, no script, no external URL (a data: favicon keeps a
browser from asking the network or the disk for one).
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from astrobio.report.summary import SummaryRow, fmt, verdict

STYLE = """
body{font-family:system-ui,sans-serif;margin:1.5em auto;max-width:1100px;color:#222}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
td:first-child,th:first-child,td.l{text-align:left}tr.lose td{background:#fde2e2}
.fail{background:#fde2e2;border:1px solid #d33;padding:.6em 1em}pre{background:#f5f5f5;padding:.5em;overflow-x:auto}
figure{margin:.5em 0}figure svg{max-width:100%;height:auto}section{border-top:2px solid #ddd;margin-top:1.5em}
.muted{color:#777}
"""


@dataclass
class ComponentPart:
    """One component's section: facts, and the figures already rendered to SVG."""

    name: str
    phase: str
    status: str
    facts: dict[str, str]
    card_link: str | None
    figures: list[tuple[str, str]] = field(default_factory=list)  # (caption, svg)
    notes: list[str] = field(default_factory=list)


def summary_table(rows: Sequence[SummaryRow]) -> str:
    """The run's summary: headline metric, best baseline, margin and verdict per component."""
    head = "".join(f"<th>{h}</th>" for h in ("phase", "component", "metric", "model", "best baseline",
                                             "baseline", "margin", "verdict", "wall s"))
    body = []
    for r in rows:
        cls = " class='lose'" if r.beats is False else ""
        cells = [r.phase, r.component, r.metric or "-", fmt(r.value), r.baseline or "-", fmt(r.baseline_value),
                 fmt(r.margin), verdict(r), fmt(r.seconds)]
        body.append(f"<tr{cls}>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in cells) + "</tr>")
    return f"<table id='summary'><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def failure_block(run: Mapping[str, Any]) -> str:
    """What failed and why: the error, the failed step, its log file and last lines."""
    if not run.get("error"):
        return ""
    step = run.get("failed_step") or {}
    where = (f"step <b>{html.escape(step['task'])}</b> ({html.escape(step['component'])}, phase "
             f"{html.escape(step['phase'])}) failed" if step else "the run failed")
    tail = "\n".join(step.get("tail") or [])
    log = f"<p>log: <code>{html.escape(step['log'])}</code></p><pre>{html.escape(tail)}</pre>" if step else ""
    return (f"<div class='fail' id='failure'><h2>Run failed</h2><p>{where}: {html.escape(str(run['error']))}</p>"
            f"{log}</div>")


def component_section(part: ComponentPart) -> str:
    facts = "".join(f"<li><b>{html.escape(k)}</b>: {html.escape(v)}</li>" for k, v in part.facts.items())
    card = f"<li><a href='{html.escape(part.card_link)}'>model card</a></li>" if part.card_link else ""
    figs = "".join(f"<figure>{svg}<figcaption>{html.escape(cap)}</figcaption></figure>" for cap, svg in part.figures)
    notes = "".join(f"<p class='muted'>{html.escape(n)}</p>" for n in part.notes)
    return (f"<section id='c-{html.escape(part.name)}'><h2>{html.escape(part.name)} "
            f"<span class='muted'>(phase {html.escape(part.phase)}, {html.escape(part.status)})</span></h2>"
            f"<ul>{facts}{card}</ul>{figs}{notes}</section>")


def render_page(run: Mapping[str, Any], rows: Sequence[SummaryRow], dag_svg: str, parts: Sequence[ComponentPart]) -> str:
    """The whole report of one run."""
    title = f"astrobio run {run.get('run_id', '')}"
    status = "FAILED" if run.get("error") else "complete"
    facts = {"status": status, "store": run.get("store", ""), "run folder": run.get("run_dir", ""),
             "logs": run.get("logs", ""), "wall time": f"{run.get('wall_seconds', 0):.1f} s"}
    items = "".join(f"<li><b>{k}</b>: {html.escape(str(v))}</li>" for k, v in facts.items() if v)
    phases = "".join(f"<tr><td>{p['number']} {html.escape(p['name'])}</td><td class='l'>{html.escape(p['status'])}</td>"
                     f"<td>{fmt(p.get('seconds'))}</td></tr>" for p in run.get("phases", []))
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<link rel='icon' href='data:,'><style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1>"
            f"<ul>{items}</ul>{failure_block(run)}<h2>Summary: held-out metric vs best baseline</h2>"
            f"{summary_table(rows)}<h2>Phases</h2><figure id='dag'>{dag_svg}<figcaption>phase graph, wall times"
            f"</figcaption></figure><table><thead><tr><th>phase</th><th>status</th><th>wall s</th></tr></thead>"
            f"<tbody>{phases}</tbody></table>{''.join(component_section(p) for p in parts)}</body></html>\n")
