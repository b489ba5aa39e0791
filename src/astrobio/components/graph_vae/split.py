"""Held-out link split and negative sampling, both pure functions of a seed.

Negatives are node pairs that are not edges, drawn uniformly from the pairs a real edge could
occupy: within one source model (a disjoint union has no cross-organism edges, so cross-source
pairs would be free points for every method), and metabolite-reaction only in a bipartite graph.
Training draws its own negatives from the same distribution on every step (`negatives.py`).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from astrobio.components.graph_vae.graph import MetabolicGraph
from astrobio.errors import UsageError


@dataclass(frozen=True)
class PairSpace:
    """Where a candidate pair (u, v) may come from: u from `u_nodes` (weighted so that every valid
    pair is equally likely), v from the partner pool of u's group."""

    num_nodes: int
    u_nodes: torch.Tensor     # long [U]
    u_group: torch.Tensor     # long [U], group of each u
    u_weight: torch.Tensor    # float [U], size of its partner pool
    pool: torch.Tensor        # long [P], partner nodes sorted by group
    pool_start: torch.Tensor  # long [G]
    pool_size: torch.Tensor   # long [G]

    @staticmethod
    def of(graph: MetabolicGraph) -> PairSpace:
        """Metabolite graph: any node with any other of its source. Bipartite: metabolite with a
        reaction of its source."""
        groups = graph.source_index
        if graph.kind == "bipartite":
            u_mask, v_mask = ~graph.is_reaction, graph.is_reaction
        else:
            u_mask = v_mask = torch.ones(graph.num_nodes, dtype=torch.bool)
        num_groups = int(groups.max()) + 1
        pool_nodes = v_mask.nonzero().view(-1)
        order = torch.argsort(groups[pool_nodes], stable=True)
        pool = pool_nodes[order]
        pool_size = torch.bincount(groups[pool], minlength=num_groups)
        pool_start = torch.cumsum(pool_size, 0) - pool_size
        u_nodes = u_mask.nonzero().view(-1)
        u_group = groups[u_nodes]
        return PairSpace(graph.num_nodes, u_nodes, u_group, pool_size[u_group].float(), pool, pool_start, pool_size)

    def draw(self, count: int, gen: torch.Generator) -> torch.Tensor:
        """`count` candidate pairs [2, count], canonical u < v (may include self pairs and edges)."""
        pick = torch.multinomial(self.u_weight, count, replacement=True, generator=gen)
        u, g = self.u_nodes[pick], self.u_group[pick]
        offset = (torch.rand(count, generator=gen) * self.pool_size[g]).long().clamp_max(self.pool_size[g] - 1)
        v = self.pool[self.pool_start[g] + offset]
        return torch.stack([torch.minimum(u, v), torch.maximum(u, v)])


def pair_keys(pairs: torch.Tensor, num_nodes: int) -> torch.Tensor:
    """One integer per canonical pair, for set membership tests."""
    return pairs[0] * num_nodes + pairs[1]


def sorted_contains(sorted_keys: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
    """`torch.isin(keys, sorted_keys)` by binary search: `sorted_keys` is sorted once per split,
    while isin re-sorts both arrays on every call (45% of graph_vae's per-step data time)."""
    if sorted_keys.numel() == 0:
        return torch.zeros_like(keys, dtype=torch.bool)
    at = torch.searchsorted(sorted_keys, keys).clamp_max(sorted_keys.numel() - 1)
    return sorted_keys[at] == keys


def rejected(pairs: torch.Tensor, forbidden: torch.Tensor, num_nodes: int) -> torch.Tensor:
    """Which candidate pairs are no negatives: self pairs, or edges (`forbidden`: sorted keys)."""
    return (pairs[0] == pairs[1]) | sorted_contains(forbidden, pair_keys(pairs, num_nodes))


def sample_negatives(space: PairSpace, count: int, forbidden: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """`count` distinct non-edge pairs [2, count] for the held-out sets; `forbidden` = sorted keys
    of pairs that are edges. (Training negatives, drawn every step: `negatives.train_negatives`.)"""
    found: list[torch.Tensor] = []
    have = 0
    seen = torch.empty(0, dtype=torch.long)
    for _ in range(100):
        cand = space.draw(max(2 * (count - have), 64), gen)
        keys = pair_keys(cand, space.num_nodes)
        ok = ~rejected(cand, forbidden, space.num_nodes)
        keys, first = _first_occurrence(keys[ok])
        cand = cand[:, ok][:, first]
        fresh = ~torch.isin(keys, seen)
        cand, keys = cand[:, fresh], keys[fresh]
        seen = torch.cat([seen, keys])
        found.append(cand)
        have += cand.shape[1]
        if have >= count:
            return torch.cat(found, dim=1)[:, :count]
    raise UsageError(f"graph with {space.num_nodes} nodes is too dense to draw {count} non-edges; "
                     "expected a sparse metabolic network (try fewer held-out edges or a bigger model)")


def _first_occurrence(keys: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Distinct keys in order of first appearance, and the positions of those first appearances."""
    uniq, inverse = torch.unique(keys, return_inverse=True)
    first = torch.full((uniq.numel(),), keys.numel(), dtype=torch.long)
    first.scatter_reduce_(0, inverse, torch.arange(keys.numel()), reduce="amin")
    first = torch.sort(first).values
    return keys[first], first


@dataclass(frozen=True)
class EdgeSplit:
    """Positive edges per split (u < v) and held-out negatives, each [2, k]."""

    train_pos: torch.Tensor
    val_pos: torch.Tensor
    test_pos: torch.Tensor
    val_neg: torch.Tensor
    test_neg: torch.Tensor

    def sizes(self) -> dict[str, int]:
        return {name: int(getattr(self, name).shape[1])
                for name in ("train_pos", "val_pos", "test_pos", "val_neg", "test_neg")}


def split_edges(graph: MetabolicGraph, space: PairSpace, val_frac: float, test_frac: float, seed: int) -> EdgeSplit:
    """Hold out val/test positives and draw as many negatives for each, once, from `seed`."""
    edges = graph.edges
    num_edges = edges.shape[1]
    n_val = max(1, round(num_edges * val_frac))
    n_test = max(1, round(num_edges * test_frac))
    if n_val + n_test >= num_edges:
        raise UsageError(f"graph has only {num_edges} edges; expected enough to hold out "
                         f"{n_val} validation and {n_test} test edges and still train")
    gen = torch.Generator().manual_seed(seed)
    perm = torch.randperm(num_edges, generator=gen)
    test_pos = edges[:, perm[:n_test]]
    val_pos = edges[:, perm[n_test:n_test + n_val]]
    train_pos = edges[:, perm[n_test + n_val:]]
    forbidden = torch.sort(pair_keys(edges, graph.num_nodes)).values
    neg = sample_negatives(space, n_val + n_test, forbidden, gen)
    return EdgeSplit(train_pos=train_pos, val_pos=val_pos, test_pos=test_pos,
                     val_neg=neg[:, :n_val], test_neg=neg[:, n_val:])
