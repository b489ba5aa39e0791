"""Checkpoints: weights as safetensors, the rest as a weights-only torch file, checksummed.

A checkpoint is a folder `step-NNNNNNNN/` with `model.safetensors`, `state.pt` (optimizer,
scheduler, RNG, data position, trainer state) and `meta.json` (step, config hash, SHA-256 of each
file). It is assembled under a temp name and renamed into place, so a kill at any moment leaves
either no new checkpoint or a complete one; `latest_valid` skips any that fail verification.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from astrobio.trainer.atomic import fsync_dir, sha256_file, write_atomic

PREFIX = "step-"
MODEL_FILE = "model.safetensors"
STATE_FILE = "state.pt"
META_FILE = "meta.json"


@dataclass(frozen=True)
class Checkpoint:
    path: Path
    step: int
    meta: dict[str, Any]


def save_weights(path: Path, state_dict: dict[str, torch.Tensor], metadata: dict[str, str] | None = None) -> None:
    """safetensors file, atomically; shared storages (tied weights) are de-duplicated by copy."""
    seen: set[int] = set()
    tensors: dict[str, torch.Tensor] = {}
    for key, value in state_dict.items():
        t = value.detach().cpu().contiguous()
        ptr = t.untyped_storage().data_ptr()
        if ptr in seen:
            t = t.clone()
        seen.add(t.untyped_storage().data_ptr())
        tensors[key] = t
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
    tmp = root / f".tmp-{final.name}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        save_weights(tmp / MODEL_FILE, model_state)
        write_atomic(tmp / STATE_FILE, lambda p: torch.save(state, p))
        meta = {
            "step": step,
            "config_hash": config_hash,
            "created_unix": time.time(),
            "files": {name: sha256_file(tmp / name) for name in (MODEL_FILE, STATE_FILE)},
        }
        write_atomic(tmp / META_FILE, lambda p: p.write_text(json.dumps(meta, indent=2)))
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
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{meta_path} unreadable ({exc})") from None
    for name in (MODEL_FILE, STATE_FILE):
        target = path / name
        if not target.is_file():
            raise ValueError(f"{target} missing")
        if name not in files or sha256_file(target) != files[name]:
            raise ValueError(f"{target} checksum mismatch (corrupt or truncated)")
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
    state = torch.load(ckpt.path / STATE_FILE, map_location="cpu", weights_only=True)
    return weights, state
