"""A tiny regression component for testing the trainer in isolation from any real model.

y = X w* + noise; the baseline predicts the training mean. Batches are a pure function of
(epoch, rank), as the TrainData contract requires, and dropout exercises the global RNG so that
exact resume really depends on restoring RNG state.
"""

from __future__ import annotations

from typing import Any

import torch
from pydantic import Field

from astrobio.sections import ComponentConfig
from astrobio.spec import ComponentSpec


class ToyConfig(ComponentConfig):
    n: int = Field(256, ge=8)
    dim: int = Field(8, ge=1)
    batch_size: int = Field(32, ge=1)
    dropout: float = 0.1
    nan_at_step: int | None = None  # inject a NaN loss (fault tests)
    nan_steps: list[int] = []       # ... at each of these forward calls (consecutive NaNs)
    inf_at_step: int | None = None  # inject an inf loss


class ToyData:
    def __init__(self, cfg: ToyConfig, rank: int, world: int) -> None:
        g = torch.Generator().manual_seed(1234)
        x = torch.randn(cfg.n, cfg.dim, generator=g)
        w = torch.randn(cfg.dim, 1, generator=g)
        y = x @ w + 0.05 * torch.randn(cfg.n, 1, generator=g)
        cut = int(cfg.n * 0.6), int(cfg.n * 0.8)
        self.train = (x[: cut[0]], y[: cut[0]])
        self.val = (x[cut[0]: cut[1]], y[cut[0]: cut[1]])
        self.test = (x[cut[1]:], y[cut[1]:])
        self.cfg, self.rank, self.world = cfg, rank, world
        self.calls = 0

    def batches(self, epoch: int):
        g = torch.Generator().manual_seed(10_000 * epoch + 7)
        order = torch.randperm(len(self.train[0]), generator=g)[self.rank:: self.world]
        for i in range(0, len(order), self.cfg.batch_size):
            idx = order[i: i + self.cfg.batch_size]
            self.calls += 1
            yield {"x": self.train[0][idx], "y": self.train[1][idx], "n": self.calls}

    def describe(self) -> dict[str, Any]:
        return {"source": "synthetic", "n": self.cfg.n}


class ToyModel(torch.nn.Module):
    def __init__(self, cfg: ToyConfig) -> None:
        super().__init__()
        self.net = torch.nn.Sequential(torch.nn.Linear(cfg.dim, 16), torch.nn.Dropout(cfg.dropout), torch.nn.Linear(16, 1))
        self.nan_at_step = cfg.nan_at_step
        self.nan_steps = set(cfg.nan_steps) | ({cfg.nan_at_step} if cfg.nan_at_step is not None else set())
        self.inf_at_step = cfg.inf_at_step
        self.register_buffer("calls", torch.zeros((), dtype=torch.long))

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        self.calls += 1
        pred = self.net(batch["x"])
        loss = torch.nn.functional.mse_loss(pred, batch["y"])
        if int(self.calls) in self.nan_steps:
            loss = loss * float("nan")
        if self.inf_at_step is not None and int(self.calls) == self.inf_at_step:
            loss = loss * float("inf")
        return loss


def step(model: torch.nn.Module, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, float]]:
    loss = model(batch)
    return loss, {"mse": float(loss.detach())}


def evaluate(model: torch.nn.Module, data: ToyData, split: str) -> dict[str, float]:
    x, y = getattr(data, split)
    net = getattr(model, "module", model)
    was = net.training
    net.eval()
    with torch.no_grad():
        mse = float(torch.nn.functional.mse_loss(net.net(x), y))
    net.train(was)
    base = float(((y - data.train[1].mean()) ** 2).mean())
    return {f"{split}_mse": mse, f"baseline_mean_{split}_mse": base}


SPEC = ComponentSpec(
    name="toy", phase="pretrain", config_cls=ToyConfig,
    build_data=lambda cfg, rank, world, cache: ToyData(cfg, rank, world),
    build_model=lambda cfg, data: ToyModel(cfg),
    step=step, evaluate=evaluate, image="astrobio/toy", description="toy regression for trainer tests",
)
