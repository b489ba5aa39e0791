"""Checkpoints: weights as safetensors, the rest as a weights-only torch file, checksummed.

A checkpoint is a folder `step-NNNNNNNN/` with `model.safetensors`, `state.pt` (optimizer,
scheduler, RNG, data position, trainer state) and `meta.json` (step, config hash, SHA-256 of each
file). It is assembled under a temp name and renamed into place, so a kill at any moment leaves
either no new checkpoint or a complete one; `latest_valid` skips any that fail verification.

Inside the temp folder files are written in place (the folder rename is the atomic step); the
weights file is hashed and fsynced in a helper thread while the state file is written, and
`verify` hashes both files at once. `AsyncCheckpointer` moves the writing off the training thread:
it copies the state to CPU synchronously (the only part a training step waits for) and writes in
a background thread and, with a `Mirror` (an s3:// store), uploads each finished checkpoint from
that same thread, after its local write, so a pod that loses its disk resumes from the store.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import torch
from safetensors.torch import load_file, save_file

from astrobio.errors import AstrobioError, UsageError
from astrobio.trainer.atomic import fsync_dir, write_atomic

PREFIX = "step-"
MODEL_FILE = "model.safetensors"
STATE_FILE = "state.pt"
META_FILE = "meta.json"


class Mirror(Protocol):
    """Where finished checkpoints are copied (`astrobio.store.checkpoint_mirror.CheckpointMirror`)."""

    def describe(self) -> str: ...

    def upload(self, folder: Path) -> str: ...

    def restore(self, root: Path, newer_than: int | None, warn: Callable[[str], None]) -> Path | None: ...

    def restore_folder(self, name: str, dest: Path) -> bool: ...


@dataclass(frozen=True)
class Checkpoint:
    path: Path
    step: int
    meta: dict[str, Any]


def _weights_for_save(state_dict: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """CPU, contiguous tensors; shared storages (tied weights) are de-duplicated by copy."""
    seen: set[int] = set()
    tensors: dict[str, torch.Tensor] = {}
    for key, value in state_dict.items():
        t = value.detach().cpu().contiguous()
        ptr = t.untyped_storage().data_ptr()
        if ptr in seen:
            t = t.clone()
        seen.add(t.untyped_storage().data_ptr())
        tensors[key] = t
    return tensors


def _digest_and_sync(path: Path, into: dict[str, Any], sync: bool = True) -> None:
    """SHA-256 of a just-written file (read back from the page cache), then fsync it (if `sync`).

    Runs in a helper thread for the weights file while the state file is being written: hashing
    and fsync release the GIL, so the two overlap.
    """
    try:
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            while chunk := handle.read(1 << 22):
                digest.update(chunk)
            if sync:
                os.fsync(handle.fileno())
        into[path.name] = digest.hexdigest()
    except BaseException as exc:  # re-raised by the caller
        into[path.name] = exc


def save_weights(path: Path, state_dict: dict[str, torch.Tensor], metadata: dict[str, str] | None = None) -> None:
    """safetensors file, atomically; shared storages (tied weights) are de-duplicated by copy."""
    tensors = _weights_for_save(state_dict)
    write_atomic(path, lambda tmp: save_file(tensors, str(tmp), metadata=metadata))


def load_weights(path: Path) -> dict[str, torch.Tensor]:
    return load_file(str(path))


def _step_dir(root: Path, step: int) -> Path:
    return root / f"{PREFIX}{step:08d}"


def save_checkpoint(root: Path, step: int, model_state: dict[str, torch.Tensor], state: dict[str, Any],
                    config_hash: str, keep_last: int) -> Path:
    """Write checkpoint `step` under `root` and prune to the newest `keep_last`."""
    root.mkdir(parents=True, exist_ok=True)
    final = _step_dir(root, step)
    tmp = root / f".tmp-{final.name}-{os.getpid()}-{threading.get_ident()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        save_file(_weights_for_save(model_state), str(tmp / MODEL_FILE))  # zero-copy from tensor memory
        files: dict[str, Any] = {}
        hasher = threading.Thread(target=_digest_and_sync, args=(tmp / MODEL_FILE, files), daemon=True)
        hasher.start()
        try:
            # through a Python file: a full disk then raises OSError(ENOSPC), where torch's own
            # path writer reports only "unexpected pos" (seen on a full tmpfs)
            with open(tmp / STATE_FILE, "wb") as handle:
                torch.save(state, handle)
            _digest_and_sync(tmp / STATE_FILE, files)
        finally:
            hasher.join()
        for name in (MODEL_FILE, STATE_FILE):
            if not isinstance(files.get(name), str):
                raise files.get(name) or RuntimeError(f"no checksum for {name}")
        meta = {"step": step, "config_hash": config_hash, "created_unix": time.time(), "files": files}
        write_atomic(tmp / META_FILE, lambda p: p.write_text(json.dumps(meta, indent=2)))
        fsync_dir(tmp)
        if final.exists():
            old = root / f".old-{final.name}-{os.getpid()}"
            os.replace(final, old)
            os.replace(tmp, final)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, final)
        fsync_dir(root)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    prune(root, keep_last)
    return final


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
                self._error, self.failed_dir = exc, _step_dir(root, step)
                return
            self._upload(folder)

        self._thread = threading.Thread(target=write, name=f"checkpoint-{step}", daemon=False)
        self._thread.start()
        return _step_dir(root, step)

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


def recover_interrupted_writes(root: Path, warn: Callable[[str], None]) -> None:
    """Tidy what a killed write left under `root`; call once at start, before any new save.

    `.tmp-step-N-*` is a write that never reached its rename: removed. `.old-step-N-*` is the
    previous copy of a step being re-saved; if the kill came between the two renames, `step-N`
    is missing and the old copy is the good one, so it is put back (verification then decides)."""
    if not root.is_dir():
        return
    for path in sorted(root.iterdir()):
        if not path.is_dir():
            continue
        if path.name.startswith(".tmp-"):
            shutil.rmtree(path)
            warn(f"removed unfinished checkpoint write {path.name}")
        elif path.name.startswith(f".old-{PREFIX}"):
            name = path.name[len(".old-"):].rsplit("-", 1)[0]
            if not (root / name).exists():
                os.replace(path, root / name)
                warn(f"restored {name} from {path.name} (a re-save was interrupted)")
            else:
                shutil.rmtree(path)


def list_checkpoints(root: Path) -> list[Path]:
    """Checkpoint folders, newest first (temp folders excluded)."""
    if not root.is_dir():
        return []
    found = [p for p in root.iterdir() if p.is_dir() and p.name.startswith(PREFIX) and p.name[len(PREFIX):].isdigit()]
    return sorted(found, key=lambda p: int(p.name[len(PREFIX):]), reverse=True)


def prune(root: Path, keep_last: int) -> None:
    for old in list_checkpoints(root)[keep_last:]:
        shutil.rmtree(old, ignore_errors=True)


def verify(path: Path) -> Checkpoint:
    """Check meta and checksums; raise ValueError naming the problem."""
    meta_path = path / META_FILE
    if not meta_path.is_file():
        raise ValueError(f"{meta_path} missing (checkpoint incomplete)")
    try:
        meta = json.loads(meta_path.read_text())
        files = meta["files"]
        step = int(meta["step"])
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{meta_path} unreadable ({exc})") from None
    for name in (MODEL_FILE, STATE_FILE):
        if not (path / name).is_file():
            raise ValueError(f"{path / name} missing")
    digests: dict[str, Any] = {}
    hasher = threading.Thread(target=_digest_and_sync, args=(path / MODEL_FILE, digests, False), daemon=True)
    hasher.start()
    _digest_and_sync(path / STATE_FILE, digests, False)
    hasher.join()
    for name in (MODEL_FILE, STATE_FILE):
        if isinstance(digests.get(name), BaseException):
            raise ValueError(f"{path / name} unreadable ({digests[name]})")
        if name not in files:
            raise ValueError(f"{path / name}: no checksum recorded for it in {META_FILE}")
        if digests.get(name) != files[name]:
            raise ValueError(f"{path / name} checksum mismatch (corrupt or truncated)")
    return Checkpoint(path, step, meta)


def latest_valid(root: Path, warn: Callable[[str], None]) -> Checkpoint | None:
    """Newest checkpoint that verifies; each invalid newer one is reported through `warn`."""
    for path in list_checkpoints(root):
        try:
            return verify(path)
        except ValueError as exc:
            warn(f"skipping checkpoint {path.name}: {exc}")
    return None


def resume_point(root: Path, mirror: Mirror | None, warn: Callable[[str], None],
                 say: Callable[[str], None], best: Path | None = None) -> Checkpoint | None:
    """The checkpoint to resume from: the newest valid one under `root`, unless the mirror holds a
    newer one (the pod lost its disk, or restarted elsewhere), which is fetched into `root` first,
    with the early-stopping weights `best` when they are missing here."""
    recover_interrupted_writes(root, warn)
    local = latest_valid(root, warn)
    if mirror is None:
        return local
    root.mkdir(parents=True, exist_ok=True)
    fetched = mirror.restore(root, local.step if local is not None else None, warn)
    if fetched is None:
        return local
    say(f"restored checkpoint {fetched.name} from {mirror.describe()}")
    if best is not None and mirror.restore_folder(best.name, best):
        say(f"restored {best.name}/ from {mirror.describe()}")
    return latest_valid(root, warn)


def load_checkpoint(ckpt: Checkpoint) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """(model weights, trainer state); never unpickles arbitrary objects."""
    weights = load_weights(ckpt.path / MODEL_FILE)
    try:
        state = torch.load(ckpt.path / STATE_FILE, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise UsageError(f"checkpoint {ckpt.path / STATE_FILE} refused: it holds objects other than tensors and "
                         f"plain containers, which are never unpickled ({str(exc).splitlines()[0][:120]})") from None
    return weights, state
