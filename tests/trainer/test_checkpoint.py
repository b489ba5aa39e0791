"""Checkpoint files: atomic, checksummed, pruned, verified; invalid ones skipped with a warning."""

from __future__ import annotations

import json
import os

import pytest
import torch

from astrobio.trainer import checkpoint as ck
from astrobio.trainer.resume import recover_interrupted_writes


def save(root, step, keep=3):
    return ck.save_checkpoint(root, step, {"w": torch.full((3,), float(step))}, {"train": {"step": step}}, "abc", keep)


def test_round_trip_and_meta(tmp_path):
    path = save(tmp_path, 5)
    found = ck.latest_valid(tmp_path, warn=lambda m: None)
    assert found is not None and found.path == path and found.step == 5
    weights, state = ck.load_checkpoint(found)
    assert torch.equal(weights["w"], torch.full((3,), 5.0)) and state["train"]["step"] == 5
    assert found.meta["config_hash"] == "abc" and set(found.meta["files"]) == {"model.safetensors", "state.pt"}
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_keep_last_prunes_oldest(tmp_path):
    for step in (1, 2, 3, 4):
        save(tmp_path, step, keep=2)
    assert [p.name for p in ck.list_checkpoints(tmp_path)] == ["step-00000004", "step-00000003"]


def test_invalid_newest_skipped_with_warning(tmp_path):
    save(tmp_path, 1)
    save(tmp_path, 2)
    newest = save(tmp_path, 3)
    (newest / "state.pt").write_bytes((newest / "state.pt").read_bytes()[:10])  # truncated
    (tmp_path / "step-00000002" / "meta.json").unlink()  # incomplete
    warnings: list[str] = []
    found = ck.latest_valid(tmp_path, warn=warnings.append)
    assert found is not None and found.step == 1
    assert "step-00000003" in warnings[0] and "checksum" in warnings[0]
    assert "step-00000002" in warnings[1] and "missing" in warnings[1]


def test_leftover_temp_folder_is_ignored(tmp_path):
    save(tmp_path, 1)
    (tmp_path / ".tmp-step-00000002-999").mkdir()
    assert ck.latest_valid(tmp_path, warn=lambda m: None).step == 1


def test_interrupted_writes_are_tidied_and_an_interrupted_resave_restored(tmp_path):
    save(tmp_path, 1)
    save(tmp_path, 2)
    (tmp_path / ".tmp-step-00000003-999").mkdir()               # killed before its rename
    os.replace(tmp_path / "step-00000002", tmp_path / ".old-step-00000002-999")  # killed between the renames
    notes: list[str] = []
    recover_interrupted_writes(tmp_path, notes.append)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["step-00000001", "step-00000002"]
    assert ck.latest_valid(tmp_path, warn=notes.append).step == 2
    assert any("removed unfinished checkpoint write .tmp-step-00000003-999" in n for n in notes)
    assert any("restored step-00000002" in n for n in notes)


def test_missing_checksum_is_named(tmp_path):
    path = save(tmp_path, 4)
    meta = json.loads((path / ck.META_FILE).read_text())
    del meta["files"][ck.STATE_FILE]
    (path / ck.META_FILE).write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="state.pt: no checksum recorded for it in meta.json"):
        ck.verify(path)


def test_state_file_with_code_is_refused_on_resume(tmp_path):
    import pickle

    from astrobio.errors import UsageError

    path = save(tmp_path, 5)

    class Payload:
        def __reduce__(self):
            return (print, ("never",))

    (path / ck.STATE_FILE).write_bytes(pickle.dumps({"x": Payload()}))
    checkpoint = ck.Checkpoint(path, 5, {})
    with pytest.raises(UsageError, match="state.pt refused"):
        ck.load_checkpoint(checkpoint)


def test_resave_same_step_replaces(tmp_path):
    save(tmp_path, 7)
    ck.save_checkpoint(tmp_path, 7, {"w": torch.zeros(3)}, {}, "abc", 3)
    weights, _ = ck.load_checkpoint(ck.latest_valid(tmp_path, warn=lambda m: None))
    assert torch.equal(weights["w"], torch.zeros(3))


def test_tied_weights_are_saved(tmp_path):
    shared = torch.ones(2, 2)
    ck.save_weights(tmp_path / "m.safetensors", {"a": shared, "b": shared})
    loaded = ck.load_weights(tmp_path / "m.safetensors")
    assert torch.equal(loaded["a"], loaded["b"])


def test_meta_names_xxh3_and_a_flipped_byte_fails_verification(tmp_path):
    """XXH3-128 checksums (the meta says so); one changed byte anywhere in the weights is caught."""
    path = save(tmp_path, 2)
    meta = json.loads((path / ck.META_FILE).read_text())
    assert meta["digest"] == "xxh3_128" and len(meta["files"][ck.MODEL_FILE]) == 32
    data = bytearray((path / ck.MODEL_FILE).read_bytes())
    data[len(data) // 2] ^= 1
    (path / ck.MODEL_FILE).write_bytes(bytes(data))
    with pytest.raises(ValueError, match="model.safetensors checksum mismatch"):
        ck.verify(path)


def _as_legacy_sha256(path):
    """Rewrite a checkpoint's meta.json as it was written before XXH3: SHA-256 and no algorithm named."""
    import hashlib

    meta = json.loads((path / ck.META_FILE).read_text())
    del meta["digest"]
    meta["files"] = {name: hashlib.sha256((path / name).read_bytes()).hexdigest() for name in meta["files"]}
    (path / ck.META_FILE).write_text(json.dumps(meta))


def test_checkpoint_with_a_legacy_sha256_meta_resumes_and_is_still_checked(tmp_path):
    _as_legacy_sha256(save(tmp_path, 1))
    newest = save(tmp_path, 2)
    _as_legacy_sha256(newest)
    (newest / ck.STATE_FILE).write_bytes((newest / ck.STATE_FILE).read_bytes()[:-1])  # truncated
    warnings: list[str] = []
    found = ck.latest_valid(tmp_path, warn=warnings.append)
    assert found is not None and found.step == 1 and "step-00000002" in warnings[0] and "checksum" in warnings[0]
    weights, state = ck.load_checkpoint(found)
    assert torch.equal(weights["w"], torch.full((3,), 1.0)) and state["train"]["step"] == 1


def test_unknown_checksum_algorithm_is_named(tmp_path):
    path = save(tmp_path, 3)
    meta = json.loads((path / ck.META_FILE).read_text())
    meta["digest"] = "md4"
    (path / ck.META_FILE).write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="unknown checksum algorithm 'md4'"):
        ck.verify(path)
