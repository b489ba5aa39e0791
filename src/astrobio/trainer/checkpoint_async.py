"""Checkpoints written off the training thread, and copied to the store (a `Mirror`) when there is one.

`AsyncCheckpointer` copies the state to CPU synchronously (the only part a training step waits for)
and writes it with `save_checkpoint` in a background thread; with a `Mirror` (an s3:// store) that
same thread then uploads each finished checkpoint, after its local write, so a pod that loses its
disk resumes from the store (`astrobio.trainer.resume`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import torch

from astrobio.errors import AstrobioError
from astrobio.trainer.checkpoint import save_checkpoint, step_dir


class Mirror(Protocol):
    """Where finished checkpoints are copied (`astrobio.store.checkpoint_mirror.CheckpointMirror`)."""

    def describe(self) -> str: ...

    def upload(self, folder: Path) -> str: ...

    def restore(self, root: Path, newer_than: int | None, warn: Callable[[str], None]) -> Path | None: ...

    def restore_folder(self, name: str, dest: Path) -> bool: ...


def snapshot(obj: Any) -> Any:
    """A CPU copy of every tensor in a (nested) state, so training can go on changing the originals."""
    if isinstance(obj, torch.Tensor):
        return obj.detach().to("cpu", copy=True)
    if isinstance(obj, dict):
        return {k: snapshot(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [snapshot(v) for v in obj]
    if isinstance(obj, tuple):
        return tuple(snapshot(v) for v in obj)
    return obj


class AsyncCheckpointer:
    """`save_checkpoint` in a background thread, one checkpoint in flight at a time.

    `save` copies the state to CPU (the caller's only wait, plus any wait for the previous write)
    and returns the folder the checkpoint will have. `wait()` blocks until the write is on disk and
    re-raises its error; call it before exiting, before a preemption exit, and before reading the
    checkpoint back. A failed write is also re-raised by the next `save`.
    """

    def __init__(self, mirror: Mirror | None = None) -> None:
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        self.failed_dir: Path | None = None  # the checkpoint whose write failed (for the error line)
        self._mirror = mirror
        self.notes: list[str] = []  # mirror failures, for the training thread to report

    def save(self, root: Path, step: int, model_state: dict[str, torch.Tensor], state: dict[str, Any],
             config_hash: str, keep_last: int) -> Path:
        self.wait()
        weights, rest = snapshot(model_state), snapshot(state)

        def write() -> None:
            try:
                folder = save_checkpoint(root, step, weights, rest, config_hash, keep_last)
            except BaseException as exc:  # handed to the training thread by wait()
                self._error, self.failed_dir = exc, step_dir(root, step)
                return
            self._upload(folder)

        self._thread = threading.Thread(target=write, name=f"checkpoint-{step}", daemon=False)
        self._thread.start()
        return step_dir(root, step)

    def _upload(self, folder: Path) -> None:
        if self._mirror is not None:
            try:
                self._mirror.upload(folder)
            except AstrobioError as exc:  # the local copy stands; training goes on
                self.notes.append(f"{folder.name} kept locally but not mirrored to {self._mirror.describe()}: {exc}")

    def mirror(self, folder: Path) -> None:
        """Upload `folder` (the best/ weights) in the background; call `wait()` before changing it again."""
        self.wait()
        if self._mirror is not None:
            self._thread = threading.Thread(target=self._upload, args=(folder,), name=f"mirror-{folder.name}")
            self._thread.start()

    @property
    def pending(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def wait(self, raise_error: bool = True) -> BaseException | None:
        """Block until the write in flight (if any) is done; re-raise its error, or with
        `raise_error=False` (on a path that is already failing, where the first error is the one to
        raise) return it so the caller can still report it."""
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        error, self._error = self._error, None
        if error is not None and raise_error:
            raise error
        return error
