"""The two reference points of federated training, computed once per data object and memoised.

- local-only: the same K client models from the same initial weights, trained for the same number
  of steps on the same client batches, but never averaged (each observatory on its own; no proximal
  term, there is no global model). Each is scored on the pooled held-out planets of every
  observatory, and the figure is the mean over observatories: what a typical observatory gets alone.
- centralised: one model from the same initial weights, trained for the same number of steps on the
  concatenation of every client's batch of that step (pooled data, the same planets per step).
Both are fitted by the trainer's `fit_baseline` (astrobio.trainer.fit): its AdamW, schedule,
optimizer update and clipping, with their own seed, inside `fork_rng`, so the trainer's RNG stream
(and exact resume) is untouched.
"""

from __future__ import annotations

from typing import Any

import torch

from astrobio.components.fusion.baselines import accuracy, cross_entropy, predict
from astrobio.components.fusion.model import FusionNet, build_fusion_net
from astrobio.components.galactic.data import GalacticData, PooledView
from astrobio.components.galactic.model import FederatedFusion
from astrobio.trainer.fit import fit_baseline

SEED = 31_337
SPLITS = ("train", "val", "test")


def initial_net(data: GalacticData) -> FusionNet:
    """A FusionNet with the federated run's initial weights (recorded by build_model)."""
    net = build_fusion_net(data, data.cfg.model)
    net.load_state_dict(data.memo["init_state"])
    return net


def local_and_central(data: GalacticData, device: torch.device) -> dict[str, dict[str, float]]:
    """{"local": {split: mean accuracy over observatories}, "central": {split: accuracy}}."""
    if "baselines" not in data.memo:
        cfg = data.cfg
        steps = cfg.eval.baseline_steps or cfg.trainer.max_steps
        weights = torch.tensor(data.shard_sizes(), dtype=torch.float32)

        def client_loss(model: Any, batch: Any) -> torch.Tensor:
            return model(batch)["loss"]

        local = fit_baseline(lambda: FederatedFusion(lambda: initial_net(data), len(weights), weights, 0.0, 1),
                             data, steps, cfg, device, SEED, client_loss)
        central = fit_baseline(lambda: initial_net(data), PooledView(data), steps, cfg, device, SEED + 1, cross_entropy)
        out: dict[str, dict[str, float]] = {"local": {}, "central": {}}
        for s in SPLITS:
            held = data.split(s)
            out["local"][s] = sum(accuracy(predict(c, held, device), held["label"]) for c in local.clients) / len(weights)
            out["central"][s] = accuracy(predict(central, held, device), held["label"])
        data.memo["baselines"] = out
    return data.memo["baselines"]
