"""The artifact store interface: the few operations phases and the trainer need, nothing more.

Public methods validate their key here, once, and then call the backend's `_`-prefixed method,
so no backend can forget a check. Keys are relative to the store root (see `keys.py`).
"""

from __future__ import annotations

import abc
from typing import ClassVar
from pathlib import Path

from astrobio.errors import RuntimeFailure, UsageError
from astrobio.store.keys import validate_key, validate_prefix


class KeyNotFound(RuntimeFailure):
    """A key that should exist does not; callers that expect absence check `exists` first."""


def require_source_file(path: Path) -> Path:
    """Return `path` if it is a readable regular file; a missing upload source is the caller's input error."""
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"cannot upload {str(path)!r}: expected an existing regular file")
    return path


class ArtifactStore(abc.ABC):
    """A flat namespace of keys ('/'-separated relative paths) holding bytes."""

    off_machine: ClassVar[bool] = False
    """Whether the store outlives this machine's disk (an object store does, a local folder does
    not): only then is mirroring checkpoints into it worth an upload (`checkpoint_mirror`)."""

    @property
    @abc.abstractmethod
    def uri(self) -> str:
        """Where the store lives, in the form `open_store` accepts (a local path or `s3://bucket/prefix`)."""

    def describe(self, key: str = "") -> str:
        """The location of `key` for messages: the store URI joined with the key."""
        base = self.uri.rstrip("/")
        return f"{base}/{key}" if key else base

    def check(self) -> None:
        """Fail fast at start (UsageError) when the store cannot be used: unreachable, bad credentials, no bucket."""

    def put_bytes(self, key: str, data: bytes) -> None:
        """Store `data` under `key`, replacing any previous value; a reader never sees a partial value."""
        self._put_bytes(validate_key(key), bytes(data))

    def get_bytes(self, key: str) -> bytes:
        """Return the value under `key`; KeyNotFound if there is none."""
        return self._get_bytes(validate_key(key))

    def put_file(self, key: str, path: Path) -> None:
        """Upload the local file `path` under `key`, streaming (files may be many GiB)."""
        self._put_file(validate_key(key), require_source_file(path))

    def get_file(self, key: str, path: Path) -> None:
        """Download `key` to the local `path` atomically (temp name in the same folder, then os.replace)."""
        self._get_file(validate_key(key), Path(path))

    def exists(self, key: str) -> bool:
        """Whether a value is stored under exactly `key`."""
        return self._exists(validate_key(key))

    def list(self, prefix: str = "") -> list[str]:
        """All keys under the folder `prefix` ('' = everything), recursive, sorted, relative to the store root.

        `prefix` is a folder, not a string prefix: 'runs/r1' lists 'runs/r1/x' but not 'runs/r10/x'.
        """
        return sorted(self._list(validate_prefix(prefix)))

    def delete(self, key: str) -> None:
        """Remove `key`; deleting a key that does not exist is not an error (as in S3)."""
        self._delete(validate_key(key))

    @abc.abstractmethod
    def _put_bytes(self, key: str, data: bytes) -> None: ...

    @abc.abstractmethod
    def _get_bytes(self, key: str) -> bytes: ...

    @abc.abstractmethod
    def _put_file(self, key: str, path: Path) -> None: ...

    @abc.abstractmethod
    def _get_file(self, key: str, path: Path) -> None: ...

    @abc.abstractmethod
    def _exists(self, key: str) -> bool: ...

    @abc.abstractmethod
    def _list(self, prefix: str) -> list[str]: ...

    @abc.abstractmethod
    def _delete(self, key: str) -> None: ...

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.uri!r})"
