"""nan_policy=stop without a host sync per step (issue #19 item 1): the loop keeps each step's loss
and looks at them every LOOKBACK steps and before every log line, evaluation and write.

What must still hold: a non-finite loss stops the run naming its step, within LOOKBACK steps, and no
checkpoint, best/ or artifact is ever written from the steps after it. And what the deferral buys:
astrobio's trainer code reads no tensor on the host on a step that logs nothing.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import Any

import pytest
import torch

import astrobio.trainer.loop as loop
from astrobio.errors import RuntimeFailure
from astrobio.trainer import StopFlag, TrainingRun, train
from astrobio.trainer.checkpoint import MODEL_FILE, list_checkpoints, load_weights
from astrobio.trainer.distributed import DistEnv
from astrobio.trainer.nonfinite import LOOKBACK, LossWatch
from tests.toy_component import SPEC, ToyConfig, step

NEVER = 10**6
TRAINER_CODE = str(Path(loop.__file__).parent)


def counted_job(out: Path, calls: list[int], max_steps: int = 100, every: int = NEVER, **cfg: Any) -> TrainingRun:
    """The toy component, counting its steps; intervals `every` for log, eval and checkpoint."""
    def counting_step(model: torch.nn.Module, batch: Any) -> tuple[torch.Tensor, dict[str, float]]:
        calls.append(1)
        return step(model, batch)

    trainer = {"max_steps": max_steps, "log_every": NEVER, "eval_every": NEVER, "checkpoint": {"every": every}}
    config = ToyConfig.model_validate({"trainer": trainer, "optim": {"lr": 0.01}, **cfg})
    return TrainingRun(spec=dataclasses.replace(SPEC, step=counting_step), cfg=config, seed=3, output_dir=out,
                       run_id="t", config_hash="h")


def written_weights(out: Path) -> list[Path]:
    files = [p / MODEL_FILE for p in list_checkpoints(out / "checkpoints")]
    return files + [f for f in (out / "best" / MODEL_FILE, out / "artifact" / MODEL_FILE) if f.is_file()]


def test_nan_between_looks_stops_within_the_lookback_and_writes_nothing(tmp_path):
    """No log, eval or checkpoint near step 21: the run stops at the watch's next look, naming step 21."""
    calls: list[int] = []
    with pytest.raises(RuntimeFailure, match="non-finite loss at step 21; stopped without saving"):
        train(counted_job(tmp_path, calls, nan_at_step=21), DistEnv(), StopFlag())
    assert 21 <= len(calls) <= 21 + LOOKBACK - 1
    assert written_weights(tmp_path) == []


def test_checkpoint_after_a_nan_is_never_written(tmp_path):
    """Checkpoints every 10 steps, NaN at 21: the look before step 30's checkpoint stops the run; the
    checkpoints of steps 10 and 20 stay and hold finite weights; step 30's is never written."""
    calls: list[int] = []
    with pytest.raises(RuntimeFailure, match="non-finite loss at step 21"):
        train(counted_job(tmp_path, calls, every=10, nan_at_step=21), DistEnv(), StopFlag())
    assert len(calls) == 30
    assert [p.name for p in list_checkpoints(tmp_path / "checkpoints")] == ["step-00000020", "step-00000010"]
    for file in written_weights(tmp_path):
        assert all(bool(torch.isfinite(t).all()) for t in load_weights(file).values())


def test_an_error_caused_by_the_nan_is_reported_as_the_nan(tmp_path):
    """A step-end hook that fails on NaN weights (a solver fed NaN) before the watch looked: the
    failure names the non-finite loss, as per-step checking did, and keeps the hook's error as cause."""
    def hook(model: torch.nn.Module, at: int) -> None:
        if not all(bool(torch.isfinite(p).all()) for p in model.parameters()):
            raise ValueError("solver got NaN")

    job = counted_job(tmp_path, [], nan_at_step=21)
    job.spec = dataclasses.replace(job.spec, on_step_end=hook)
    with pytest.raises(RuntimeFailure, match="non-finite loss at step 21") as caught:
        train(job, DistEnv(), StopFlag())
    assert isinstance(caught.value.__cause__, ValueError)


def test_watch_names_the_first_bad_step_and_empties():
    watch = LossWatch(lookback=4)
    assert [watch.add(s, torch.tensor(v)) for s, v in zip(range(5, 9), (1.0, float("inf"), float("nan"), 2.0))] == \
        [False, False, False, True]
    assert watch.first_nonfinite() == 6
    assert watch.count == 0 and watch.first_nonfinite() is None
    watch.add(9, torch.tensor(3.0))
    assert watch.first_nonfinite() is None


SYNCS = ("__bool__", "__float__", "__int__", "__index__", "item", "tolist")


def test_no_host_sync_from_the_loop_on_steps_that_log_nothing(tmp_path, monkeypatch):
    """Every tensor read on the host from astrobio's trainer code (not the component's step, not
    torch's optimizer) during each optimizer step: only the watch's looks (every LOOKBACK steps) and
    the last step's log line. The per-step `bool(torch.isfinite(loss))` it replaces synced every step."""
    synced: set[int] = set()
    current = {"step": 0}

    def spy(name: str) -> Any:
        original = getattr(torch.Tensor, name)

        def wrapper(self: torch.Tensor, *args: Any, **kwargs: Any) -> Any:
            if current["step"] and sys._getframe(1).f_code.co_filename.startswith(TRAINER_CODE):
                synced.add(current["step"])
            return original(self, *args, **kwargs)
        return wrapper

    for name in SYNCS:
        monkeypatch.setattr(torch.Tensor, name, spy(name))
    real_step = loop.optimizer_step

    def watched_step(s: Any, stop: StopFlag) -> bool:
        current["step"] = s.state.step + 1
        try:
            return real_step(s, stop)
        finally:
            current["step"] = 0

    monkeypatch.setattr(loop, "optimizer_step", watched_step)
    steps = 2 * LOOKBACK + 8
    train(counted_job(tmp_path, [], max_steps=steps), DistEnv(), StopFlag())
    assert synced == {LOOKBACK, 2 * LOOKBACK, steps}
