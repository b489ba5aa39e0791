"""The kinds of failure the CLI distinguishes, so every layer can raise and the CLI alone prints.

Usage/config errors exit 2, permanent runtime failures exit 1, transient ones (the store still
unreachable after its retries, a lost peer) exit EXIT_TRANSIENT, preemption 128 + the signal; each
prints one line and no traceback unless `--debug`. Library code raises these instead of printing or
calling sys.exit. The codes follow the Training Operator's `restartPolicy: ExitCode` (1-127
permanent, 128-255 retried), so a PyTorchJob retries exactly the failures a retry can cure; the
table is in README.md "Exit codes".
"""

from __future__ import annotations

import errno

EXIT_FAILURE = 1
"""A permanent runtime failure: retrying the same job fails the same way (NaN loss, a bug)."""
EXIT_USAGE = 2
"""Bad command line, config or input: the user must change something."""
EXIT_TRANSIENT = 200
"""A failure a later attempt may not meet (object store unreachable after every retry, a peer rank
lost): >= 128, so `restartPolicy: ExitCode` restarts the pod, and clear of 128 + N for the signals
1-64, so it is never mistaken for a kill."""


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

    exit_code = EXIT_FAILURE

    def __str__(self) -> str:
        return one_line(super().__str__())


class UsageError(AstrobioError):
    """Bad command line, config file, config value or input file: the user must change something."""

    exit_code = EXIT_USAGE


class RuntimeFailure(AstrobioError):
    """The request was valid but the work failed (a rank died, NaN loss, a corrupt artifact)."""

    exit_code = EXIT_FAILURE


class TransientFailure(RuntimeFailure):
    """The work failed for a reason outside it that may pass (the store down past its retry budget):
    exit EXIT_TRANSIENT, so the operator restarts the pod, which resumes from its checkpoint."""

    exit_code = EXIT_TRANSIENT


def is_transient_runtime(exc: BaseException) -> bool:
    """A torch.distributed error (a peer rank's node lost, a collective or rendezvous broken): the
    job can go on from its checkpoint once the operator has replaced the pod. Checked by class name
    in the MRO so the CLI's guard needs no torch import."""
    return any(cls.__name__ == "DistError" and cls.__module__.startswith("torch") for cls in type(exc).__mro__)


class Preempted(Exception):
    """Raised by the trainer after a checkpoint was written because a stop (SIGTERM, Ctrl-C) was requested.

    It lives here, not in the trainer, so the CLI can catch it without importing torch: every
    command, `astrobio config show` included, goes through the same guard.
    """

    def __init__(self, step: int, path: object, signum: int = 15) -> None:
        super().__init__(f"stopped at step {step}; checkpoint {path}; run the same command again to resume")
        self.step = step
        self.exit_code = 128 + signum  # 143 for SIGTERM (a PyTorchJob restarts and resumes), 130 for Ctrl-C
