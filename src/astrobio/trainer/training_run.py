"""What `train()` is given and what it returns: the training run, the stop request, the result.

(`TrainingRun` is the local description of one component's training; a Kubeflow Trainer v2
`TrainJob` is the cluster object rendered by `astrobio.kube.render.trainjob`.)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from astrobio.sections import ComponentConfig
from astrobio.spec import ComponentSpec
from astrobio.trainer.checkpoint_async import Mirror


@dataclass
class StopFlag:
    """Set by a signal handler; checked once per optimizer step (tests set it directly)."""

    requested: bool = False
    at_step: int | None = None  # tests: request a stop once this step is done
    signum: int = 15            # the signal that asked (SIGTERM unless Ctrl-C): sets the exit code

    def should_stop(self, step: int) -> bool:
        return self.requested or (self.at_step is not None and step >= self.at_step)


@dataclass
class TrainingRun:
    """One component's training in this process: what to train, with what, where to write."""

    spec: ComponentSpec
    cfg: ComponentConfig
    seed: int
    output_dir: Path
    run_id: str
    config_hash: str
    publish: Callable[[Path], str] | None = None   # artifact dir -> URI in the store
    mirror: Mirror | None = None                   # checkpoints copied to (and restored from) the store


@dataclass
class TrainResult:
    step: int
    metrics: dict[str, float]
    artifact_dir: Path
    artifact_uri: str | None
    resumed_from: int | None
    stopped_early: bool
    warnings: list[str] = field(default_factory=list)
