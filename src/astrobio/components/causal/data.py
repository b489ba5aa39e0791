"""The causal component's TrainData: split, standardised observations, prior masks, counterfactual
queries with known answers, and deterministic batches.

Standardising matters for NOTEARS: on raw scales the least-squares score can read the causal order
off the variances ("varsortability"), which says nothing about the method. Statistics come from the
training rows only, so held-out rows are transformed exactly as new data would be.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from astrobio.components.causal.config import CausalConfig, CausalPriorConfig
from astrobio.components.causal.scm import DEFAULT_CF_TARGETS
from astrobio.components.causal.sources import RawSource, load_source
from astrobio.errors import UsageError

SPLITS: tuple[str, ...] = ("train", "val", "test")


@dataclass(frozen=True)
class CounterfactualSet:
    """For each target k: factual rows, do(x_k = value) in standardised units, and the true outcome."""

    factual: torch.Tensor                          # (m, d) standardised
    queries: list[tuple[int, torch.Tensor, torch.Tensor]]  # (target, value (m,), true counterfactual (m, d))


def prior_masks(prior: CausalPriorConfig, names: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(allowed, required) boolean matrices from named priors; unknown names are usage errors."""
    index = {n: i for i, n in enumerate(names)}
    d = len(names)

    def lookup(name: str, fld: str) -> int:
        if name not in index:
            raise UsageError(f"components.causal.priors.{fld}: unknown variable '{name}' (variables: {', '.join(names)})")
        return index[name]

    allowed = ~np.eye(d, dtype=bool)
    required = np.zeros((d, d), dtype=bool)
    for k, (a, b) in enumerate(prior.forbidden_edges):
        allowed[lookup(a, f"forbidden_edges[{k}]"), lookup(b, f"forbidden_edges[{k}]")] = False
    for k, name in enumerate(prior.exogenous):
        allowed[:, lookup(name, f"exogenous[{k}]")] = False
    tier_of: dict[int, int] = {}
    for t, tier in enumerate(prior.tiers):
        for k, name in enumerate(tier):
            i = lookup(name, f"tiers[{t}][{k}]")
            if i in tier_of:
                raise UsageError(f"components.causal.priors.tiers[{t}][{k}]: '{name}' is already in tier {tier_of[i]}")
            tier_of[i] = t
    for i, ti in tier_of.items():
        for j, tj in tier_of.items():
            if ti > tj:
                allowed[i, j] = False
    for k, (a, b) in enumerate(prior.required_edges):
        i, j = lookup(a, f"required_edges[{k}]"), lookup(b, f"required_edges[{k}]")
        if i == j or not allowed[i, j]:
            raise UsageError(f"components.causal.priors.required_edges[{k}]: {a}->{b} is also forbidden "
                             f"(self-loop, forbidden_edges, exogenous or tiers)")
        required[i, j] = True
    if (required & required.T).any():
        raise UsageError("components.causal.priors.required_edges: an edge is required in both directions")
    allowed &= ~required.T  # a required a->b rules out b->a
    return allowed, required


class CausalData:
    """Everything build_model, step and evaluate need; built once per run, identical on every rank."""

    def __init__(self, cfg: CausalConfig, raw: RawSource) -> None:
        self.cfg = cfg
        dcfg = cfg.data
        self.names, self.true_adj, self.scm, self.provenance = raw.names, raw.true_adj, raw.scm, raw.provenance
        values = raw.values
        if dcfg.transform == "log":
            bad = np.flatnonzero((values <= 0).any(axis=0))
            if bad.size:
                raise UsageError(f"components.causal.data.transform: 'log' needs positive values; column "
                                 f"'{self.names[bad[0]]}' has values <= 0")
            values = np.log(values)
        n = len(values)
        order = np.random.default_rng(dcfg.split_seed).permutation(n)
        n_val, n_test = max(1, round(n * dcfg.val_frac)), max(1, round(n * dcfg.test_frac))
        if n - n_val - n_test < 10:
            raise UsageError(f"components.causal.data: {n} rows leave {n - n_val - n_test} for training; need at least 10")
        rows = {"val": order[:n_val], "test": order[n_val: n_val + n_test], "train": order[n_val + n_test:]}
        train = values[rows["train"]]
        self.mean, self.std = train.mean(axis=0), train.std(axis=0)
        constant = np.flatnonzero(self.std < 1e-12)
        if constant.size:
            raise UsageError(f"components.causal.data.source: column '{self.names[constant[0]]}' is constant in the training rows")
        if not dcfg.standardize:  # still centred: the linear SEM has no intercept
            self.std = np.ones_like(self.std)
        self.raw = {s: values[r] for s, r in rows.items()}
        self.x = {s: torch.tensor((v - self.mean) / self.std, dtype=torch.float32) for s, v in self.raw.items()}
        self.allowed, self.required = prior_masks(cfg.priors, self.names)
        self.batch_size, self.split_seed = dcfg.batch_size, dcfg.split_seed
        self.cf = {s: self._counterfactuals(cfg, s) for s in ("val", "test")} if self.scm is not None else {}
        self.memo: dict[str, Any] = {}  # evaluation results that never change during training (PC baseline)

    @property
    def d(self) -> int:
        return len(self.names)

    def _counterfactuals(self, cfg: CausalConfig, split: str) -> CounterfactualSet:
        """Queries on the first rows of a held-out split, answered by the true SCM (raw units)."""
        assert self.scm is not None
        if cfg.data.transform != "none":
            raise UsageError("components.causal.data.transform: the planetary SCM's counterfactuals need transform 'none'")
        names = cfg.eval.cf_targets if cfg.eval.cf_targets is not None else list(DEFAULT_CF_TARGETS)
        raw = self.raw[split][: cfg.eval.cf_max_samples]
        factual = (raw - self.mean) / self.std
        queries = []
        for k, name in enumerate(names):
            if name not in self.names:
                raise UsageError(f"components.causal.eval.cf_targets[{k}]: unknown variable '{name}' "
                                 f"(variables: {', '.join(self.names)})")
            t = self.names.index(name)
            value_raw = raw[:, t] + cfg.eval.cf_delta * self.std[t]
            truth = (self.scm.counterfactual(raw, t, value_raw) - self.mean) / self.std
            queries.append((t, torch.tensor(factual[:, t] + cfg.eval.cf_delta, dtype=torch.float32),
                            torch.tensor(truth, dtype=torch.float32)))
        return CounterfactualSet(torch.tensor(factual, dtype=torch.float32), queries)

    def batches(self, epoch: int) -> Iterator[dict[str, torch.Tensor]]:
        """Full batch (one step per epoch), or a fixed-size minibatch permutation seeded by the epoch."""
        x = self.x["train"]
        if self.batch_size is None or self.batch_size >= len(x):
            yield {"x": x}
            return
        g = torch.Generator().manual_seed(self.split_seed * 1_000_003 + epoch)
        order = torch.randperm(len(x), generator=g)
        for start in range(0, len(x) - self.batch_size + 1, self.batch_size):  # drop the ragged tail
            yield {"x": x[order[start: start + self.batch_size]]}

    def describe(self) -> dict[str, Any]:
        return {**self.provenance, "variables": self.names, "rows": {s: len(v) for s, v in self.x.items()},
                "true_edges": None if self.true_adj is None else int(self.true_adj.sum()),
                "standardized_with": "training-split mean/std", "batch_size": self.batch_size or "full",
                "allowed_edges": int(self.allowed.sum()), "required_edges": int(self.required.sum()),
                "counterfactual_queries": {s: len(c.queries) for s, c in self.cf.items()}}


def build_data(cfg: CausalConfig, rank: int, world_size: int, cache_dir: Any) -> CausalData:
    """Single-process component (supports_ddp=False): rank and world size are not used."""
    return CausalData(cfg, load_source(cfg.data))
