"""The two kinds of failure the CLI distinguishes, so every layer can raise and the CLI alone prints.

Usage/config errors exit 2, runtime failures exit 1; both print one line and no traceback unless
`--debug`. Library code raises these instead of printing or calling sys.exit.
"""

from __future__ import annotations


class AstrobioError(Exception):
    """Base: a message a user can act on, already phrased as one line."""

    exit_code = 1


class UsageError(AstrobioError):
    """Bad command line, config file, config value or input file: the user must change something."""

    exit_code = 2


class RuntimeFailure(AstrobioError):
    """The request was valid but the work failed (store unreachable mid-run, a rank died, NaN loss)."""

    exit_code = 1
