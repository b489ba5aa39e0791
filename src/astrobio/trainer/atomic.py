"""Crash-safe writes for files produced by a library writer (safetensors, torch.save, text).

Those writers want a path, not a file handle, so this wraps the store's atomic-write primitives
(temp name in the same folder, fsync, rename, folder fsync) around a `writer(tmp_path)` callback.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from astrobio.store.artifacts import sha256_file
from astrobio.store.atomic import fsync_dir, temp_path_for

__all__ = ["fsync_dir", "sha256_file", "write_atomic", "write_text_atomic"]


def write_atomic(path: Path, writer: Callable[[Path], None]) -> None:
    """Call `writer(tmp_path)`, then move the result onto `path` in one rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path_for(path)
    try:
        writer(tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def write_text_atomic(path: Path, text: str) -> None:
    write_atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
