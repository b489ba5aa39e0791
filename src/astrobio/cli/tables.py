"""Result tables printed by commands: held-out metrics next to each baseline."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from astrobio.heldout import baseline_rows


def metrics_table(title: str, metrics: dict[str, float]) -> Table:
    """Held-out metrics next to each baseline, one row per metric."""
    rows = baseline_rows(metrics)
    names = sorted({b for _, _, base in rows for b in base})
    table = Table(title=title)
    table.add_column("metric")
    table.add_column("model", justify="right")
    for name in names:
        table.add_column(f"baseline {name}", justify="right")
    for metric, value, base in rows:
        table.add_row(metric, f"{value:.4f}", *(f"{base[n]:.4f}" if n in base else "-" for n in names))
    return table


def print_table(table: Table) -> None:
    Console(width=max(100, Console().width)).print(table)
