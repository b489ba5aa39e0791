"""Job status as one line, and a polling wait that prints a line only when that line changes.

Both the PyTorchJob (replicaStatuses) and TrainJob (jobsStatus) shapes are read from plain dicts,
so the formatting is pure and testable without a cluster.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from astrobio.errors import RuntimeFailure


def _counts(entry: dict[str, Any]) -> str:
    keys = ("active", "ready", "succeeded", "failed")
    shown = [f"{k}={entry[k]}" for k in keys if entry.get(k)]
    return " ".join(shown) or "pending"


def status_line(kind: str, name: str, obj: dict[str, Any]) -> str:
    """'PyTorchJob astrobio-graph-vae: Running (Master: active=1; Worker: active=1)'."""
    status = obj.get("status") or {}
    conditions = [c for c in status.get("conditions") or [] if c.get("status", "True") == "True"]
    last = conditions[-1] if conditions else None
    state = last["type"] if last else "Pending"
    groups = [f"{role}: {_counts(entry or {})}" for role, entry in sorted((status.get("replicaStatuses") or {}).items())]
    groups += [f"{entry.get('name', '?')}: {_counts(entry)}" for entry in status.get("jobsStatus") or []]
    line = f"{kind} {name}: {state}"
    if groups:
        line += f" ({'; '.join(groups)})"
    if last and state not in ("Running", "Created") and last.get("message"):
        line += f" - {last['message'].strip().splitlines()[0]}"
    return line


def current_state(obj: dict[str, Any]) -> set[str]:
    """Condition types that are True now."""
    return {c.get("type", "") for c in (obj.get("status") or {}).get("conditions") or []
            if c.get("status", "True") == "True"}


def wait_for_conditions(get: Callable[[], dict[str, Any]], kind: str, name: str, ns: str, *, done: set[str],
                        failed: set[str], timeout_s: float, poll_s: float, note: Callable[[str], None],
                        logs_hint: str = "", sleep: Callable[[float], None] = time.sleep,
                        clock: Callable[[], float] = time.monotonic) -> dict[str, Any]:
    """Poll until a `done` condition (return the object) or a `failed` one (RuntimeFailure)."""
    deadline = clock() + timeout_s
    previous = None
    while True:
        obj = get()
        line = status_line(kind, name, obj)
        if line != previous:
            note(line)
            previous = line
        state = current_state(obj)
        if state & failed:
            raise RuntimeFailure(f"{line}{'; logs: ' + logs_hint if logs_hint else ''}")
        if state & done:
            return obj
        if clock() >= deadline:
            raise RuntimeFailure(f"{kind} {ns}/{name} did not finish within {timeout_s:.0f}s; it keeps running")
        sleep(poll_s)
