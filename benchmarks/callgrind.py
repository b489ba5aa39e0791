"""Instruction counts of one window of a Python program, from valgrind's callgrind (issue #19).

Tight ratios (a trainer's step at <= 1.02x a raw loop, a background save at <= 1.05x a step) drown
in wall-clock noise on 2 shared cores; the number of instructions a thread executes does not move
with the load. callgrind counts every instruction, but a whole process is mostly `import torch`
and building, so the program under test marks the window it wants counted:

- `window_open()` calls libc's `getppid` and `window_close()` libc's `getpgrp`; callgrind runs with
  `--dump-before` on both, so it writes the counts before the window as dump part 1 and the
  window's as part 2, each dump restarting the counters it wrote.

Neither call is made by torch, Python or astrobio on a training step, and `read_window` refuses a
run whose markers did not fire once each, in order: exactly two dumps, the first triggered by the
opening marker and the second by the closing one (each dump names its trigger). Two ways to count
threads (`per_thread`):

- False: one count for every thread of the process together (what a trainer's step costs in all,
  its helper threads too). A dump restarts every thread's counters, so a helper thread's work
  before the window is not in part 2, and a thread that ends inside the window still counts.
- True: the thread that reaches the markers (the main thread) on its own: callgrind then dumps
  only the calling thread, which is what a background writer leaves to the training thread.

Only user-space instructions are counted: the kernel's work for a system call or a page fault is
not. Under callgrind the program runs ~50x slower (`import torch` alone takes ~2 minutes) and its
threads take turns: only counts, never times, mean anything there.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

OPEN_SYMBOL, CLOSE_SYMBOL = "getppid", "getpgrp"


def window_open() -> None:
    """Start of the counted window (callgrind dumps, and so restarts, the counters before `getppid`)."""
    os.getppid()


def window_close() -> None:
    """End of the counted window (callgrind dumps the window's counts before `getpgrp`)."""
    os.getpgrp()


def callgrind_argv(out: Path, program: Sequence[str], per_thread: bool) -> list[str]:
    """`program` (an argv) under callgrind, counting the instructions of its marked window: every
    thread together, or (`per_thread`) the calling (main) thread's alone."""
    return ["valgrind", "--tool=callgrind", "--quiet", f"--callgrind-out-file={out}.%p",
            f"--dump-before={OPEN_SYMBOL}", f"--dump-before={CLOSE_SYMBOL}",
            f"--separate-threads={'yes' if per_thread else 'no'}", "--collect-jumps=no", *program]


def read_window(out: Path, per_thread: bool) -> int:
    """The window's instruction count from the dump of `callgrind_argv(out, ..., per_thread)`:
    every thread's together, or (`per_thread`) the main thread's. One clear error when the markers
    did not fire once each (a marker missing, or a second window)."""
    dump = re.compile(re.escape(out.name) + r"\.(\d+)\.(\d+)(?:-(\d+))?")  # <out>.<pid>.<part>[-<thread>]
    parts: dict[int, dict[int, int]] = {}
    triggers: dict[int, str] = {}
    for path in out.parent.iterdir():
        m = dump.fullmatch(path.name)
        if m:
            part = int(m.group(2))
            count, triggers[part] = read_dump(path)
            parts.setdefault(part, {})[int(m.group(3) or 0)] = count
    if sorted(parts) != [1, 2] or OPEN_SYMBOL not in triggers[1] or CLOSE_SYMBOL not in triggers[2]:
        raise RuntimeError(f"{out}: expected two callgrind dumps, before {OPEN_SYMBOL} then before {CLOSE_SYMBOL}; "
                           f"found {dict(sorted(triggers.items()))}: the program must call window_open() and then "
                           f"window_close(), once each")
    key = 1 if per_thread else 0  # thread 1 is the main thread; 0: the dump of unseparated threads
    if key not in parts[2]:
        raise RuntimeError(f"{out}: the window dump has no {'main-thread' if per_thread else 'process'} "
                           f"file (was it counted with per_thread={not per_thread}?)")
    return parts[2][key]


def read_dump(path: Path) -> tuple[int, str]:
    """The `summary:` (or, failing that, `totals:`) instruction count of one callgrind dump file, and
    what triggered the dump (its `desc: Trigger:` line, e.g. `--dump-before=getppid`)."""
    found: dict[str, int] = {}
    trigger = ""
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        key, _, value = line.partition(":")
        if key in ("summary", "totals") and value.strip():
            found[key] = int(value.split()[0])
        elif line.startswith("desc: Trigger:"):
            trigger = line.removeprefix("desc: Trigger:").strip()
    if not found:
        raise RuntimeError(f"{path}: no 'summary:' or 'totals:' line; not a callgrind dump")
    return found.get("summary", found.get("totals", 0)), trigger
