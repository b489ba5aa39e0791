"""The trainer's own resumable state: where it is in training and in the data."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

from astrobio.spec import TrainData


@dataclass
class TrainState:
    step: int = 0
    epoch: int = 0
    batch_index: int = 0          # batches of `epoch` already consumed
    best_value: float | None = None
    best_step: int | None = None
    bad_evals: int = 0
    stopped_early: bool = False
    skipped_steps: int = 0
    nonfinite_in_a_row: int = 0   # non-finite steps since the last good one (nan_max_consecutive)
    lr_scale: float = 1.0         # cumulative nan_policy=reduce_lr factor, kept across resume

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainState:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


def batch_stream(data: TrainData, epoch: int, skip: int) -> Iterator[tuple[int, int, Any]]:
    """Endless (epoch, position-after, batch) from `epoch`, skipping `skip` consumed batches.

    Because `data.batches(epoch)` is deterministic, replaying and skipping lands on exactly the
    batch an uninterrupted run would have seen next.
    """
    while True:
        produced = 0
        for index, batch in enumerate(data.batches(epoch)):
            produced += 1
            if index < skip:
                continue
            yield epoch, index + 1, batch
        if produced == 0:
            raise RuntimeError(f"data produced no batch for epoch {epoch}")
        epoch, skip = epoch + 1, 0


def is_improvement(value: float, best: float | None, mode: str, min_delta: float) -> bool:
    """Early-stopping comparison; a non-finite value is never an improvement."""
    if value != value or value in (float("inf"), float("-inf")):
        return False
    if best is None:
        return True
    return value > best + min_delta if mode == "max" else value < best - min_delta
