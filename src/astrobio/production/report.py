"""The phase-5 report as data: flat metrics, JSON document, Markdown and HTML, all pure functions.

Flat metric names follow the project's `baseline_<name>_<metric>` convention so the KFP metrics
table and `astrobio run` show int8 next to fp32: where int8 applies, `<c>_p50_ms`, `<c>_p95_ms` and
`<c>_<test metric>` are the int8 model's and `baseline_fp32_<c>_...` the fp32 model's; where it does
not, they are the fp32 model's and there is no baseline. `<c>_int8_speedup` (p50 fp32 / p50 int8)
and `<c>_int8_metric_delta` (int8 - fp32 of the primary test metric) say it in one number each.
"""

from __future__ import annotations

import html
import math
import platform
from collections.abc import Mapping, Sequence
from typing import Any

import torch


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def component_metrics(r: Mapping[str, Any]) -> dict[str, float]:
    """The flat metrics of one released component report (ComponentReport.to_dict())."""
    c, out = r["component"], {}
    if r.get("status") != "released":
        return out
    fp32, int8 = r.get("latency_fp32") or {}, r.get("latency_int8") or {}
    out[f"{c}_int8_applied"] = 1.0 if int8 else 0.0
    for q in ("p50_ms", "p95_ms"):
        if int8:
            out[f"{c}_{q}"], out[f"baseline_fp32_{c}_{q}"] = int8[q], fp32[q]
        elif fp32:
            out[f"{c}_{q}"] = fp32[q]
    if _finite(r.get("speedup")):
        out[f"{c}_int8_speedup"] = r["speedup"]
    metric = r.get("metric")
    if metric and metric in r.get("metrics_fp32", {}):
        m8 = r.get("metrics_int8", {})
        if metric in m8:
            out[f"{c}_{metric}"], out[f"baseline_fp32_{c}_{metric}"] = m8[metric], r["metrics_fp32"][metric]
            out[f"{c}_int8_metric_delta"] = r["metric_deltas"].get(metric, m8[metric] - r["metrics_fp32"][metric])
        else:
            out[f"{c}_{metric}"] = r["metrics_fp32"][metric]
    return {k: float(v) for k, v in out.items() if _finite(v)}


def flat_metrics(reports: Sequence[Mapping[str, Any]], registered: int, new_versions: int) -> dict[str, float]:
    """metrics.json of the production artifact: counts, then every released component's numbers."""
    released = [r for r in reports if r.get("status") == "released"]
    out: dict[str, float] = {
        "registered_artifacts": float(registered),
        "new_registry_versions": float(new_versions),
        "released_components": float(len(released)),
        "skipped_components": float(len(reports) - len(released)),
        "exported_components": float(sum(1 for r in released
                                         if (r.get("export_fp32") or {}).get("method") not in (None, "state_dict"))),
        "quantized_components": float(sum(1 for r in released if r.get("latency_int8"))),
    }
    for r in reports:
        out.update(component_metrics(r))
    return out


def machine_info() -> dict[str, Any]:
    """Where the numbers were measured: latency means nothing without the CPU and threads."""
    return {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
            "python": platform.python_version(), "torch": torch.__version__,
            "torch_threads": torch.get_num_threads(), "quantized_engine": torch.backends.quantized.engine}


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}" if math.isfinite(value) else str(value)
    return str(value)


def _row_cells(r: Mapping[str, Any], entry: Mapping[str, Any] | None) -> list[str]:
    """The summary-table cells of one component (shared by Markdown and HTML)."""
    fp32, int8 = r.get("latency_fp32") or {}, r.get("latency_int8") or {}
    metric = r.get("metric")
    delta = r.get("metric_deltas", {}).get(metric) if metric else None
    export = (r.get("export_fp32") or {}).get("method", "-")
    if r.get("export_int8"):
        export += f" / int8: {r['export_int8']['method']}"
    return [r["component"], (entry or {}).get("version", "-"), r.get("status", "-"),
            _fmt(fp32.get("p50_ms")), _fmt(fp32.get("p95_ms")), _fmt(int8.get("p50_ms")), _fmt(int8.get("p95_ms")),
            _fmt(r.get("speedup"), 2), metric or "-", _fmt(r.get("metrics_fp32", {}).get(metric) if metric else None, 4),
            _fmt(delta, 4), export]


HEADER = ["component", "version", "status", "fp32 p50 ms", "fp32 p95 ms", "int8 p50 ms", "int8 p95 ms",
          "int8 speedup", "metric", "fp32 value", "int8 delta", "export"]


def _notes(r: Mapping[str, Any]) -> list[str]:
    """Reasons for skipped components/stages and failed export attempts, one line each."""
    notes = [f"skipped: {r['reason']}"] if r.get("reason") else []
    notes += [f"{stage} skipped: {why}" for stage, why in (r.get("skipped") or {}).items()]
    quant = r.get("quantize") or {}
    if quant and not quant.get("applied"):
        notes.append(f"int8 not applied: {quant.get('reason')}")
    for label in ("export_fp32", "export_int8"):
        for method, why in ((r.get(label) or {}).get("attempts") or {}).items():
            notes.append(f"{label} {method} failed: {why}")
    return notes


def render_markdown(doc: Mapping[str, Any]) -> str:
    """report.md: one summary table, then per-component notes, registry entries and the machine."""
    entries = {e["component"]: e for e in doc.get("entries", [])}
    lines = [f"# Production report: run {doc.get('run_id')}", "",
             "| " + " | ".join(HEADER) + " |", "|" + " --- |" * len(HEADER)]
    for r in doc.get("components", []):
        lines.append("| " + " | ".join(_row_cells(r, entries.get(r["component"]))) + " |")
    lines += ["", "## Notes", ""]
    for r in doc.get("components", []):
        lines += [f"- {r['component']}: {note}" for note in _notes(r)]
    lines += ["", "## Registry", ""]
    for e in doc.get("entries", []):
        lines.append(f"- {e['component']} {e.get('version')} ({e.get('registry_status')}) alias: "
                     f"{', '.join(e.get('aliases') or []) or '-'} from {e.get('uri')}")
    lines += ["", "## Machine", ""] + [f"- {k}: {v}" for k, v in (doc.get("machine") or {}).items()]
    return "\n".join(lines) + "\n"


def render_html(doc: Mapping[str, Any]) -> str:
    """The HTML fragment for the step's report page (appended below the metrics table)."""
    esc = html.escape
    entries = {e["component"]: e for e in doc.get("entries", [])}
    head = "".join(f"<th>{esc(h)}</th>" for h in HEADER)
    rows = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in _row_cells(r, entries.get(r["component"]))) + "</tr>"
                   for r in doc.get("components", []))
    notes = "".join(f"<li>{esc(r['component'])}: {esc(n)}</li>" for r in doc.get("components", []) for n in _notes(r))
    machine = ", ".join(f"{esc(str(k))}={esc(str(v))}" for k, v in (doc.get("machine") or {}).items())
    return (f"<h3>Export, int8 and latency</h3><table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"
            f"<ul>{notes}</ul><p>measured on: {machine}</p>")
