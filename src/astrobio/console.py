"""The default sink of progress notes: one line to stderr, flushed at once.

Renderers, the tuners and `submit` take a `note` callable so tests can capture what they say; this
is what they print with when nobody passes one. stderr keeps stdout for the YAML or table a command
prints, so `astrobio render job ... | kubectl apply -f -` stays clean."""

from __future__ import annotations

import sys


def to_stderr(line: str) -> None:
    """Print `line` to stderr and flush (a killed process still shows what it last said)."""
    print(line, file=sys.stderr, flush=True)
