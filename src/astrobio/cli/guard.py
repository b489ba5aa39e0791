"""Failures to exit codes: the one place a command's exception becomes a stderr line and a status.

2 usage/config, 1 permanent, EXIT_TRANSIENT (200) for what a restarted pod may get past, 128 + N
after signal N. `--debug` shows the traceback.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable
from typing import TypeVar

from astrobio.cli.output_closed import say
from astrobio.errors import EXIT_TRANSIENT, AstrobioError, Preempted, is_disk_full, is_transient_runtime, one_line

T = TypeVar("T")


def guarded(fn: Callable[[], T], debug: bool) -> T:
    """Run a command body; map failures to one stderr line and an exit code: 2 usage, 1 permanent,
    EXIT_TRANSIENT for what a restarted pod may get past, 128 + N after signal N (README "Exit codes")."""
    try:
        return fn()
    except AstrobioError as exc:
        if debug:
            traceback.print_exc()
        say(f"error: {exc}")
        raise SystemExit(exc.exit_code) from None
    except Preempted as exc:  # the reader may have gone with the same signal: `say` keeps the code
        say(f"{'interrupted' if exc.exit_code == 130 else 'preempted'}: {exc}")
        raise SystemExit(exc.exit_code) from None
    except KeyboardInterrupt:
        say("interrupted")
        raise SystemExit(130) from None
    except Exception as exc:  # noqa: BLE001 - the CLI's last line of defence: one line, exit 1
        if debug:
            traceback.print_exc()
        if is_disk_full(exc):  # a full disk is the user's to fix, not a bug
            where = getattr(exc, "filename", None) or "a file"
            print(f"error: no space left on device writing {where}; free space and run the same command again",
                  file=sys.stderr)
            raise SystemExit(1) from None
        if is_transient_runtime(exc):  # a lost peer or broken rendezvous: the restarted job resumes
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
            print(f"error: distributed failure {exc.__class__.__name__}: {one_line(first)}; the job can resume "
                  f"from its last checkpoint", file=sys.stderr)
            raise SystemExit(EXIT_TRANSIENT) from None
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        print(f"error: internal failure {exc.__class__.__name__}: {first} (rerun with --debug for the traceback)",
              file=sys.stderr)
        raise SystemExit(1) from None
