"""Build the HTML report of a run: from its run.json (a run folder) or straight from a store.

`write_report` is what `astrobio run` calls at the end of every run (also a failed one) and what
`astrobio report` calls for a finished run; `component_part` is shared with the KFP step's HTML
output artifact, so the KFP UI shows the same figures as the local report.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from astrobio.catalog import PHASES, get_figure
from astrobio.report import REPORT_FILE
from astrobio.report.collect import ArtifactFiles, figure_dir, read_artifact
from astrobio.report.drawn import FAILED_NOTE, Drawn, drawn_key, keep_drawn, load_drawn
from astrobio.report.figures import baseline_figure, curves_figure, dag_figure, to_svg
from astrobio.report.page import ComponentPart, render_page
from astrobio.report.summary import baselines_of, headline, summary_row, summary_rows
from astrobio.store import artifact_prefix, is_complete, open_store
from astrobio.store.artifacts import read_metrics
from astrobio.store.atomic import atomic_write_bytes

__all__ = ["REPORT_FILE", "component_part", "render_report", "run_from_store", "step_figures_html", "write_report"]


def component_figure(name: str, folder: Path) -> Any:
    """The component's own figure through its optional `figure` hook (None when it has none)."""
    hook = get_figure(name)
    return hook(folder) if hook is not None else None


def draw_section(name: str, metrics: Mapping[str, Any], files: ArtifactFiles, scratch: Path) -> Drawn:
    """A complete artifact's figures: training curves, model vs baselines, the component's own figure."""
    drawn = Drawn()
    head = headline(name, metrics)
    curves = curves_figure(files.history(), head[0].replace("test_", "val_", 1) if head else None)
    if curves is not None:
        drawn.figures.append(("training loss and validation metric by step (metrics.jsonl)", to_svg(curves, f"{name}-curves")))
    else:
        drawn.notes.append("no training history (metrics.jsonl) in the artifact")
    if head is not None and baselines_of(head[0], metrics):
        bars = baseline_figure(head[0], float(metrics[head[0]]), baselines_of(head[0], metrics), head[1])
        drawn.figures.append(("held-out metric: model vs baselines", to_svg(bars, f"{name}-baselines")))
    try:
        fig = component_figure(name, figure_dir(files, scratch))
    except Exception as exc:  # a figure must not cost the report: say what went wrong instead
        drawn.notes.append(f"{FAILED_NOTE}: {type(exc).__name__}: {exc}")
        return drawn
    if fig is not None:
        drawn.figures.append((f"{name}: component figure", to_svg(fig, f"{name}-figure")))
    else:
        drawn.notes.append("the artifact holds no figure data")
    return drawn


def section_figures(name: str, metrics: Mapping[str, Any], files: ArtifactFiles, scratch: Path,
                    kept: Path | None, keep: bool = False) -> Drawn:
    """`draw_section`, or the same drawing this run's drawer kept in the folder `kept` (see drawn.py);
    `keep`: a new drawing is kept there (the drawer's, for the run report; the report itself only reads)."""
    if kept is None or not kept.is_dir():
        return draw_section(name, metrics, files, scratch)
    key = drawn_key(name, metrics, files)
    drawn = load_drawn(kept, key)
    if drawn is None:
        drawn = draw_section(name, metrics, files, scratch)
        if keep:
            keep_drawn(kept, key, drawn)
    return drawn


def component_part(name: str, phase: str, info: Mapping[str, Any], files: ArtifactFiles,
                   scratch: Path, kept: Path | None = None) -> ComponentPart:
    """One component's section: facts, training curves, model vs baselines, its own figure."""
    metrics = info.get("metrics") or {}
    row = summary_row(phase, name, metrics, info.get("seconds"), "complete" if info.get("complete") else "incomplete")
    facts = {"artifact": files.uri, "wall time": f"{info['seconds']:.1f} s" if info.get("seconds") else "-"}
    part = ComponentPart(name, phase, row.status, facts, files.card_link() if "model_card.md" in files.files else None)
    if not info.get("complete"):
        part.notes.append("no complete artifact: nothing to plot")
        return part
    drawn = section_figures(name, metrics, files, scratch, kept)
    part.figures.extend(drawn.figures)
    part.notes.extend(drawn.notes)
    return part


def render_report(run: Mapping[str, Any], env: Mapping[str, str], workdirs: Path | None = None,
                  kept: Path | None = None) -> str:
    """The report page of a run record (`run.json`'s content); `kept`: the folder where this run
    kept its drawings (drawn.py), reused when their inputs are byte-identical."""
    phases = run.get("phases", [])
    needs = {p.name: p.needs for p in PHASES}
    rows = summary_rows(phases)
    parts = []
    with tempfile.TemporaryDirectory(prefix="astrobio-report-") as tmp:
        scratch = Path(tmp)
        for phase in phases:
            for name, info in phase["components"].items():
                if name == "production" or phase["status"] == "not_started":
                    continue
                files = (read_artifact(info["artifact"], env, workdirs / name if workdirs else None)
                         if info.get("complete") else ArtifactFiles(info["artifact"]))
                parts.append(component_part(name, phase["name"], info, files, scratch, kept))
        dag = to_svg(dag_figure(phases, needs), "dag")
    return render_page(run, rows, dag, parts)


def write_report(run: Mapping[str, Any], path: Path, env: Mapping[str, str], workdirs: Path | None = None,
                 kept: Path | None = None) -> Path:
    """Render and write the report atomically; returns its path."""
    atomic_write_bytes(path, render_report(run, env, workdirs, kept).encode("utf-8"))
    return path


def run_from_store(store_uri: str, run_id: str, env: Mapping[str, str]) -> dict[str, Any]:
    """A run record rebuilt from the store alone (a cluster run has no local run.json)."""
    store = open_store(store_uri, env)
    phases, broken = [], False
    for phase in PHASES:
        components = {}
        for name in phase.components:
            prefix = artifact_prefix(run_id, phase.name, name)
            done = is_complete(store, prefix)
            metrics = read_metrics(store, prefix, strict=True) if done else {}
            components[name] = {"artifact": f"{store.uri.rstrip('/')}/{prefix}", "complete": done,
                                "metrics": metrics, "seconds": None}
        status = "not_started" if broken else "complete" if all(c["complete"] for c in components.values()) else "failed"
        broken = broken or status != "complete"
        phases.append({"number": phase.number, "name": phase.name, "status": status, "components": components,
                       "seconds": None})
    if not any(c["complete"] for p in phases for c in p["components"].values()):
        from astrobio.errors import UsageError

        raise UsageError(f"run '{run_id}': no complete artifact under {store.uri.rstrip('/')}/runs/{run_id}/")
    return {"run_id": run_id, "store": store.uri, "error": None, "phases": phases, "wall_seconds": 0.0}


def step_figures_html(component: str, phase: str, artifact_uri: str, metrics: Mapping[str, Any],
                      env: Mapping[str, str]) -> str:
    """The figures of one component's section, for the KFP step's HTML output artifact: the same
    renderer as the run report, so the KFP UI shows the same curves and figures."""
    from astrobio.errors import AstrobioError
    from astrobio.report.page import STYLE, component_section

    info = {"complete": True, "metrics": dict(metrics), "seconds": None}
    try:
        with tempfile.TemporaryDirectory(prefix="astrobio-step-report-") as tmp:
            part = component_part(component, phase, info, read_artifact(artifact_uri, env), Path(tmp))
    except AstrobioError as exc:  # the artifact is published; a report that cannot read it says why
        return f"<p>figures unavailable: {exc}</p>"
    return f"<style>{STYLE}</style>{component_section(part)}"
