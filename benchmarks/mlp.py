"""The workload of the trainer/DDP/checkpoint benchmarks: a plain MLP classifier on fixed batches.

Sized so one optimizer step costs a few milliseconds on one CPU thread (256 -> 512 -> 512 -> 10,
batch 64: ~0.4 M parameters, ~3 ms/step on the 2-core EPYC this was developed on), which is where a
trainer's per-step bookkeeping shows if it is too heavy. Batches are precomputed tensors, so data
costs nothing and any difference between loops is the loops' own overhead.
"""

from __future__ import annotations

import time
from functools import lru_cache
from typing import Any

import torch
from pydantic import Field

from astrobio.sections import ComponentConfig
from astrobio.spec import ComponentSpec


class MLPConfig(ComponentConfig):
    in_dim: int = Field(256, ge=1)
    hidden: int = Field(512, ge=1)
    classes: int = Field(10, ge=2)
    batch_size: int = Field(64, ge=1)
    n_batches: int = Field(64, ge=1)


@lru_cache(maxsize=8)
def _tensors(in_dim: int, classes: int, batch_size: int, n_batches: int, rank: int) -> tuple[list[dict[str, torch.Tensor]], dict[str, torch.Tensor]]:
    g = torch.Generator().manual_seed(1000 + rank)
    w = torch.randn(in_dim, classes, generator=torch.Generator().manual_seed(7))
    batches = []
    for _ in range(n_batches):
        x = torch.randn(batch_size, in_dim, generator=g)
        batches.append({"x": x, "y": (x @ w).argmax(1)})
    xv = torch.randn(256, in_dim, generator=g)
    return batches, {"x": xv, "y": (xv @ w).argmax(1)}


class MLPData:
    def __init__(self, cfg: MLPConfig, rank: int = 0) -> None:
        self.train_batches, self.val = _tensors(cfg.in_dim, cfg.classes, cfg.batch_size, cfg.n_batches, rank)

    def batches(self, epoch: int):
        return iter(self.train_batches)

    def describe(self) -> dict[str, Any]:
        return {"source": "synthetic", "batches": len(self.train_batches)}


class MLP(torch.nn.Module):
    """`forward(batch) -> loss`; `stamps` records when each forward began (the step clock), and
    `cpu_stamps` the process's CPU time then (every thread: a background checkpoint write counts),
    which a loaded machine disturbs far less than wall time."""

    def __init__(self, cfg: MLPConfig) -> None:
        super().__init__()
        self.net = torch.nn.Sequential(torch.nn.Linear(cfg.in_dim, cfg.hidden), torch.nn.ReLU(),
                                       torch.nn.Linear(cfg.hidden, cfg.hidden), torch.nn.ReLU(),
                                       torch.nn.Linear(cfg.hidden, cfg.classes))
        self.stamps: list[float] = []
        self.cpu_stamps: list[float] = []

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        if self.training:
            self.stamps.append(time.perf_counter())
            self.cpu_stamps.append(time.process_time())
        return torch.nn.functional.cross_entropy(self.net(batch["x"]), batch["y"])


def step(model: torch.nn.Module, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, float]]:
    return model(batch), {}


def evaluate(model: torch.nn.Module, data: MLPData, split: str) -> dict[str, float]:
    net = getattr(model, "module", model)
    was = net.training
    net.eval()
    with torch.no_grad():
        loss = float(net(data.val))
    net.train(was)
    return {f"{split}_loss": loss, f"baseline_uniform_{split}_loss": float(torch.log(torch.tensor(10.0)))}


SPEC = ComponentSpec(
    name="bench_mlp", phase="pretrain", config_cls=MLPConfig,
    build_data=lambda cfg, rank, world, cache: MLPData(cfg, rank),
    build_model=lambda cfg, data: MLP(cfg),
    step=step, evaluate=evaluate, image="astrobio/bench", description="benchmark MLP",
)


def steady_step_seconds(stamps: list[float], skip: int = 5) -> float:
    """Mean time between consecutive forward calls after `skip` warm-up steps: one whole loop
    iteration (step, backward, optimizer, the loop's own bookkeeping, periodic logging/saving)."""
    s = stamps[skip:]
    return (s[-1] - s[0]) / (len(s) - 1)


def steady_step_clocks(model: MLP, skip: int = 5) -> tuple[float, float]:
    """(wall, CPU) seconds per steady step of a trained `model` (see `steady_step_seconds`)."""
    return steady_step_seconds(model.stamps, skip), steady_step_seconds(model.cpu_stamps, skip)
