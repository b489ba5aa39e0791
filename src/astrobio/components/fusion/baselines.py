"""Baselines of the fusion model, computed once per data object and memoised.

- majority: the most common class of the training planets, predicted for every planet;
- single modality: for each modality, a FusionNet with that one branch (same extractor, projector,
  fusion MLP, head and hyper-parameters), trained "the same way" as the fusion model by the trainer's
  `fit_baseline` (astrobio.trainer.fit): its AdamW and learning-rate schedule from `optim`, its
  optimizer update and gradient clipping, the same training batches in the same order, for
  `eval.baseline_steps` (default: trainer.max_steps) steps, without AMP or gradient accumulation.
  `baseline_best_single_*` is the modality with the best validation accuracy, reported on each
  split (chosen on val, so the test figure is not cherry-picked).

`fit_baseline` runs inside `torch.random.fork_rng` with its own seed, so it leaves the global RNG
(which the trainer checkpoints) untouched: a resumed run retrains identical baselines and still
resumes bit for bit.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from astrobio.trainer.fit import fit_baseline
from astrobio.trainer.update import move_to

BASELINE_SEED = 20_240_601


@torch.no_grad()
def predict(model: nn.Module, batch: dict[str, torch.Tensor], device: torch.device, chunk: int = 1024) -> torch.Tensor:
    """Logits for a whole split, in chunks (a split of climate cubes can be large), in eval mode."""
    was = model.training
    model.eval()
    try:
        n = len(batch["label"])
        out = [model(move_to({k: v[i:i + chunk] for k, v in batch.items()}, device)).float().cpu() for i in range(0, n, chunk)]
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
            net = fit_baseline(lambda m=m: build_fusion_net(data, cfg.model, (m,)), data, steps, cfg, device,
                               BASELINE_SEED + i, cross_entropy)
            result[m] = {s: accuracy(predict(net, data.split(s), device), data.split(s)["label"]) for s in ("train", "val", "test")}
        data.memo["single"] = result
    return data.memo["single"]


def best_single(result: dict[str, dict[str, float]]) -> str:
    """The modality with the best validation accuracy (ties: the first in modality order)."""
    return max(result, key=lambda m: result[m]["val"])
