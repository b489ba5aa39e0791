"""Instruction counts of one window of a Python program, from valgrind's callgrind (issue #19).

Tight ratios (a trainer's step at <= 1.02x a raw loop, a background save at <= 1.05x a step) drown
in wall-clock noise on 2 shared cores; the number of instructions a thread executes does not move
with the load. callgrind counts every instruction, but a whole process is mostly `import torch`
and building, so the program under test marks the window it wants counted:

- `window_open()` calls libc's `getppid`, and callgrind runs with `--zero-before=getppid`: every
  thread's counters restart there;
- `window_close()` calls libc's `getpgrp`, with `--dump-before=getpgrp`: the counts so far are
  written as dump part 1.

Neither call is made by torch, Python or astrobio on a training step, and `read_window` refuses a
run whose markers fired other than once. Two ways to count threads (`per_thread`):

- False: one count for every thread of the process together, threads that ended inside the
  window included (what a trainer's step costs in all, its helper threads too);
- True: the main thread's count on its own (what a background writer leaves to the training
  thread). callgrind then writes only the threads alive at the close into the window's dump, so
  only the main thread's figure is read from it.

Under callgrind the program runs ~50x slower (`import torch` alone takes ~2 minutes) and its threads
take turns: only counts, never times, mean anything there.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path

OPEN_SYMBOL, CLOSE_SYMBOL = "getppid", "getpgrp"
_DUMP = re.compile(r"\.(\d+)\.(\d+)(?:-(\d+))?$")  # <out>.<pid>.<part>[-<thread>]


def window_open() -> None:
    """Start of the counted window (callgrind zeroes every thread's counters before `getppid`)."""
    os.getppid()


def window_close() -> None:
    """End of the counted window (callgrind dumps the counters before `getpgrp`)."""
    os.getpgrp()


def callgrind_argv(out: Path, program: Sequence[str], per_thread: bool) -> list[str]:
    """`program` (an argv) under callgrind, counting the instructions of its marked window: every
    thread together, or (`per_thread`) one count per thread."""
    return ["valgrind", "--tool=callgrind", "--quiet", f"--callgrind-out-file={out}.%p",
            f"--zero-before={OPEN_SYMBOL}", f"--dump-before={CLOSE_SYMBOL}",
            f"--separate-threads={'yes' if per_thread else 'no'}", "--collect-jumps=no", *program]


def python_argv(module: str, *args: str) -> list[str]:
    """`python -m module args` with this interpreter."""
    return [sys.executable, "-m", module, *args]


def read_window(out: Path, per_thread: bool) -> int:
    """The window's instruction count from the dump of `callgrind_argv(out, ..., per_thread)`:
    every thread's together, or (`per_thread`) the main thread's. One clear error when the markers
    did not fire exactly once (no dump, or a second window)."""
    parts: dict[int, dict[int, int]] = {}
    for path in out.parent.glob(f"{out.name}.*"):
        m = _DUMP.search(path.name)
        if m:
            parts.setdefault(int(m.group(2)), {})[int(m.group(3) or 0)] = summary_count(path)
    if sorted(parts) != [1]:
        raise RuntimeError(f"{out}: expected one callgrind window dump (part 1), found parts {sorted(parts)}: "
                           f"the program must call window_open() and window_close() once each")
    key = 1 if per_thread else 0  # thread 1 is the main thread; 0: the dump of unseparated threads
    if key not in parts[1]:
        raise RuntimeError(f"{out}: the window dump has no {'main-thread' if per_thread else 'process'} "
                           f"file (was it counted with per_thread={not per_thread}?)")
    return parts[1][key]


def summary_count(path: Path) -> int:
    """The `summary:` (or, failing that, `totals:`) instruction count of one callgrind dump file."""
    found: dict[str, int] = {}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        key, _, value = line.partition(":")
        if key in ("summary", "totals") and value.strip():
            found[key] = int(value.split()[0])
    if not found:
        raise RuntimeError(f"{path}: no 'summary:' or 'totals:' line; not a callgrind dump")
    return found.get("summary", found.get("totals", 0))
