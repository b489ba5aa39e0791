"""Run one trial as a real `astrobio train` subprocess and watch its metrics while it runs.

Two streams, read live, because each carries something the other lacks:
- stdout `name=value` lines (parsed with the Katib collector's regex) are what a Katib trial is
  judged by, so the trial's value is the last printed value of the objective ("latest"), exactly
  what the Katib backend collects;
- `metrics.jsonl` rows carry the optimizer step, so intermediate values are reported by step.
A trial to be stopped gets SIGTERM (the trainer checkpoints and exits) and, after a grace period,
SIGKILL; it runs in its own process group so no child survives it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from astrobio.tune.metrics import jsonl_value, parse_metric_line

State = Literal["complete", "pruned", "failed"]
Report = Callable[[int, float], bool]
"""Called with (step, value) for each new intermediate value; returns True to stop the trial."""


@dataclass
class TrialOutcome:
    """How a trial ended and what it printed."""

    state: State
    value: float | None
    printed: dict[str, float] = field(default_factory=dict)
    reason: str = ""
    returncode: int | None = None
    seconds: float = 0.0
    reports: list[tuple[int, float]] = field(default_factory=list)


class TrialProcess:
    """A started `astrobio train` subprocess with live stdout parsing and incremental jsonl reads."""

    def __init__(self, argv: Sequence[str], workdir: Path, env: Mapping[str, str], cwd: Path | None = None) -> None:
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self._stdout_log = open(workdir / "stdout.log", "w", encoding="utf-8")
        self._stderr_log = open(workdir / "stderr.log", "w", encoding="utf-8")
        self.printed: dict[str, float] = {}
        self._lock = threading.Lock()
        self._offset = 0
        self.started = time.monotonic()
        self.proc = subprocess.Popen(list(argv), stdout=subprocess.PIPE, stderr=self._stderr_log, text=True,
                                     env=dict(env), cwd=cwd, start_new_session=True, bufsize=1)
        self._reader = threading.Thread(target=self._read_stdout, daemon=True)
        self._reader.start()

    def _read_stdout(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._stdout_log.write(line)
            self._stdout_log.flush()
            pairs = parse_metric_line(line)
            if pairs:
                with self._lock:
                    self.printed.update(pairs)

    def snapshot(self) -> dict[str, float]:
        with self._lock:
            return dict(self.printed)

    def new_rows(self) -> list[dict]:
        """Complete metrics.jsonl rows written since the last call."""
        path = self.workdir / "metrics.jsonl"
        if not path.is_file():
            return []
        with open(path, "rb") as fh:
            fh.seek(self._offset)
            data = fh.read()
        end = data.rfind(b"\n")
        if end < 0:
            return []
        self._offset += end + 1
        rows = []
        for raw in data[: end + 1].splitlines():
            try:
                row = json.loads(raw)
            except ValueError:
                continue
            if isinstance(row, dict):
                rows.append(row)
        return rows

    def poll(self) -> int | None:
        return self.proc.poll()

    def terminate(self, grace_s: float) -> int:
        """SIGTERM the process group, SIGKILL it after `grace_s`; returns the exit code."""
        for sig, wait in ((signal.SIGTERM, grace_s), (signal.SIGKILL, 30.0)):
            if self.proc.poll() is not None:
                break
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                self.proc.wait(timeout=wait)
            except subprocess.TimeoutExpired:
                continue
        return self.proc.wait()

    def close(self) -> None:
        """Wait for the reader to drain stdout, then close the logs."""
        self._reader.join(timeout=10)
        self._stdout_log.close()
        self._stderr_log.close()

    def error_line(self) -> str:
        """The trainer's one-line error (or the last stderr line) for the failure record."""
        try:
            lines = [ln.strip() for ln in (self.workdir / "stderr.log").read_text(encoding="utf-8").splitlines() if ln.strip()]
        except OSError:
            return ""
        errors = [ln for ln in lines if ln.startswith("error:")]
        return (errors or lines or [""])[-1][:300]


def run_trial(argv: Sequence[str], workdir: Path, metric: str, report: Report, *, env: Mapping[str, str],
              cwd: Path | None = None, poll_s: float = 0.2, grace_s: float = 15.0,
              started: Callable[[TrialProcess], None] | None = None) -> TrialOutcome:
    """Run `argv` to the end, or until `report` asks to stop it; never raises for a trial failure."""
    trial = TrialProcess(argv, workdir, env, cwd)
    if started is not None:
        started(trial)
    reported: dict[int, float] = {}
    pruned = False
    try:
        while True:
            code = trial.poll()
            for row in trial.new_rows():
                step = row.get("step")
                if metric not in row or not isinstance(step, int) or step in reported:
                    continue
                value = jsonl_value(row[metric])
                reported[step] = value
                # Only a running trial is stopped: one that has already finished keeps its result.
                if report(step, value) and code is None and trial.poll() is None:
                    pruned = True
                    break
            if pruned:
                code = trial.terminate(grace_s)
                break
            if code is not None:
                break
            time.sleep(poll_s)
    except BaseException:
        trial.terminate(grace_s)
        trial.close()
        raise
    code = trial.proc.wait()
    trial.close()
    printed = trial.snapshot()
    seconds = time.monotonic() - trial.started
    reports = sorted(reported.items())
    if pruned:
        return TrialOutcome("pruned", None, printed, f"stopped at step {reports[-1][0]} by the median rule",
                            code, seconds, reports)
    if code != 0:
        reason = trial.error_line() or f"exit code {code}"
        return TrialOutcome("failed", None, printed, f"exit {code}: {reason}", code, seconds, reports)
    return TrialOutcome("complete", printed.get(metric), printed, "", code, seconds, reports)
