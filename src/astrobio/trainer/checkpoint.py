"""Checkpoints: weights as safetensors, the rest as a weights-only torch file, checksummed.

A checkpoint is a folder `step-NNNNNNNN/` with `model.safetensors`, `state.pt` (optimizer,
scheduler, RNG, data position, trainer state) and `meta.json` (step, config hash, the checksum
algorithm and each file's checksum). It is assembled under a temp name and renamed into place, so a
kill at any moment leaves either no new checkpoint or a complete one; `latest_valid` skips any that
fail verification.

Checksums are XXH3-128 (the `xxhash` package): they guard against torn and corrupted files, not
against an attacker, and hash a memory-mapped file at page-cache speed (~3 ms for 64 MiB, against
~40 ms of CPU for SHA-256), so verifying costs a small part of a `torch.load`. A `meta.json` without
an algorithm (written before) holds SHA-256 checksums and still verifies. The store's MANIFEST keeps
SHA-256 (`astrobio.store.artifacts`), computed while the mirror uploads, off the training thread.

Inside the temp folder files are written in place (the folder rename is the atomic step; each file
and the folder are fsynced before it); the weights file is hashed and fsynced in a helper thread
while the state file is written. This module writes and reads one checkpoint; writing in the
background and mirroring to the store is `checkpoint_async`, choosing where to resume is `resume`.
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
from typing import Any

import torch
import xxhash
from safetensors.torch import load_file, save_file

from astrobio.errors import UsageError
from astrobio.hashing import hash_file
from astrobio.trainer.atomic import fsync_dir, write_atomic

PREFIX = "step-"
MODEL_FILE = "model.safetensors"
STATE_FILE = "state.pt"
META_FILE = "meta.json"
DIGEST = "xxh3_128"
LEGACY_DIGEST = "sha256"  # what a meta.json that names no algorithm holds
_HASHES = {DIGEST: xxhash.xxh3_128, LEGACY_DIGEST: hashlib.sha256}


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


def file_digest(path: Path, algorithm: str = DIGEST, sync: bool = False) -> str:
    """Hex checksum of a file, hashed straight from its memory map (no copy out of the page cache);
    fsync it too when `sync` (a just-written file)."""
    digest = hash_file(path, _HASHES[algorithm]())
    if sync:
        with open(path, "rb") as handle:
            os.fsync(handle.fileno())
    return digest.hexdigest()


def _digest_into(path: Path, into: dict[str, Any], algorithm: str = DIGEST, sync: bool = True) -> None:
    """`file_digest` for a helper thread: the checksum, or the error (re-raised by the caller), in `into`."""
    try:
        into[path.name] = file_digest(path, algorithm, sync)
    except BaseException as exc:  # re-raised by the caller
        into[path.name] = exc


def save_weights(path: Path, state_dict: dict[str, torch.Tensor], metadata: dict[str, str] | None = None) -> None:
    """safetensors file, atomically; shared storages (tied weights) are de-duplicated by copy."""
    tensors = _weights_for_save(state_dict)
    write_atomic(path, lambda tmp: save_file(tensors, str(tmp), metadata=metadata))


def load_weights(path: Path) -> dict[str, torch.Tensor]:
    return load_file(str(path))


def step_dir(root: Path, step: int) -> Path:
    return root / f"{PREFIX}{step:08d}"


def save_checkpoint(root: Path, step: int, model_state: dict[str, torch.Tensor], state: dict[str, Any],
                    config_hash: str, keep_last: int) -> Path:
    """Write checkpoint `step` under `root` and prune to the newest `keep_last`."""
    root.mkdir(parents=True, exist_ok=True)
    final = step_dir(root, step)
    tmp = root / f".tmp-{final.name}-{os.getpid()}-{threading.get_ident()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        save_file(_weights_for_save(model_state), str(tmp / MODEL_FILE))  # zero-copy from tensor memory
        files: dict[str, Any] = {}
        hasher = threading.Thread(target=_digest_into, args=(tmp / MODEL_FILE, files), daemon=True)
        hasher.start()
        try:
            # through a Python file: a full disk then raises OSError(ENOSPC), where torch's own
            # path writer reports only "unexpected pos" (seen on a full tmpfs)
            with open(tmp / STATE_FILE, "wb") as handle:
                torch.save(state, handle)
            _digest_into(tmp / STATE_FILE, files)
        finally:
            hasher.join()
        for name in (MODEL_FILE, STATE_FILE):
            if not isinstance(files.get(name), str):
                raise files.get(name) or RuntimeError(f"no checksum for {name}")
        meta = {"step": step, "config_hash": config_hash, "created_unix": time.time(), "digest": DIGEST,
                "files": files}
        with open(tmp / META_FILE, "w", encoding="utf-8") as handle:  # in place: the folder rename is atomic
            handle.write(json.dumps(meta, indent=2))
            handle.flush()
            os.fsync(handle.fileno())
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
        algorithm = meta.get("digest", LEGACY_DIGEST)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"{meta_path} unreadable ({exc})") from None
    if algorithm not in _HASHES:
        raise ValueError(f"{meta_path}: unknown checksum algorithm {algorithm!r}; expected one of {sorted(_HASHES)}")
    for name in (MODEL_FILE, STATE_FILE):
        if not (path / name).is_file():
            raise ValueError(f"{path / name} missing")
    digests: dict[str, Any] = {}
    hasher = threading.Thread(target=_digest_into, args=(path / MODEL_FILE, digests, algorithm, False), daemon=True)
    hasher.start()
    _digest_into(path / STATE_FILE, digests, algorithm, False)
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


def load_checkpoint(ckpt: Checkpoint) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """(model weights, trainer state); never unpickles arbitrary objects."""
    weights = load_weights(ckpt.path / MODEL_FILE)
    try:
        state = torch.load(ckpt.path / STATE_FILE, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise UsageError(f"checkpoint {ckpt.path / STATE_FILE} refused: it holds objects other than tensors and "
                         f"plain containers, which are never unpickled ({str(exc).splitlines()[0][:120]})") from None
    return weights, state
