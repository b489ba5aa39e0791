"""The report's generic figures (phase DAG, training curves, model vs baselines) and SVG output.

matplotlib with the Agg backend, rendered to inline SVG text: the report needs no network, no
JavaScript and no image files next to it. Each figure gets its own `svg.hashsalt`, so the ids
inside several SVGs on one page never collide and the same input gives the same bytes.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.layout_engine import PlaceHolderLayoutEngine  # noqa: E402

STATUS_COLOURS = {"complete": "#b7e4c7", "failed": "#f4a3a3", "not_started": "#e0e0e0"}


def to_svg(fig: Figure, salt: str) -> str:
    """The figure as an `<svg>` element (no XML prolog, no DOCTYPE), then closed.

    Cropped to the figure's tight bounding box as `bbox_inches="tight"` would crop it, but measured
    with the canvas's (Agg) renderer: for "tight", or with any layout engine set, savefig first
    draws every artist once through the SVG renderer only to measure them
    (backend_bases.print_figure, matplotlib 3.11), then draws them again for real. A figure laid
    out once by `fig.tight_layout()` keeps a placeholder engine that only remembers that; it is
    dropped here (the layout is done) so that it does not cost that draw either. Measuring directly
    saves ~20% of a step's drawing (1.5 -> 1.2 s for the five smoke components' figures,
    2026-12-03); the crop's sides move by up to ~2 pt.
    """
    if isinstance(fig.get_layout_engine(), PlaceHolderLayoutEngine):
        fig.set_layout_engine(None)  # with the default rcParams: no engine at all
    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": salt, "svg.fonttype": "path"}):
        crop = fig.get_tightbbox(fig.canvas.get_renderer()).padded(matplotlib.rcParams["savefig.pad_inches"])
        fig.savefig(buffer, format="svg", bbox_inches=crop, metadata={"Date": None})  # no clock: same bytes
    plt.close(fig)
    text = buffer.getvalue()
    return text[text.index("<svg"):]


def _depths(phases: Sequence[Mapping[str, Any]], needs: Mapping[str, Sequence[str]]) -> dict[str, int]:
    depth: dict[str, int] = {}
    for phase in phases:  # PHASES order is topological
        depth[phase["name"]] = 1 + max((depth.get(n, -1) for n in needs.get(phase["name"], ())), default=-1)
    return depth


def direct_needs(needs: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
    """`needs` less the edges implied by others (production needs pretrain through integrate):
    the transitive reduction, so the drawing shows each dependency once."""
    def reaches(start: str, goal: str) -> bool:
        return any(n == goal or reaches(n, goal) for n in needs.get(start, ()))

    return {name: [n for n in deps if not any(reaches(other, n) for other in deps if other != n)]
            for name, deps in needs.items()}


def dag_figure(phases: Sequence[Mapping[str, Any]], needs: Mapping[str, Sequence[str]]) -> Figure:
    """The five phases left to right by dependency depth, coloured by status, with wall times."""
    depth = _depths(phases, needs)
    needs = direct_needs(needs)
    columns: dict[int, list[str]] = {}
    for name, d in depth.items():
        columns.setdefault(d, []).append(name)
    pos = {name: (d * 3.0, (len(col) - 1) / 2 - i) for d, col in columns.items() for i, name in enumerate(col)}
    fig, ax = plt.subplots(figsize=(2.6 * len(columns) + 1, 1.8 + 0.9 * max(len(c) for c in columns.values())))
    for phase in phases:
        for need in needs.get(phase["name"], ()):
            if need in pos:
                ax.annotate("", xy=(pos[phase["name"]][0] - 1.1, pos[phase["name"]][1]),
                            xytext=(pos[need][0] + 1.1, pos[need][1]), arrowprops={"arrowstyle": "->", "color": "#555"})
    for phase in phases:
        x, y = pos[phase["name"]]
        seconds = phase.get("seconds")
        label = (f"{phase['number']} {phase['name']}\n{', '.join(phase['components'])}\n"
                 f"{phase['status']}" + (f", {seconds:.0f} s" if seconds else ""))
        ax.text(x, y, label, ha="center", va="center", fontsize=8, wrap=True,
                bbox={"boxstyle": "round", "fc": STATUS_COLOURS.get(phase["status"], "#fff"), "ec": "#555"})
    ax.set_xlim(-1.5, 3.0 * (len(columns) - 1) + 1.5)
    ax.set_ylim(-max(len(c) for c in columns.values()) / 2 - 0.3, max(len(c) for c in columns.values()) / 2 + 0.3)
    ax.axis("off")
    return fig


def _finite(rows: Sequence[Mapping[str, Any]], key: str) -> tuple[list[float], list[float]]:
    points = [(float(r["step"]), float(r[key])) for r in rows
              if isinstance(r.get(key), (int, float)) and math.isfinite(float(r[key]))]
    return [p[0] for p in points], [p[1] for p in points]


def curves_figure(rows: Sequence[Mapping[str, Any]], val_metric: str | None) -> Figure | None:
    """Training loss and the validation metric (with its baselines as dashed lines) against step."""
    steps, loss = _finite(rows, "train_loss")
    if not steps and val_metric is None:
        return None
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.2))
    left.plot(steps, loss, color="#1f77b4")
    left.set(title="training loss", xlabel="step", ylabel="train_loss")
    if loss and min(loss) > 0 and max(loss) / min(loss) > 20:
        left.set_yscale("log")
    if val_metric is not None:
        vs, vv = _finite(rows, val_metric)
        right.plot(vs, vv, marker="o", color="#d62728", label="model")
        pattern = re.compile(rf"^baseline_(.+)_{re.escape(val_metric)}$")
        for i, key in enumerate(sorted({k for r in rows for k in r if pattern.match(k)})):
            bs, bv = _finite(rows, key)
            if bv:
                right.axhline(bv[-1], linestyle="--", linewidth=1, color=f"C{i % 9 + 1}" if i % 9 + 1 != 3 else "C9",
                              label=pattern.match(key).group(1))  # type: ignore[union-attr]
        right.legend(fontsize=7)
    right.set(title=f"validation: {val_metric or 'none recorded'}", xlabel="step")
    fig.tight_layout()
    return fig


def baseline_figure(metric: str, value: float, baselines: Mapping[str, float], goal: str) -> Figure:
    """Held-out headline metric of the model next to every baseline (better direction in the title)."""
    names = ["model", *sorted(baselines)]
    values = [value, *(baselines[n] for n in sorted(baselines))]
    fig, ax = plt.subplots(figsize=(5, 0.5 + 0.4 * len(names)))
    ax.barh(names, values, color=["#d62728"] + ["#999"] * len(baselines))
    ax.invert_yaxis()
    ax.set(title=f"{metric} ({'higher' if goal == 'max' else 'lower'} is better)", xlabel=metric)
    fig.tight_layout()
    return fig
