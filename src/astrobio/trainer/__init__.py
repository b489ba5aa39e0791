"""The one training loop and what it needs: checkpoints, distributed setup, metrics, weights I/O."""

from astrobio.trainer.loop import Preempted, StopFlag, TrainJob, TrainResult, train

__all__ = ["Preempted", "StopFlag", "TrainJob", "TrainResult", "train"]
