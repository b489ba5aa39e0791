"""Checkpoints mirrored to an S3 store: COMPLETE last, keep-last-K, restore only what is whole."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from astrobio.errors import TransientFailure
from astrobio.store import COMPLETE, LocalStore, S3Store, join_key, open_store
from astrobio.store.checkpoint_mirror import CheckpointMirror, checkpoint_mirror
from astrobio.trainer.checkpoint import latest_valid, save_checkpoint, verify
from astrobio.trainer.resume import resume_point
from tests.s3server import S3TestServer

PREFIX = "runs/r1/pretrain/toy/checkpoints"


def local_checkpoint(root: Path, step: int) -> Path:
    return save_checkpoint(root, step, {"w": torch.full((4,), float(step))}, {"train": {"step": step}}, "h", keep_last=10)


def test_upload_keeps_the_newest_k_and_restore_takes_the_newest(s3_store: S3Store, tmp_path: Path) -> None:
    mirror = CheckpointMirror(s3_store, PREFIX, keep_last=2)
    for step in (10, 20, 30):
        mirror.upload(local_checkpoint(tmp_path / "pod1", step))
    assert mirror.complete_steps() == [30, 20]
    assert not any("step-00000010" in k for k in s3_store.list(PREFIX))  # pruned, every file of it
    fresh = tmp_path / "pod2" / "checkpoints"  # a new pod: empty disk
    notes: list[str] = []
    restored = resume_point(fresh, mirror, notes.append, notes.append)
    assert restored is not None and restored.step == 30
    assert torch.load(restored.path / "state.pt", weights_only=True)["train"]["step"] == 30
    assert notes == [f"restored checkpoint step-00000030 from {mirror.describe()}"]
    assert not [p for p in fresh.iterdir() if p.name.startswith(".tmp-")]  # no temp folder left


def test_a_local_checkpoint_as_new_as_the_store_is_not_downloaded(s3_store: S3Store, tmp_path: Path) -> None:
    mirror = CheckpointMirror(s3_store, PREFIX, keep_last=3)
    root = tmp_path / "checkpoints"
    mirror.upload(local_checkpoint(root, 10))
    mirror.upload(local_checkpoint(root, 20))
    assert resume_point(root, mirror, print, print).step == 20  # type: ignore[union-attr]
    older = tmp_path / "stale" / "checkpoints"
    local_checkpoint(older, 10)
    assert resume_point(older, mirror, print, print).step == 20  # type: ignore[union-attr]


def test_an_upload_without_complete_is_never_restored(s3_store: S3Store, tmp_path: Path) -> None:
    """A pod killed mid-upload leaves files but no COMPLETE: the restart takes the older whole one."""
    mirror = CheckpointMirror(s3_store, PREFIX, keep_last=3)
    mirror.upload(local_checkpoint(tmp_path / "a", 10))
    half = local_checkpoint(tmp_path / "a", 20)
    s3_store.put_file(join_key(PREFIX, half.name, "model.safetensors"), half / "model.safetensors")
    assert mirror.complete_steps() == [10]
    got = resume_point(tmp_path / "b", mirror, print, print)
    assert got is not None and got.step == 10
    mirror.upload(local_checkpoint(tmp_path / "a", 30))  # pruning drops the unfinished older one
    assert not any("step-00000020" in k for k in s3_store.list(PREFIX))


def test_a_corrupt_checkpoint_in_the_store_is_removed_and_the_older_one_used(s3_store: S3Store, tmp_path: Path) -> None:
    mirror = CheckpointMirror(s3_store, PREFIX, keep_last=3)
    mirror.upload(local_checkpoint(tmp_path / "a", 10))
    mirror.upload(local_checkpoint(tmp_path / "a", 20))
    s3_store.put_bytes(join_key(PREFIX, "step-00000020", "state.pt"), b"bit rot")
    notes: list[str] = []
    got = resume_point(tmp_path / "b", mirror, notes.append, notes.append)
    assert got is not None and got.step == 10 and verify(got.path).step == 10
    assert any("removing checkpoint step-00000020" in n and "checksum mismatch" in n for n in notes)
    assert mirror.complete_steps() == [10]


def test_an_outage_during_restore_is_transient_not_a_fresh_start(s3_server: S3TestServer, tmp_path: Path) -> None:
    """Starting at step 0 because the store was down would later prune the good checkpoints."""
    from astrobio.store import RetryPolicy
    from tests.s3server import unique_bucket

    store = open_store(f"s3://{unique_bucket()}/p", s3_server.env(), retry=RetryPolicy(attempts=2, base_delay=0, sleep=lambda _: None))
    store.ensure_bucket()  # type: ignore[attr-defined]
    mirror = CheckpointMirror(store, PREFIX, keep_last=3)
    mirror.upload(local_checkpoint(tmp_path / "a", 10))
    s3_server.stop()
    with pytest.raises(TransientFailure):
        resume_point(tmp_path / "b", mirror, print, print)
    assert latest_valid(tmp_path / "b", print) is None


def test_only_an_s3_store_gets_a_mirror(s3_store: S3Store, tmp_path: Path) -> None:
    assert checkpoint_mirror(LocalStore(tmp_path), "runs/r/p/c", 3) is None
    mirror = checkpoint_mirror(s3_store, "runs/r/p/c", 3)
    assert mirror is not None and mirror.prefix == "runs/r/p/c/checkpoints"


def test_complete_is_the_last_key_written(s3_server: S3TestServer, s3_store: S3Store, tmp_path: Path) -> None:
    s3_server.served.clear()
    CheckpointMirror(s3_store, PREFIX, keep_last=3).upload(local_checkpoint(tmp_path, 10))
    puts = [s.request.key for s in s3_server.served if s.request.method == "PUT"]
    assert puts[-1].endswith(f"step-00000010/{COMPLETE}") and len(puts) == 5  # 3 files, manifest, COMPLETE
    marker = json.loads(s3_store.get_bytes(join_key(PREFIX, "step-00000010", COMPLETE)))
    assert set(marker) == {"manifest_sha256"}
