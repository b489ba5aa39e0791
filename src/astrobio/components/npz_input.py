"""Reading a user's own .npz data file: never a pickle, and one clear line for any unreadable file.

Shared by every component that accepts a user's arrays (spectra, datacube), so a hostile or broken
file gets the same treatment everywhere: `allow_pickle=False`, and empty, truncated, non-zip,
single-.npy and pickle files all become a UsageError naming the file and what was expected.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from astrobio.errors import UsageError


def read_npz(path: Path, where: str, expected: str, required: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Every array of the .npz at `path`; `where` starts each error line (the config field and
    file), `expected` ends it. Arrays named in `required` must be present."""
    if not path.is_file():
        raise UsageError(f"{where}: file not found; {expected}")
    try:
        with np.load(path, allow_pickle=False) as z:
            if not isinstance(z, np.lib.npyio.NpzFile):
                raise ValueError("a single .npy array, not an .npz archive")
            arrays = {k: z[k] for k in z.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:  # empty, truncated, pickle, not a zip
        # numpy's text for a pickle suggests allow_pickle=True; never repeat that advice to a user
        reason = "a pickle, which is never loaded" if "pickle" in str(exc) else str(exc).splitlines()[0][:120]
        raise UsageError(f"{where}: not a readable .npz ({reason}); {expected}") from None
    for name in required:
        if name not in arrays:
            raise UsageError(f"{where}: no array '{name}' (has: {', '.join(arrays) or 'none'}); {expected}")
    return arrays
