"""What a person watching `astrobio run` sees: a live table on a terminal, one line per event otherwise.

Driven by the step events of `pipeline.step_logs` (a task started / ended) and by what each training
writes anyway: `<run folder>/<component>/metrics.jsonl` (the step of the last logged line, the
latest validation metric). Nothing parses a training's stdout, so a trainer printing more or less
cannot break the view. Training output itself is in the per-step log files.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from rich.console import Console
from rich.live import Live
from rich.table import Table

from astrobio.catalog import PHASES, Phase
from astrobio.pipeline.kfp_components import kfp_component_name
from astrobio.pipeline.step_logs import StepEvent, log_path
from astrobio.report.summary import fmt, headline, summary_row, verdict


@dataclass
class Track:
    """One component's state as the view shows it."""

    phase: Phase
    component: str
    total: int | None
    workdir: Path
    state: str = "waiting"  # waiting | preparing | training | done | reused | FAILED
    started: float | None = None
    ended: float | None = None
    step: int = 0
    first: tuple[float, int] | None = None  # (time, step) when training was first seen
    latest: str = ""
    outcome: str = ""

    def poll(self, now: float) -> None:
        """Read the step and the latest validation metric from the training's metrics.jsonl."""
        path = self.workdir / "metrics.jsonl"
        if self.state not in ("preparing", "training") or not path.is_file():
            return
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        if not rows:
            return
        self.state, self.step = "training", int(rows[-1].get("step", 0))
        if self.first is None:
            self.first = (now, self.step)
        val = [r for r in rows if any(k.startswith("val_") for k in r)]
        if val:
            head = headline(self.component, val[-1], "val")
            name = head[0] if head else next(k for k in val[-1] if k.startswith("val_"))
            self.latest = f"{name}={fmt(val[-1][name])}"

    def rate(self, now: float) -> float | None:
        if self.first is None or now <= self.first[0] or self.step <= self.first[1]:
            return None
        return (self.step - self.first[1]) / (now - self.first[0])


@dataclass
class RunWatcher:
    """Receives step events; prints them (plain) or keeps a rich Live table current (TTY)."""

    run_dir: Path
    log_dir: Path
    totals: dict[str, int | None]
    metrics_of: Callable[[str], dict[str, Any]]
    stream: TextIO
    live: bool
    tracks: dict[str, Track] = field(default_factory=dict)
    _live: Live | None = None

    def __post_init__(self) -> None:
        for phase in PHASES:
            for name in phase.components:
                if name in self.totals:
                    self.tracks[kfp_component_name(name)] = Track(phase, name, self.totals[name], self.run_dir / name)

    def __enter__(self) -> RunWatcher:
        if self.live:
            self._live = Live(self, console=Console(file=self.stream), refresh_per_second=2, transient=False)
            self._live.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None

    def seconds(self) -> dict[str, float]:
        """Wall time of every step that ran, by KFP task name (also when the run failed)."""
        return {task: round(t.ended - t.started, 2) for task, t in self.tracks.items()
                if t.started is not None and t.ended is not None}

    def _say(self, text: str) -> None:
        if not self.live:
            print(text, file=self.stream, flush=True)

    def event(self, ev: StepEvent) -> None:
        track = self.tracks.get(ev.task)
        if track is None:
            return
        now = time.monotonic()
        phase_tracks = [t for t in self.tracks.values() if t.phase.number == track.phase.number]
        if ev.kind == "start":
            if all(t.state == "waiting" for t in phase_tracks):
                self._say(f"phase {track.phase.number} {track.phase.name}: started")
            track.state, track.started = "preparing", now
            self._say(f"  {track.component}: started (log: {log_path(self.log_dir, ev.task)})")
            return
        track.poll(now)  # the last logged step, before the state leaves "training"
        track.ended = now
        track.state = {"SUCCESS": "done", "REUSED": "reused"}.get(ev.status, "FAILED")
        track.outcome = self._outcome(track)
        took = now - (track.started or now)
        self._say(f"  {track.component}: {track.state} in {took:.1f} s{track.outcome}")
        if all(t.state in ("done", "reused", "FAILED") for t in phase_tracks):
            spent = max(t.ended or now for t in phase_tracks) - min(t.started or now for t in phase_tracks)
            failed = any(t.state == "FAILED" for t in phase_tracks)
            self._say(f"phase {track.phase.number} {track.phase.name}: {'FAILED' if failed else 'done'} in {spent:.1f} s")

    def _outcome(self, track: Track) -> str:
        if track.state == "FAILED":
            return f" (log: {log_path(self.log_dir, kfp_component_name(track.component))})"
        row = summary_row(track.phase.name, track.component, self.metrics_of(track.component), None, track.state)
        if not row.metric:
            return ""
        base = f" vs {row.baseline} {fmt(row.baseline_value)} ({verdict(row)})" if row.baseline else ""
        return f": {row.metric}={fmt(row.value)}{base}"

    def __rich__(self) -> Table:
        now = time.monotonic()
        table = Table(title="astrobio run", expand=False)
        for col in ("phase", "component", "state", "step", "rate", "ETA", "latest / result"):
            table.add_column(col)
        for track in self.tracks.values():
            track.poll(now)
            rate = track.rate(now)
            eta = (track.total - track.step) / rate if rate and track.total and track.state == "training" else None
            steps = f"{track.step}/{track.total}" if track.total and track.state != "waiting" else ""
            table.add_row(f"{track.phase.number} {track.phase.name}", track.component, track.state, steps,
                          f"{rate:.1f}/s" if rate else "", f"{eta:.0f} s" if eta is not None else "",
                          track.outcome.lstrip(": ") or track.latest)
        return table
