"""The one training loop and what it needs: checkpoints, distributed setup, metrics, weights I/O."""

from astrobio.trainer.loop import Preempted, StopFlag, TrainingRun, TrainResult, train

__all__ = ["Preempted", "StopFlag", "TrainingRun", "TrainResult", "train"]
