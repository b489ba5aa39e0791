"""`LocalStore`: the artifact store as a plain folder, for laptops and tests.

Every write goes through `atomic_writer`, so a crash leaves the old value or the new one. Keys are
already validated by the base class; here we additionally resolve the path and refuse one that
lands outside the root (a symlink inside the root could otherwise point anywhere).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from functools import wraps
from pathlib import Path
from typing import ParamSpec, TypeVar

from astrobio.errors import RuntimeFailure, UsageError
from astrobio.store.atomic import TEMP_SUFFIX, atomic_copy, atomic_write_bytes
from astrobio.store.base import ArtifactStore, KeyNotFound

P = ParamSpec("P")
T = TypeVar("T")


def _os_errors_as_failures(method: Callable[P, T]) -> Callable[P, T]:
    """Turn an unexpected OSError (disk full, permission) into a one-line RuntimeFailure naming the store."""

    @wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return method(*args, **kwargs)
        except OSError as exc:
            store = args[0]
            where = store.describe(args[1]) if len(args) > 1 and isinstance(args[1], str) else str(store)
            reason = exc.strerror or type(exc).__name__
            action = method.__name__.lstrip("_")
            raise RuntimeFailure(f"local store operation {action} on {where} failed: {reason}") from exc

    return wrapper


class LocalStore(ArtifactStore):
    """Keys map to files under `root`; the folder is created on the first write."""

    def __init__(self, root: Path) -> None:
        self._root = Path(root).expanduser().absolute()
        self._resolved_root = self._root.resolve()

    @property
    def root(self) -> Path:
        """The folder holding the store."""
        return self._root

    @property
    def uri(self) -> str:
        return str(self._root)

    def check(self) -> None:
        """The root must be a folder (or creatable) and writable."""
        if self._root.exists() and not self._root.is_dir():
            raise UsageError(f"local store root {str(self._root)!r} is not a folder")
        try:
            self._root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageError(f"cannot create local store root {str(self._root)!r}: {exc.strerror}") from exc
        if not os.access(self._root, os.W_OK | os.X_OK):
            raise UsageError(f"local store root {str(self._root)!r} is not writable")

    def path_of(self, key: str) -> Path:
        """The file behind `key`; UsageError if it resolves outside the root or collides with a temp name."""
        if key.endswith(TEMP_SUFFIX):
            raise UsageError(f"invalid store key {key!r}: the suffix {TEMP_SUFFIX!r} is reserved for temporary files")
        path = self._root / key
        if not path.resolve().is_relative_to(self._resolved_root):
            raise UsageError(f"store key {key!r} resolves outside the store root {str(self._root)!r}")
        return path

    @_os_errors_as_failures
    def _put_bytes(self, key: str, data: bytes) -> None:
        atomic_write_bytes(self.path_of(key), data)

    @_os_errors_as_failures
    def _get_bytes(self, key: str) -> bytes:
        path = self.path_of(key)
        try:
            return path.read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
            raise KeyNotFound(f"no key {key!r} in store {self.uri}") from exc

    @_os_errors_as_failures
    def _put_file(self, key: str, path: Path) -> None:
        atomic_copy(path, self.path_of(key))

    @_os_errors_as_failures
    def _get_file(self, key: str, path: Path) -> None:
        source = self.path_of(key)
        if not source.is_file():
            raise KeyNotFound(f"no key {key!r} in store {self.uri}")
        atomic_copy(source, path)

    def _exists(self, key: str) -> bool:
        return self.path_of(key).is_file()

    def _walk(self, folder: Path) -> Iterator[Path]:
        for dirpath, _dirnames, filenames in os.walk(folder):
            for name in filenames:
                if not name.endswith(TEMP_SUFFIX):
                    yield Path(dirpath, name)

    @_os_errors_as_failures
    def _list(self, prefix: str) -> list[str]:
        folder = self.path_of(prefix) if prefix else self._root
        if not folder.is_dir():
            return []
        return [path.relative_to(self._root).as_posix() for path in self._walk(folder) if path.is_file()]

    @_os_errors_as_failures
    def _delete(self, key: str) -> None:
        path = self.path_of(key)
        if path.is_dir():
            raise UsageError(f"cannot delete {self.describe(key)}: it is a folder of keys, not a key")
        path.unlink(missing_ok=True)
        self._prune_empty_parents(path.parent)

    def _prune_empty_parents(self, folder: Path) -> None:
        """Remove folders emptied by a delete, so the tree mirrors the keys (as S3 has no empty folders)."""
        while folder != self._root and folder.is_relative_to(self._root):
            try:
                folder.rmdir()
            except OSError:  # not empty (or already gone): stop pruning
                return
            folder = folder.parent
