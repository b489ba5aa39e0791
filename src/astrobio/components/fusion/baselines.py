"""Baselines of the fusion model, computed once per data object and memoised.

- majority: the most common class of the training planets, predicted for every planet;
- single modality: for each modality, a FusionNet with that one branch (same extractor, projector,
  fusion MLP, head and hyper-parameters), trained "the same way" as the fusion model: the trainer's
  AdamW and learning-rate schedule from `optim`, its gradient clipping, the same training batches in
  the same order, for `eval.baseline_steps` (default: trainer.max_steps) steps, without AMP or
  gradient accumulation. `baseline_best_single_*` is the modality with the best validation
  accuracy, reported on each split (chosen on val, so the test figure is not cherry-picked).

The helper runs inside `torch.random.fork_rng` with its own seed, so it leaves the global RNG (which
the trainer checkpoints) untouched: a resumed run retrains identical baselines and still resumes
bit for bit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from astrobio.spec import TrainData
from astrobio.trainer.schedule import build_optimizer, build_scheduler
from astrobio.trainer.state import batch_stream

BASELINE_SEED = 20_240_601


def _to(batch: Any, device: torch.device) -> Any:
    if isinstance(batch, torch.Tensor):
        return batch.to(device)
    if isinstance(batch, dict):
        return {k: _to(v, device) for k, v in batch.items()}
    if isinstance(batch, (list, tuple)):
        return type(batch)(_to(v, device) for v in batch)
    return batch


def fit_same_way(make: Callable[[], nn.Module], data: TrainData, steps: int, cfg: Any, device: torch.device,
                 seed: int, loss_fn: Callable[[nn.Module, Any], torch.Tensor]) -> nn.Module:
    """Build a model with `make` and train it `steps` optimizer steps on `data.batches` with the
    component config's optimiser, schedule and clipping; returns it in eval mode."""
    devices = [device.index or 0] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        model = make().to(device)
        model.train()
        opt = build_optimizer(model, cfg.optim)
        sched = build_scheduler(opt, cfg.optim, steps)
        stream = batch_stream(data, 0, 0)
        for _ in range(steps):
            _, _, batch = next(stream)
            opt.zero_grad(set_to_none=True)
            loss_fn(model, _to(batch, device)).backward()
            if cfg.trainer.clip_grad_norm is not None:
                torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.trainer.clip_grad_norm)
            opt.step()
            sched.step()
    return model.eval()


@torch.no_grad()
def predict(model: nn.Module, batch: dict[str, torch.Tensor], device: torch.device, chunk: int = 1024) -> torch.Tensor:
    """Logits for a whole split, in chunks (a split of climate cubes can be large), in eval mode."""
    was = model.training
    model.eval()
    try:
        n = len(batch["label"])
        out = [model(_to({k: v[i:i + chunk] for k, v in batch.items()}, device)).float().cpu() for i in range(0, n, chunk)]
    finally:
        model.train(was)
    return torch.cat(out)


def accuracy(logits: torch.Tensor, labels: torch.Tensor) -> float:
    return float((logits.argmax(dim=1) == labels).float().mean())


def majority_accuracy(train_labels: torch.Tensor, labels: torch.Tensor) -> float:
    mode = int(torch.bincount(train_labels).argmax())
    return float((labels == mode).float().mean())


def cross_entropy(model: nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    return nn.functional.cross_entropy(model(batch).float(), batch["label"])


def single_modality(data: Any, device: torch.device) -> dict[str, dict[str, float]]:
    """{modality: {split: accuracy}} of the single-modality baselines (memoised on `data`)."""
    if "single" not in data.memo:
        from astrobio.components.fusion.model import build_fusion_net

        cfg = data.cfg
        steps = cfg.eval.baseline_steps or cfg.trainer.max_steps
        result: dict[str, dict[str, float]] = {}
        for i, m in enumerate(data.upstream.specs):
            net = fit_same_way(lambda m=m: build_fusion_net(data, cfg.model, (m,)), data, steps, cfg, device,
                               BASELINE_SEED + i, cross_entropy)
            result[m] = {s: accuracy(predict(net, data.split(s), device), data.split(s)["label"]) for s in ("train", "val", "test")}
        data.memo["single"] = result
    return data.memo["single"]


def best_single(result: dict[str, dict[str, float]]) -> str:
    """The modality with the best validation accuracy (ties: the first in modality order)."""
    return max(result, key=lambda m: result[m]["val"])
