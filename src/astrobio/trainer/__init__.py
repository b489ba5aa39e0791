"""The one training loop and what it needs: checkpoints, distributed setup, metrics, weights I/O.

The loop's names are resolved lazily (PEP 562): importing a torch-free submodule such as
``astrobio.trainer.atomic`` or ``astrobio.trainer.metrics`` must not pay for ``import torch``
(~2 s), which a pipeline step, a tuning parent or ``astrobio --help`` would otherwise pay.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from astrobio.trainer.loop import Preempted, StopFlag, TrainingRun, TrainResult, train

__all__ = ["Preempted", "StopFlag", "TrainingRun", "TrainResult", "train"]


def __getattr__(name: str) -> Any:
    """Import the loop on first use of one of its names, not when the package is imported."""
    if name in __all__:
        return getattr(importlib.import_module("astrobio.trainer.loop"), name)
    raise AttributeError(f"module 'astrobio.trainer' has no attribute {name!r}")
