"""Route KFP's local-runner output into one log file per step, and turn it into events.

kfp.local (2.13) writes everything to `sys.stdout`: its own log records through a
`logging.StreamHandler(sys.stdout)` created when each task starts
(`kfp/local/logging_utils.py: local_logger_context`), and each step's merged stdout/stderr through
`print` (`kfp/local/subprocess_task_handler.py: run_local_subprocess`). Installed as `sys.stdout`
for the run, `StepLogRouter` writes each line to `logs/<task>.log` of the task in progress (lines
outside a task to `logs/kfp-local.log`) and recognises the two lines kfp.local writes around a task
(`Executing task 'NAME'` and `Task 'NAME' finished with status SUCCESS|FAILURE`,
`kfp/local/task_dispatcher.py`), so the terminal shows events instead of executor JSON.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

ANSI = re.compile(r"\x1b\[[0-9;]*m")
START = re.compile(r"Executing task '([\w.-]+)'")
END = re.compile(r"Task '([\w.-]+)' finished with status (SUCCESS|FAILURE)")
REUSED = "is already complete; reusing it"
PIPELINE_LOG = "kfp-local"


@dataclass(frozen=True)
class StepEvent:
    """`kind` is start | end; `status` (end only) is SUCCESS | FAILURE | REUSED."""

    kind: str
    task: str
    status: str = ""


def log_path(log_dir: Path, task: str) -> Path:
    """The log file of one KFP task (`train-graph-vae`, `production`) or of the runner itself."""
    return log_dir / f"{task}.log"


def tail(path: Path, lines: int = 15, start: str | None = None) -> list[str]:
    """The last `lines` non-blank lines of a log file, stripped ([] when there is none); with
    `start`, only lines after the last one containing it (a step's own output, not kfp's JSON)."""
    if not path.is_file():
        return []
    with path.open(encoding="utf-8", errors="replace") as handle:
        text = [line.strip() for line in handle if line.strip()]
    if start is not None:
        marks = [i for i, line in enumerate(text) if start in line]
        text = text[marks[-1]:] if marks else text
    return list(deque(text, maxlen=lines))


class StepLogRouter:
    """A write-only text stream that files lines by task and reports task starts and ends."""

    def __init__(self, log_dir: Path, on_event: Callable[[StepEvent], None]) -> None:
        self.log_dir = log_dir
        self.on_event = on_event
        self.errors: list[str] = []
        self.current: str | None = None
        self._reused = False
        self._pending = ""
        log_dir.mkdir(parents=True, exist_ok=True)
        self._files: dict[str, TextIO] = {}

    def _file(self, task: str) -> TextIO:
        if task not in self._files:
            self._files[task] = log_path(self.log_dir, task).open("a", encoding="utf-8")
        return self._files[task]

    def write(self, text: str) -> int:
        self._pending += text
        *lines, self._pending = self._pending.split("\n")
        for line in lines:
            self._line(ANSI.sub("", line))
        return len(text)

    def _line(self, line: str) -> None:
        started = START.search(line)
        if started:
            self.current, self._reused = started.group(1), False
            self.on_event(StepEvent("start", self.current))
        self._file(self.current or PIPELINE_LOG).write(line + "\n")
        if line.strip().startswith("error:"):
            self.errors.append(line.strip())
        if REUSED in line:
            self._reused = True
        ended = END.search(line)
        if ended:
            status = "REUSED" if ended.group(2) == "SUCCESS" and self._reused else ended.group(2)
            self.flush()  # the log is whole before anyone reads its tail
            self.on_event(StepEvent("end", ended.group(1), status))
            self.current = None

    def flush(self) -> None:
        for handle in self._files.values():
            handle.flush()

    def close(self) -> None:
        if self._pending:
            self._line(ANSI.sub("", self._pending))
            self._pending = ""
        for handle in self._files.values():
            handle.close()
        self._files.clear()

    def isatty(self) -> bool:
        return False
