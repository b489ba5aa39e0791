"""Finding the astrobio checkout a command runs in (for `render`, which writes the repository's
generated files, and for reading its configs/ and benchmarks/).

Found from the working directory, never from this file's location: in an installed wheel the
package lives in site-packages, far from any checkout, and a path computed from `__file__` would
silently point at the wrong folder.
"""

from __future__ import annotations

from pathlib import Path


def checkout_root(start: Path | None = None) -> Path | None:
    """The nearest folder at or above `start` (default: the working directory) whose
    pyproject.toml names the astrobio project, or None outside a checkout."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file() and 'name = "astrobio"' in pyproject.read_text(encoding="utf-8"):
            return folder
    return None


def default_root() -> Path:
    """Where generated files go by default: the checkout, else the working directory."""
    return checkout_root() or Path.cwd().resolve()
