"""Bad input refused: path traversal through store keys, run ids, component names and manifests.

Every hostile name must be refused with one line, and nothing may appear outside the store root:
after all trials the sandbox holding the store is listed and must contain only what the test made.
`--output` is the user's own choice of folder, so it is not a traversal and is not tried here.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from astrobio.config import load_config
from astrobio.errors import AstrobioError, UsageError
from astrobio.store import LocalStore
from astrobio.store.artifacts import COMPLETE, MANIFEST, MANIFEST_VERSION, fetch_dir
from astrobio.store.keys import artifact_prefix, join_key, validate_name
from tests.cli_helpers import SMOKE, assert_one_line_error, run_cli

HOSTILE = [
    "../evil", "../../evil", "a/../../evil", "/tmp/evil-abs", "C:\\evil", "a\\..\\..\\evil", "evil\x00.txt", "..", ".",
    "%2e%2e/evil", "%2e%2e%2fevil", "a%5c..%5cevil", "\u2025/evil", "\uff0e\uff0e/evil", "a\uff0f..\uff0fevil",
    "x" * 300 + "/evil", "a\nb", "runs//evil",
]


def _tree(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*")}


def _one_line(exc: AstrobioError) -> bool:
    return "\n" not in str(exc) and "\r" not in str(exc) and "\x00" not in str(exc)


def test_hostile_keys_and_names_never_leave_the_store_root(tmp_path, fault_table):
    sandbox = tmp_path / "sandbox"
    root = sandbox / "store"
    store = LocalStore(root)
    store.put_bytes("runs/r1/pretrain/graph_vae/ok.txt", b"fine")
    payload = tmp_path / "payload.bin"
    payload.write_bytes(b"evil")
    before = _tree(sandbox)
    refused = trials = 0
    for name in HOSTILE:
        attempts = [
            lambda: store.put_bytes(name, b"evil"), lambda: store.put_file(name, payload),
            lambda: store.get_file(name, sandbox / "got"), lambda: store.get_bytes(name), lambda: store.exists(name),
            lambda: store.delete(name), lambda: store.list(name + "/"), lambda: join_key("runs", name, "model.pt"),
            lambda: artifact_prefix(name, "pretrain", "graph_vae"), lambda: artifact_prefix("r1", name, "graph_vae"),
            lambda: artifact_prefix("r1", "pretrain", name), lambda: validate_name(name, "run id"),
        ]
        for attempt in attempts:
            trials += 1
            with pytest.raises(UsageError) as info:
                attempt()
            assert _one_line(info.value), str(info.value)
            refused += 1
    assert _tree(sandbox) == before, _tree(sandbox) ^ before
    assert not (tmp_path / "evil").exists() and not Path("/tmp/evil-abs").exists()
    fault_table.record("path traversal: store API + key helpers", trials=trials, survived=refused, data_lost=0,
                       detail=f"{len(HOSTILE)} hostile names x put/get/list/delete/join/artifact_prefix; "
                              "all refused with one line, store sandbox unchanged")


def test_hostile_manifest_cannot_write_outside_the_fetch_folder(tmp_path, fault_table):
    """A store written by someone else: its manifest lists '../' paths; fetch_dir must refuse them."""
    root = tmp_path / "store"
    store = LocalStore(root)
    dest = tmp_path / "sandbox" / "fetched"
    trials = refused = 0
    for rel in HOSTILE:
        manifest = json.dumps({"version": MANIFEST_VERSION, "files": {rel: {"sha256": "0" * 64, "size": 4}}}).encode()
        store.put_bytes(f"runs/r1/p/c/{MANIFEST}", manifest)
        store.put_bytes(f"runs/r1/p/c/{COMPLETE}",
                        json.dumps({"manifest_sha256": hashlib.sha256(manifest).hexdigest()}).encode())
        trials += 1
        with pytest.raises(AstrobioError, match="unsafe path") as info:
            fetch_dir(store, "runs/r1/p/c", dest)
        assert _one_line(info.value)
        refused += 1
    assert not (tmp_path / "sandbox").exists() and not (tmp_path / "evil").exists()
    fault_table.record("path traversal: hostile manifest on fetch", trials=trials, survived=refused, data_lost=0,
                       detail="manifest paths with ../, absolute, encoded and look-alike dots refused; nothing fetched")


@pytest.mark.parametrize("field", ["run.run_id", "run.name"])
def test_hostile_run_ids_in_config_are_refused(field, fault_table):
    refused = 0
    for name in HOSTILE:
        with pytest.raises(UsageError) as info:
            load_config(None, [f"{field}={json.dumps(name)}"])
        assert field in str(info.value) and _one_line(info.value), str(info.value)
        refused += 1
    fault_table.record(f"path traversal: config {field}", trials=len(HOSTILE), survived=refused, data_lost=0,
                       detail="refused at validation, one line naming the field")


CLI_CASES = [
    ("train", "-c", "../graph_vae"), ("train", "-c", "/tmp/evil"), ("train", "-c", "%2e%2e"),
    ("train", "-c", "graph_vae", "--set", "run.run_id=../../evil"),
    ("train", "-c", "graph_vae", "--set", "run.name=%2e%2e"),
    ("models", "inspect", "w.pt", "-c", "../../graph_vae"),
]


def test_hostile_names_through_the_cli(tmp_path, fault_table):
    sandbox = tmp_path / "sandbox"
    sandbox.mkdir()
    refused = 0
    for args in CLI_CASES:
        extra = ["--config", str(SMOKE)] + (["--output", "out"] if args[0] == "train" else [])
        line = assert_one_line_error(run_cli(*args, *extra, cwd=sandbox, timeout=120), 2)
        assert any(word in line for word in ("unknown component", "run.run_id", "run.name")), line
        refused += 1
    assert _tree(sandbox) == set() and not (tmp_path / "evil").exists()
    fault_table.record("path traversal: CLI -c / run id", trials=len(CLI_CASES), survived=refused, data_lost=0,
                       detail="exit 2, one line; working folder left empty")
