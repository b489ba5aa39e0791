"""Hashing a file without copying it: shared by the artifact store (MANIFEST sha256) and the
trainer (checkpoint checksums, XXH3-128), so neither imports the other for a utility."""

from __future__ import annotations

import mmap
import os
from pathlib import Path
from typing import Any, Protocol, TypeVar


class Hasher(Protocol):
    def update(self, data: Any, /) -> None: ...


H = TypeVar("H", bound=Hasher)


def hash_file(path: Path, digest: H) -> H:
    """Feed a file to `digest` (hashlib's or xxhash's), from its memory map: no copy out of the page
    cache (hashlib also releases the GIL on it, so files hash in parallel threads). A file system
    that cannot map files is read in chunks instead."""
    with open(path, "rb") as handle:
        if not os.fstat(handle.fileno()).st_size:
            return digest
        try:
            view = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        except (OSError, ValueError):
            while chunk := handle.read(1 << 22):
                digest.update(chunk)
            return digest
        with view:
            digest.update(view)
    return digest
