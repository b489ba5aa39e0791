"""LocalStore: a folder behind the store interface, with atomic writes and no escapes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from astrobio.errors import RuntimeFailure, UsageError
from astrobio.store import KeyNotFound, LocalStore
from astrobio.store.atomic import TEMP_SUFFIX, atomic_write_bytes, atomic_writer


def temp_files(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.name.endswith(TEMP_SUFFIX)]


def test_round_trip(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    store.put_bytes("runs/r1/a.bin", b"\x00\x01payload")
    assert store.get_bytes("runs/r1/a.bin") == b"\x00\x01payload"
    assert store.exists("runs/r1/a.bin")
    assert not store.exists("runs/r1/b.bin")
    assert not store.exists("runs/r1")  # a folder is not a key

    source = tmp_path / "src.txt"
    source.write_bytes(b"file body" * 1000)
    store.put_file("runs/r1/sub/file.txt", source)
    dest = tmp_path / "out" / "deep" / "file.txt"
    store.get_file("runs/r1/sub/file.txt", dest)
    assert dest.read_bytes() == source.read_bytes()

    store.put_bytes("runs/r10/x", b"other run")
    assert store.list("runs/r1") == ["runs/r1/a.bin", "runs/r1/sub/file.txt"]
    assert store.list("runs/r1/") == ["runs/r1/a.bin", "runs/r1/sub/file.txt"]
    assert store.list() == ["runs/r1/a.bin", "runs/r1/sub/file.txt", "runs/r10/x"]
    assert store.list("nothing/here") == []

    store.delete("runs/r1/sub/file.txt")
    assert not store.exists("runs/r1/sub/file.txt")
    assert not (tmp_path / "store" / "runs" / "r1" / "sub").exists()  # emptied folders are pruned
    store.delete("runs/r1/sub/file.txt")  # deleting again is not an error
    assert temp_files(tmp_path) == []


def test_put_replaces_and_leaves_no_temp_files(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    for i in range(5):
        store.put_bytes("k", f"version {i}".encode())
    assert store.get_bytes("k") == b"version 4"
    assert temp_files(tmp_path) == []
    assert sorted(os.listdir(tmp_path)) == ["k"]


def test_failed_write_keeps_the_old_value_and_cleans_up(tmp_path: Path) -> None:
    target = tmp_path / "k"
    atomic_write_bytes(target, b"old")
    with pytest.raises(RuntimeError):
        with atomic_writer(target) as handle:
            handle.write(b"half of the new")
            raise RuntimeError("crash mid-write")
    assert target.read_bytes() == b"old"
    assert temp_files(tmp_path) == []


def test_failed_replace_through_the_store_keeps_the_old_value(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = LocalStore(tmp_path)
    store.put_bytes("k", b"old")

    def broken_replace(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(RuntimeFailure, match="No space left on device") as info:
        store.put_bytes("k", b"new")
    assert str(tmp_path) in str(info.value)
    monkeypatch.undo()
    assert store.get_bytes("k") == b"old"
    assert temp_files(tmp_path) == []


def test_written_file_permissions_follow_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        LocalStore(tmp_path).put_bytes("k", b"x")
    finally:
        os.umask(old)
    assert (tmp_path / "k").stat().st_mode & 0o777 == 0o644


def test_temp_files_are_not_listed_and_temp_names_are_reserved(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    store.put_bytes("a", b"1")
    (tmp_path / f".a.123{TEMP_SUFFIX}").write_bytes(b"left by a crash")
    assert store.list() == ["a"]
    with pytest.raises(UsageError, match="reserved"):
        store.put_bytes(f"b{TEMP_SUFFIX}", b"x")


def test_symlink_escaping_the_root_is_rejected(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_bytes(b"not yours")
    root = tmp_path / "store"
    root.mkdir()
    (root / "link").symlink_to(outside, target_is_directory=True)
    store = LocalStore(root)
    with pytest.raises(UsageError, match="outside the store root"):
        store.get_bytes("link/secret")
    with pytest.raises(UsageError, match="outside the store root"):
        store.put_bytes("link/new", b"x")
    assert not (outside / "new").exists()


@pytest.mark.parametrize("key", ["../escape", "/etc/passwd", "a/../../b"])
def test_traversal_keys_are_rejected_before_touching_disk(tmp_path: Path, key: str) -> None:
    store = LocalStore(tmp_path / "store")
    with pytest.raises(UsageError, match="invalid store key"):
        store.put_bytes(key, b"x")
    assert not (tmp_path / "store").exists()
    assert not (tmp_path / "escape").exists()


def test_missing_key_and_missing_source(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    with pytest.raises(KeyNotFound, match="'nope'"):
        store.get_bytes("nope")
    with pytest.raises(KeyNotFound, match="'nope'"):
        store.get_file("nope", tmp_path / "out")
    assert not (tmp_path / "out").exists()
    with pytest.raises(UsageError, match="missing.txt"):
        store.put_file("k", tmp_path / "missing.txt")


def test_check(tmp_path: Path) -> None:
    LocalStore(tmp_path / "new" / "root").check()
    assert (tmp_path / "new" / "root").is_dir()
    (tmp_path / "file").write_bytes(b"")
    with pytest.raises(UsageError, match="not a folder"):
        LocalStore(tmp_path / "file").check()


def test_uri_and_repr(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    assert store.uri == str(tmp_path)
    assert str(tmp_path) in repr(store)
