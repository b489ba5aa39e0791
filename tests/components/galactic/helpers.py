"""Small galactic configs over the fusion tests' planets (same settings, so the same cached file)."""

from __future__ import annotations

from typing import Any

from astrobio.components.galactic.config import GalacticConfig
from tests.components.fusion.helpers import SMALL_DATA, TINY_MODEL, merge


def make_cfg(**over: Any) -> GalacticConfig:
    base = {"data": SMALL_DATA, "model": TINY_MODEL, "optim": {"lr": 0.003}, "eval": {"baseline_steps": 3},
            "federated": {"observatories": 3, "batch_size": 8, "local_steps": 3, "iid_fraction": 0.0},
            "trainer": {"max_steps": 12, "eval_every": 6, "log_every": 6, "clip_grad_norm": None,
                        "checkpoint": {"every": 6, "keep_last": 2}}}
    return GalacticConfig.model_validate(merge(base, over))
