"""Rows of the fault suite's table, rendered as text and as JSON."""

from __future__ import annotations

import json
import os
import platform
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class FaultRow:
    fault: str
    trials: int
    survived: int
    data_lost: int
    detail: str = ""


@dataclass
class FaultTable:
    rows: list[FaultRow] = field(default_factory=list)

    def record(self, fault: str, *, trials: int, survived: int, data_lost: int, detail: str = "") -> None:
        """Add one row; `survived`/`data_lost` are counts out of `trials`, measured by the test."""
        if not 0 <= survived <= trials or not 0 <= data_lost <= trials:
            raise ValueError(f"fault row '{fault}': survived {survived} / data_lost {data_lost} out of {trials}")
        self.rows.append(FaultRow(fault, trials, survived, data_lost, detail))

    def render(self) -> str:
        head = ("fault", "trials", "survived", "data lost", "measured")
        body = [(r.fault, str(r.trials), str(r.survived), str(r.data_lost), r.detail) for r in self.rows]
        widths = [max(len(row[i]) for row in (head, *body)) for i in range(len(head))]
        lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in (head, *body)]
        return "\n".join([lines[0], "  ".join("-" * w for w in widths), *lines[1:]])


def machine_info() -> dict[str, Any]:
    import torch

    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(), "torch": torch.__version__,
            "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None}


def write_report(path: str | os.PathLike[str], table: FaultTable, machine: dict[str, Any]) -> None:
    rows = [asdict(r) for r in table.rows]
    report = {"machine": machine, "all_survived": all(r.survived == r.trials and r.data_lost == 0 for r in table.rows),
              "rows": rows}
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(json.dumps(report, indent=2) + "\n")
    os.replace(tmp, target)
