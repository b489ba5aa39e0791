"""AsyncCheckpointer (astrobio.trainer.checkpoint_async): a background write that is a normal checkpoint.

(Kept here with the benchmarks that motivated it; it belongs with tests/trainer/test_checkpoint.py.)
"""

from __future__ import annotations

import pytest
import torch

from astrobio.trainer import checkpoint as ck
from astrobio.trainer.checkpoint_async import AsyncCheckpointer


def test_background_save_is_a_valid_checkpoint_of_the_state_at_save_time(tmp_path):
    saver = AsyncCheckpointer()
    w = torch.ones(1000)
    state = {"optimizer": {"m": torch.full((3,), 2.0)}, "train": {"step": 4}}
    path = saver.save(tmp_path, 4, {"w": w}, state, "abc", 2)
    w.mul_(0)  # training goes on changing the tensors in place
    state["optimizer"]["m"].add_(1)
    saver.wait()
    found = ck.latest_valid(tmp_path, warn=lambda m: pytest.fail(m))
    assert found is not None and found.path == path and found.step == 4
    weights, saved = ck.load_checkpoint(found)
    assert torch.equal(weights["w"], torch.ones(1000)) and torch.equal(saved["optimizer"]["m"], torch.full((3,), 2.0))


def test_one_write_in_flight_and_keep_last(tmp_path):
    saver = AsyncCheckpointer()
    for step in (1, 2, 3):
        saver.save(tmp_path, step, {"w": torch.full((4,), float(step))}, {}, "abc", 2)
    saver.wait()
    assert not saver.pending
    assert [p.name for p in ck.list_checkpoints(tmp_path)] == ["step-00000003", "step-00000002"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_a_failed_write_is_raised_by_wait(tmp_path):
    blocker = tmp_path / "root"
    blocker.write_text("a file where the checkpoint folder should be")
    saver = AsyncCheckpointer()
    saver.save(blocker, 1, {"w": torch.zeros(2)}, {}, "abc", 2)
    with pytest.raises(OSError):
        saver.wait()
    saver.wait()  # reported once


def test_later_snapshots_refill_the_previous_buffers_only_after_its_write(tmp_path):
    """The second save copies into the first snapshot's memory (no fresh allocation on the training
    thread), and only once the first checkpoint is on disk: both checkpoints hold their own step."""
    saver = AsyncCheckpointer()
    w = torch.ones(1 << 20)  # 4 MiB: the huge-page buffer path
    state = {"optimizer": {"state": {0: {"exp_avg": torch.full((8,), 1.0)}}}, "rng": (torch.zeros(2, dtype=torch.uint8),)}
    saver.save(tmp_path, 1, {"w": w}, state, "abc", 3)
    first = saver._buffers[0]["w"].data_ptr()
    w.fill_(2.0)
    state["optimizer"]["state"][0]["exp_avg"].fill_(2.0)
    saver.save(tmp_path, 2, {"w": w}, state, "abc", 3)
    saver.wait()
    assert saver._buffers[0]["w"].data_ptr() == first
    for step in (1, 2):
        weights, saved = ck.load_checkpoint(ck.verify(ck.step_dir(tmp_path, step)))
        assert torch.equal(weights["w"], torch.full((1 << 20,), float(step)))
        assert torch.equal(saved["optimizer"]["state"][0]["exp_avg"], torch.full((8,), float(step)))
        assert isinstance(saved["rng"], tuple)
