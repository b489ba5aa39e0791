"""The contract a component's `SPEC` fulfils: ComponentSpec and the TrainData it builds.

A component is a folder `components/<name>/` whose `task.py` exposes `SPEC`; its row in
`astrobio.catalog` names that module, and `astrobio.catalog.get_spec` loads it. The trainer knows
nothing else about a component than this contract, so every model trains through the same loop.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import torch
from pydantic import BaseModel


class TrainData(Protocol):
    """What `build_data` returns. Batches are a pure function of (epoch, rank), so the trainer can
    resume at an exact position by replaying `batches(epoch)` and skipping what was consumed."""

    def batches(self, epoch: int) -> Iterable[Any]:
        """Training batches of one epoch for this rank, deterministic given the epoch."""
        ...

    def describe(self) -> dict[str, Any]:
        """Provenance for the model card: source files, sizes, split sizes, generator settings."""
        ...


@dataclass(frozen=True)
class ComponentSpec:
    """Everything the trainer needs from a component.

    - `build_data(cfg, rank, world_size, cache_dir)` loads or generates data (shards by rank).
    - `build_model(cfg, data)` returns an `nn.Module` whose `forward(batch)` computes what `step`
      needs, so a DDP wrapper sees every parameter used in one forward call.
    - `step(model, batch) -> (loss, metrics)` is pure: no optimizer, no logging, no device moves.
      `model` may be DDP-wrapped; call only `model(batch)`.
    - `evaluate(model, data, split) -> metrics` with names `<split>_<metric>` and, for each simple
      baseline, `baseline_<name>_<split>_<metric>` computed on the same held-out data.
    - `on_step_end(model, step)`, optional: the one hook, run after each optimizer step, for
      updates that are not gradient steps (a federated averaging round, an augmented-Lagrangian
      dual update). It must be a deterministic function of (model, step) so resume stays exact.
    """

    name: str
    phase: str  # these three must equal the component's catalog row (get_spec checks)
    config_cls: type[BaseModel]
    build_data: Callable[[Any, int, int, Any], TrainData]
    build_model: Callable[[Any, TrainData], torch.nn.Module]
    step: Callable[[torch.nn.Module, Any], tuple[torch.Tensor, dict[str, float]]]
    evaluate: Callable[[torch.nn.Module, TrainData, str], dict[str, float]]
    image: str
    description: str
    supports_ddp: bool = True
    upstream: tuple[str, ...] = ()  # components whose artifacts this one reads (its config's `inputs`)
    # Optional: write extra files a downstream phase reads (e.g. fusion's planet embeddings) into
    # the artifact folder; called once with the final (best) model, before publishing.
    export_artifact: Callable[[torch.nn.Module, TrainData, Path], None] | None = None
    on_step_end: Callable[[torch.nn.Module, int], None] | None = None
    # Optional, for the run report (both in `components/<name>/figure.py`): `figure_data` saves the
    # few arrays the component's figure needs (`figure_data.npz`, kept small) into the artifact
    # folder with the final model; `figure(artifact_dir)` draws them as a matplotlib Figure, or
    # returns None when the artifact holds none. `figure` must not need torch or the weights.
    figure_data: Callable[[torch.nn.Module, TrainData, Path], None] | None = None
    figure: Callable[[Path], Any] | None = None
