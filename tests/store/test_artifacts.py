"""publish_dir / fetch_dir on a LocalStore: ordering of the markers, verification, refusals."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from astrobio.errors import RuntimeFailure, UsageError
from astrobio.store import (
    COMPLETE,
    MANIFEST,
    ArtifactStore,
    LocalStore,
    artifact_prefix,
    fetch_dir,
    is_complete,
    publish_dir,
    read_manifest,
)

PREFIX = artifact_prefix("r1", "pretrain", "graph_vae")


def make_artifact(folder: Path) -> dict[str, bytes]:
    files = {
        "model.safetensors": b"\x00weights" * 100,
        "config.yaml": b"lr: 0.001\n",
        "logs/metrics.jsonl": b'{"val_auc": 0.9}\n',
        "logs/tb/events.out": b"",
    }
    for rel, data in files.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_bytes(data)
    return files


class RecordingStore(LocalStore):
    """Records every mutating call, to check the order of the protocol."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.calls: list[tuple[str, str]] = []

    def put_bytes(self, key: str, data: bytes) -> None:
        self.calls.append(("put", key))
        super().put_bytes(key, data)

    def put_file(self, key: str, path: Path) -> None:
        self.calls.append(("put", key))
        super().put_file(key, path)

    def delete(self, key: str) -> None:
        self.calls.append(("delete", key))
        super().delete(key)


def test_round_trip(tmp_path: Path) -> None:
    files = make_artifact(tmp_path / "src")
    store = LocalStore(tmp_path / "store")
    assert not is_complete(store, PREFIX)

    manifest = publish_dir(store, tmp_path / "src", PREFIX)

    assert is_complete(store, PREFIX)
    assert sorted(manifest["files"]) == sorted(files)
    for rel, data in files.items():
        assert manifest["files"][rel] == {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
    assert read_manifest(store, PREFIX) == manifest

    fetched = fetch_dir(store, PREFIX, tmp_path / "dst")
    assert fetched == manifest
    for rel, data in files.items():
        assert (tmp_path / "dst" / rel).read_bytes() == data
    fetched_files = [p.relative_to(tmp_path / "dst").as_posix() for p in (tmp_path / "dst").rglob("*") if p.is_file()]
    assert sorted(fetched_files) == sorted(files)


def test_markers_order_complete_deleted_first_and_written_last(tmp_path: Path) -> None:
    make_artifact(tmp_path / "src")
    store = RecordingStore(tmp_path / "store")
    publish_dir(store, tmp_path / "src", PREFIX)
    store.calls.clear()

    publish_dir(store, tmp_path / "src", PREFIX)  # a re-publish over a complete artifact

    assert store.calls[0] == ("delete", f"{PREFIX}/{COMPLETE}")
    assert store.calls[-2] == ("put", f"{PREFIX}/{MANIFEST}")
    assert store.calls[-1] == ("put", f"{PREFIX}/{COMPLETE}")
    uploaded = [key for op, key in store.calls[1:-2]]
    assert sorted(uploaded) == sorted(f"{PREFIX}/{rel}" for rel in make_artifact(tmp_path / "again"))  # in parallel


def test_interrupted_republish_is_not_complete(tmp_path: Path) -> None:
    make_artifact(tmp_path / "src")
    store = LocalStore(tmp_path / "store")
    publish_dir(store, tmp_path / "src", PREFIX)

    class Crash(Exception):
        pass

    class CrashingStore(LocalStore):
        def put_file(self, key: str, path: Path) -> None:
            raise Crash(key)

    with pytest.raises(Crash):
        publish_dir(CrashingStore(tmp_path / "store"), tmp_path / "src", PREFIX)
    assert not is_complete(store, PREFIX)
    with pytest.raises(RuntimeFailure, match="incomplete") as info:
        fetch_dir(store, PREFIX, tmp_path / "dst")
    assert PREFIX in str(info.value)


def test_tampered_file_is_detected_and_removed(tmp_path: Path) -> None:
    make_artifact(tmp_path / "src")
    store = LocalStore(tmp_path / "store")
    publish_dir(store, tmp_path / "src", PREFIX)
    store.put_bytes(f"{PREFIX}/logs/metrics.jsonl", b'{"val_auc": 1.0}\n')  # same size, other bytes

    with pytest.raises(RuntimeFailure, match="checksum mismatch") as info:
        fetch_dir(store, PREFIX, tmp_path / "dst")
    assert f"{PREFIX}/logs/metrics.jsonl" in str(info.value)
    assert not (tmp_path / "dst" / "logs" / "metrics.jsonl").exists()


def test_tampered_manifest_is_detected(tmp_path: Path) -> None:
    make_artifact(tmp_path / "src")
    store = LocalStore(tmp_path / "store")
    manifest = publish_dir(store, tmp_path / "src", PREFIX)
    manifest["files"]["config.yaml"]["sha256"] = "0" * 64
    store.put_bytes(f"{PREFIX}/{MANIFEST}", json.dumps(manifest).encode())
    with pytest.raises(RuntimeFailure, match="does not match its COMPLETE marker"):
        fetch_dir(store, PREFIX, tmp_path / "dst")


def test_manifest_with_unsafe_path_is_refused(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    bad = {"version": 1, "files": {"../escape": {"sha256": "0" * 64, "size": 0}}}
    store.put_bytes(f"{PREFIX}/{MANIFEST}", json.dumps(bad).encode())
    with pytest.raises(RuntimeFailure, match="unsafe path"):
        read_manifest(store, PREFIX)


def test_missing_manifest(tmp_path: Path) -> None:
    with pytest.raises(RuntimeFailure, match="has no MANIFEST.json"):
        read_manifest(LocalStore(tmp_path), PREFIX)


def test_reserved_names_and_missing_folder_are_usage_errors(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    with pytest.raises(UsageError, match="expected an existing folder"):
        publish_dir(store, tmp_path / "nope", PREFIX)
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / COMPLETE).write_bytes(b"")
    with pytest.raises(UsageError, match="reserved"):
        publish_dir(store, tmp_path / "src", PREFIX)
    assert store.list() == []


def test_empty_folder_publishes_an_empty_complete_artifact(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    store: ArtifactStore = LocalStore(tmp_path / "store")
    assert publish_dir(store, tmp_path / "src", PREFIX)["files"] == {}
    assert is_complete(store, PREFIX)
    assert fetch_dir(store, PREFIX, tmp_path / "dst")["files"] == {}


class OverlapStore(LocalStore):
    """Each file upload waits until another one is in flight too (or 5 s pass): uploaded one after
    another, no upload ever sees a second one, so `overlapped` stays False."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        import threading

        self.both = threading.Barrier(2)
        self.overlapped = False

    def _met_another(self) -> bool:
        import threading

        try:
            self.both.wait(timeout=5)
        except threading.BrokenBarrierError:  # alone for 5 s: uploads run one at a time
            return False
        return True

    def put_file(self, key: str, path: Path) -> None:
        self.overlapped |= self._met_another()
        super().put_file(key, path)


def test_files_upload_in_parallel_and_complete_still_comes_last(tmp_path: Path) -> None:
    make_artifact(tmp_path / "src")
    store = OverlapStore(tmp_path / "store")
    publish_dir(store, tmp_path / "src", PREFIX)
    assert store.overlapped
    assert fetch_dir(store, PREFIX, tmp_path / "dst")["files"].keys() == read_manifest(store, PREFIX)["files"].keys()


def test_a_failed_file_upload_leaves_no_manifest_nor_complete(tmp_path: Path) -> None:
    make_artifact(tmp_path / "src")

    class FailingStore(RecordingStore):
        def put_file(self, key: str, path: Path) -> None:
            if key.endswith("config.yaml"):
                raise OSError("disk gone")
            super().put_file(key, path)

    store = FailingStore(tmp_path / "store")
    with pytest.raises(OSError, match="disk gone"):
        publish_dir(store, tmp_path / "src", PREFIX)
    assert not is_complete(store, PREFIX) and not any(key.endswith("MANIFEST.json") for _, key in store.calls)


def test_hash_file_reads_in_chunks_where_files_cannot_be_mapped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import mmap

    from astrobio.store.artifacts import sha256_file

    data = b"x" * 5_000_001
    (tmp_path / "f").write_bytes(data)
    (tmp_path / "empty").write_bytes(b"")
    mapped = sha256_file(tmp_path / "f")

    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError(19, "No such device")  # what a file system without mmap says

    monkeypatch.setattr(mmap, "mmap", refuse)
    assert sha256_file(tmp_path / "f") == mapped == hashlib.sha256(data).hexdigest()
    assert sha256_file(tmp_path / "empty") == hashlib.sha256(b"").hexdigest()
