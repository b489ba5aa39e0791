"""Atomic local writes: a reader sees the old file or the whole new one, never a half-written one.

Both stores download to local files and `LocalStore` writes its objects as files, so they share
this helper: write to a temporary name in the destination's own folder (same filesystem, so the
rename is atomic), fsync, `os.replace`, then fsync the folder so the rename survives a crash.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

TEMP_SUFFIX = ".astrobio-tmp"
"""Suffix of in-flight temporary files; listings skip such files and keys may not end with it."""


def temp_path_for(dest: Path) -> Path:
    """A fresh, hidden temporary name next to `dest`."""
    return dest.with_name(f".{dest.name}.{secrets.token_hex(6)}{TEMP_SUFFIX}")


def fsync_dir(folder: Path) -> None:
    """Flush a folder's entry table so a completed rename is durable (best effort: not every OS allows it)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        # Some filesystems (certain FUSE/network mounts) refuse fsync on a folder; the rename stands.
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_writer(dest: Path) -> Iterator[BinaryIO]:
    """Yield a binary file; on a clean exit it replaces `dest`, on an exception it is removed.

    The temporary file is created with mode 0o666 so the umask applies, as for a plain `open`.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path_for(dest)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, dest)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_dir(dest.parent)


def atomic_write_bytes(dest: Path, data: bytes) -> None:
    """Write `data` to `dest` atomically."""
    with atomic_writer(dest) as handle:
        handle.write(data)


def atomic_copy(src: Path, dest: Path, chunk_size: int = 1 << 20) -> None:
    """Copy the file `src` to `dest` atomically, streaming in chunks so large files stay out of memory."""
    with open(src, "rb") as source, atomic_writer(dest) as handle:
        while chunk := source.read(chunk_size):
            handle.write(chunk)
