"""What a finished (or interrupted) study shows: a results table and an optimisation-history plot.

The plot: optuna.visualization needs plotly, which is not a dependency; matplotlib usually is
present (as a dependency of data packages), so the history is a PNG drawn with matplotlib's Agg
backend. Without matplotlib it is a self-contained HTML page with an inline SVG, so the study
folder always has a picture and no optional package is required.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.table import Table

STATE_NAMES = {"COMPLETE": "complete", "PRUNED": "pruned", "FAIL": "failed", "RUNNING": "running", "WAITING": "waiting"}


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def results_table(trials: Sequence[Any], metric: str, keys: Sequence[str], best_number: int | None) -> Table:
    """One row per trial: number, state, final objective, last reported value, parameters, duration, note.

    The final objective and a pruned/running trial's last intermediate value are separate columns:
    an intermediate value (say step 150 of 200) can exceed every complete trial's final value, and
    in one column it read as if a pruned trial had beaten the best one.
    """
    table = Table(title=f"tuning results ({metric})")
    table.add_column("trial", justify="right")
    table.add_column("state")
    table.add_column(f"final {metric}", justify="right")
    table.add_column("last reported", justify="right")
    for key in keys:
        table.add_column(key, justify="right")
    table.add_column("seconds", justify="right")
    table.add_column("note")
    for t in sorted(trials, key=lambda t: t.number):
        state = STATE_NAMES.get(t.state.name, t.state.name.lower())
        final = "-" if t.value is None else _fmt(t.value)
        last = "-" if t.value is not None or t.last_step is None else \
            f"{_fmt(t.intermediate_values[t.last_step])} @ step {t.last_step}"
        seconds = t.user_attrs.get("seconds")
        note = "best" if t.number == best_number else str(t.user_attrs.get("failure") or t.user_attrs.get("note") or "")
        table.add_row(str(t.number), state, final, last,
                      *(_fmt(t.params[k]) if k in t.params else "-" for k in keys),
                      "-" if seconds is None else f"{seconds:.1f}", note)
    return table


def history_points(trials: Sequence[Any], maximize: bool) -> tuple[list[tuple[int, float]], list[tuple[int, float]]]:
    """(completed trial values, best-so-far) as (trial number, value) pairs."""
    points = [(t.number, float(t.value)) for t in sorted(trials, key=lambda t: t.number)
              if t.state.name == "COMPLETE" and t.value is not None and math.isfinite(t.value)]
    best: list[tuple[int, float]] = []
    for number, value in points:
        if not best or (value > best[-1][1] if maximize else value < best[-1][1]):
            best.append((number, value))
        else:
            best.append((number, best[-1][1]))
    return points, best


def write_history_plot(trials: Sequence[Any], metric: str, maximize: bool, folder: Path) -> Path:
    """`history.png` (matplotlib) or `history.html` (inline SVG); returns the path written."""
    points, best = history_points(trials, maximize)
    try:
        import matplotlib

        matplotlib.use("Agg", force=True)
        import matplotlib.pyplot as plt
    except ImportError:
        return _write_svg_html(points, best, metric, folder / "history.html")
    from matplotlib.ticker import MaxNLocator

    fig, ax = plt.subplots(figsize=(7, 4), dpi=100)
    stopped = [(t.number, t.intermediate_values[t.last_step]) for t in trials
               if t.state.name == "PRUNED" and t.last_step is not None]
    if points:
        ax.plot([n for n, _ in points], [v for _, v in points], "o", label=metric)
        ax.step([n for n, _ in best], [v for _, v in best], where="post", label="best so far")
    if stopped:
        ax.plot([n for n, _ in stopped], [v for _, v in stopped], "x", color="grey", label="pruned (last report)")
    if points or stopped:
        ax.legend(loc="best")
    else:
        ax.text(0.5, 0.5, "no completed trial yet", ha="center", va="center", transform=ax.transAxes)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("trial")
    ax.set_ylabel(metric)
    ax.set_title(f"optimisation history ({'max' if maximize else 'min'} {metric})")
    ax.grid(alpha=0.3)
    path = folder / "history.png"
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def _write_svg_html(points: list[tuple[int, float]], best: list[tuple[int, float]], metric: str, path: Path) -> Path:
    width, height, pad = 640, 360, 48
    xs = [n for n, _ in points] or [0, 1]
    ys = [v for _, v in points] or [0.0, 1.0]
    x0, x1 = min(xs), max(max(xs), min(xs) + 1)
    y0, y1 = min(ys), max(ys)
    if y1 == y0:
        y0, y1 = y0 - 0.5, y1 + 0.5

    def sx(x: float) -> float:
        return pad + (x - x0) / (x1 - x0) * (width - 2 * pad)

    def sy(y: float) -> float:
        return height - pad - (y - y0) / (y1 - y0) * (height - 2 * pad)

    dots = "".join(f'<circle cx="{sx(n):.1f}" cy="{sy(v):.1f}" r="4" fill="#1f77b4"><title>trial {n}: {v:.6g}</title></circle>'
                   for n, v in points)
    line = " ".join(f"{sx(n):.1f},{sy(v):.1f}" for n, v in best)
    title = html.escape(f"optimisation history: {metric}")
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}">'
           f'<rect width="100%" height="100%" fill="white"/>'
           f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" stroke="black"/>'
           f'<line x1="{pad}" y1="{pad}" x2="{pad}" y2="{height - pad}" stroke="black"/>'
           f'<text x="{width / 2}" y="{height - 12}" text-anchor="middle">trial</text>'
           f'<text x="12" y="{pad - 16}">{html.escape(metric)} [{y0:.4g} .. {y1:.4g}]</text>'
           f'<polyline points="{line}" fill="none" stroke="#ff7f0e" stroke-width="2"/>{dots}</svg>')
    path.write_text(f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title></head>"
                    f"<body><h3>{title}</h3>{svg}</body></html>\n", encoding="utf-8")
    return path
