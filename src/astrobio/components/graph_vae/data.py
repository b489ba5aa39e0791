"""The graph_vae training data: one full-graph batch per epoch, sharded by rank over positive edges.

Everything is rebuilt from the SBML files on each start (a few seconds for iJO1366), so there is
no cache to go stale. Batches are a pure function of (split_seed, epoch, rank): the trainer can
resume mid-run by replaying an epoch, and every rank sees the same message-passing graph (so DDP
ranks run identical encoders) while scoring a disjoint shard of the training positives.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterator

import torch

from astrobio.components.graph_vae.config import GraphVAEConfig
from astrobio.components.graph_vae.features import build_features
from astrobio.components.graph_vae.graph import MetabolicGraph, build_graph, to_message_passing
from astrobio.components.graph_vae.negatives import Forbidden, UniformPairs, train_negatives
from astrobio.components.graph_vae.sbml import LoadedModel, read_sources
from astrobio.components.graph_vae.split import EdgeSplit, PairSpace, split_edges

SPLITS = ("val", "test")


@dataclass(frozen=True)
class GraphBatch:
    """What `GraphVAE.forward` needs: features, training message-passing edges, edges to score."""

    x: torch.Tensor           # float [num_nodes, feature_dim]
    edge_index: torch.Tensor  # long [2, 2 * train edges], both directions, training edges only
    pos_edge: torch.Tensor    # long [2, P], this rank's shard of training positives
    neg_edge: torch.Tensor    # long [2, N], negatives drawn for this (epoch, batch, rank)

    @property
    def num_nodes(self) -> int:
        return int(self.x.shape[0])

    def to(self, device: torch.device | str) -> GraphBatch:
        """The same batch on `device` (the trainer moves batches; `step` never does)."""
        return replace(self, x=self.x.to(device), edge_index=self.edge_index.to(device),
                       pos_edge=self.pos_edge.to(device), neg_edge=self.neg_edge.to(device))


def batch_seed(split_seed: int, epoch: int, batch_index: int, rank: int) -> int:
    """A 63-bit seed that differs for every (split_seed, epoch, batch, rank), stable across runs."""
    digest = hashlib.sha256(f"graph_vae:{split_seed}:{epoch}:{batch_index}:{rank}".encode()).digest()
    return int.from_bytes(digest[:8], "little") & (2**63 - 1)


@dataclass
class GraphVAEData:
    """Implements the trainer's `TrainData` protocol, plus what `evaluate` needs."""

    cfg: GraphVAEConfig
    graph: MetabolicGraph
    split: EdgeSplit
    x: torch.Tensor
    space: PairSpace
    rank: int
    world_size: int
    files: list[str]
    memo: dict[str, Any] = field(default_factory=dict)  # baseline scores, computed once per split

    @property
    def num_nodes(self) -> int:
        return self.graph.num_nodes

    @property
    def feature_dim(self) -> int:
        return int(self.x.shape[1])

    @property
    def mp_edge_index(self) -> torch.Tensor:
        """Message-passing edges: training edges only, both directions."""
        if "mp_edge_index" not in self.memo:
            self.memo["mp_edge_index"] = to_message_passing(self.split.train_pos)
        return self.memo["mp_edge_index"]

    @property
    def shard(self) -> torch.Tensor:
        """This rank's training positives: every world_size-th edge, so shards are disjoint."""
        return self.split.train_pos[:, self.rank::self.world_size]

    def _train_forbidden(self) -> Forbidden:
        if "train_forbidden" not in self.memo:
            self.memo["train_forbidden"] = Forbidden.of(self.split.train_pos, self.num_nodes)
        return self.memo["train_forbidden"]

    def _train_pairs(self) -> UniformPairs:
        """The per-step candidate sampler, built once per data build."""
        if "train_pairs" not in self.memo:
            self.memo["train_pairs"] = UniformPairs.of(self.space)
        return self.memo["train_pairs"]

    def batches(self, epoch: int) -> Iterator[GraphBatch]:
        """One full-graph batch; negatives exclude training edges only (held-out edges stay
        unknown to training, as they would be in the real question)."""
        pos = self.shard
        count = max(1, round(pos.shape[1] * self.cfg.data.neg_ratio))
        gen = torch.Generator().manual_seed(batch_seed(self.cfg.data.split_seed, epoch, 0, self.rank))
        neg = train_negatives(self._train_pairs(), count, self._train_forbidden(), gen)
        yield GraphBatch(x=self.x, edge_index=self.mp_edge_index, pos_edge=pos, neg_edge=neg)

    def eval_pairs(self, split: str) -> tuple[torch.Tensor, torch.Tensor]:
        """Held-out (positives, negatives) of `split` ('val' or 'test')."""
        if split not in SPLITS:
            raise ValueError(f"unknown split '{split}'; expected one of {SPLITS}")
        return getattr(self.split, f"{split}_pos"), getattr(self.split, f"{split}_neg")

    def describe(self) -> dict[str, Any]:
        """Provenance for the model card."""
        d = self.cfg.data
        return {
            "sources": list(d.sources),
            "files": list(self.files),
            "graph": d.graph,
            "currency_dropped": sorted(d.currency) if d.drop_currency else [],
            "num_nodes": self.num_nodes,
            "num_metabolite_nodes": int((~self.graph.is_reaction).sum()),
            "num_reaction_nodes": int(self.graph.is_reaction.sum()),
            "num_edges": self.graph.num_edges,
            "split": self.split.sizes(),
            "split_seed": d.split_seed,
            "features": d.features,
            "feature_dim": self.feature_dim,
            "neg_ratio": d.neg_ratio,
            "rank": self.rank,
            "world_size": self.world_size,
            "shard_pos": int(self.shard.shape[1]),
        }


def data_from_models(cfg: GraphVAEConfig, models: list[LoadedModel], rank: int = 0, world_size: int = 1) -> GraphVAEData:
    """Build graph, split and features from already-loaded cobra models (tests reuse loads)."""
    if not 0 <= rank < world_size:
        raise ValueError(f"rank {rank} outside world of size {world_size}")
    d = cfg.data
    graph = build_graph(models, d.graph, set(d.currency) if d.drop_currency else None)
    space = PairSpace.of(graph)
    split = split_edges(graph, space, d.val_frac, d.test_frac, d.split_seed)
    x = build_features(d.features, graph, split.train_pos)
    return GraphVAEData(cfg=cfg, graph=graph, split=split, x=x, space=space, rank=rank,
                        world_size=world_size, files=[str(m.path) for m in models])


def build_data(cfg: GraphVAEConfig, rank: int = 0, world_size: int = 1, cache_dir: Path | str | None = None) -> GraphVAEData:
    """The spec's `build_data`: load the configured SBML sources and build this rank's data.
    `cache_dir` is unused: rebuilding is cheaper than trusting a stale cache."""
    del cache_dir
    return data_from_models(cfg, read_sources(list(cfg.data.sources)), rank, world_size)
