"""The two kinds of failure the CLI distinguishes, so every layer can raise and the CLI alone prints.

Usage/config errors exit 2, runtime failures exit 1; both print one line and no traceback unless
`--debug`. Library code raises these instead of printing or calling sys.exit.
"""

from __future__ import annotations

import errno


def one_line(text: str) -> str:
    """`text` as one printable line: line breaks and tabs become spaces, other control or invisible
    characters (NUL, ESC, U+2028...) are shown escaped, so a hostile file name or config key cannot
    split the error line, hide part of it, or drive the terminal."""
    out = []
    for ch in text:
        if ch in "\r\n\t":
            out.append(" ")
        elif ch.isprintable():
            out.append(ch)
        else:
            out.append(ch.encode("unicode_escape").decode("ascii"))
    return "".join(out)


def is_disk_full(exc: BaseException) -> bool:
    """ENOSPC/EDQUOT, also when a native writer (safetensors, torch.save) reports it as text, not
    OSError: a full disk is the user's to fix, so both the trainer and the CLI's last guard say so."""
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    text = str(exc)
    return "No space left on device" in text or "StorageFull" in text or "Disk quota exceeded" in text


class AstrobioError(Exception):
    """Base: a message a user can act on, always shown as one line (see `one_line`)."""

    exit_code = 1

    def __str__(self) -> str:
        return one_line(super().__str__())


class UsageError(AstrobioError):
    """Bad command line, config file, config value or input file: the user must change something."""

    exit_code = 2


class RuntimeFailure(AstrobioError):
    """The request was valid but the work failed (store unreachable mid-run, a rank died, NaN loss)."""

    exit_code = 1


class Preempted(Exception):
    """Raised by the trainer after a checkpoint was written because a stop (SIGTERM, Ctrl-C) was requested.

    It lives here, not in the trainer, so the CLI can catch it without importing torch: every
    command, `astrobio config show` included, goes through the same guard.
    """

    def __init__(self, step: int, path: object, signum: int = 15) -> None:
        super().__init__(f"stopped at step {step}; checkpoint {path}; run the same command again to resume")
        self.step = step
        self.exit_code = 128 + signum  # 143 for SIGTERM (a PyTorchJob restarts and resumes), 130 for Ctrl-C
