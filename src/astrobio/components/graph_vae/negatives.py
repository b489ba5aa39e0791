"""Training negatives, drawn on every step: cheap enough to stay on the step (issue 19: < 5% of it).

A step draws as many candidate pairs as it needs, in one `randint`, looks them up in a bitmap of
training edges and self pairs (one gather; torch.searchsorted took half of the remaining time),
and redraws only the few that hit one (about 0.2% on iJO1366): no multinomial, no sort, no mask
over the whole draw. The distribution is the held-out sampler's (`PairSpace.draw`: every valid pair
equally likely), with other numbers; the held-out split keeps `PairSpace.draw`, so val/test
negatives stay those of every recorded result.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from astrobio.components.graph_vae.split import PairSpace, pair_keys, rejected
from astrobio.errors import UsageError

MAX_REDRAWS = 100
BITMAP_BYTES = 64 * 2**20  # one byte per (u, v) key: graphs up to 8192 nodes (iJO1366 + salmonella: 13 MiB)


@dataclass(frozen=True)
class UniformPairs:
    """The valid ordered pairs of a `PairSpace` numbered 0..total-1, group after group: pair i of
    group g is (its u number i // |pool_g|, its partner number i % |pool_g|), so a uniform draw is
    one `randint` plus integer arithmetic."""

    num_nodes: int
    u_nodes: torch.Tensor     # long [U], sorted by group
    u_start: torch.Tensor     # long [G]
    pool: torch.Tensor        # long [P], partner nodes sorted by group
    pool_start: torch.Tensor  # long [G]
    pool_size: torch.Tensor   # long [G]
    pair_start: torch.Tensor  # long [G], number of the group's first pair
    pair_end: torch.Tensor    # long [G], one past the number of its last pair

    @staticmethod
    def of(space: PairSpace) -> UniformPairs:
        num_groups = int(space.pool_size.numel())
        order = torch.argsort(space.u_group, stable=True)
        u_size = torch.bincount(space.u_group, minlength=num_groups)
        pairs = u_size * space.pool_size
        pair_end = torch.cumsum(pairs, 0)
        return UniformPairs(space.num_nodes, space.u_nodes[order], torch.cumsum(u_size, 0) - u_size, space.pool,
                            space.pool_start, space.pool_size, pair_end - pairs, pair_end)

    def draw(self, count: int, gen: torch.Generator) -> torch.Tensor:
        """`count` candidate pairs [2, count], canonical u < v (may include self pairs and edges)."""
        index = torch.randint(int(self.pair_end[-1]), (count,), generator=gen)
        if self.pair_end.numel() == 1:  # one source: no group to look up
            u_at, v_at = torch.div(index, self.pool_size, rounding_mode="floor"), index % self.pool_size
        else:
            g = torch.searchsorted(self.pair_end, index, right=True)  # an empty group ends where the last did
            local, size = index - self.pair_start[g], self.pool_size[g]
            u_at = self.u_start[g] + torch.div(local, size, rounding_mode="floor")
            v_at = self.pool_start[g] + local % size
        u, v = self.u_nodes[u_at], self.pool[v_at]
        return torch.stack([torch.minimum(u, v), torch.maximum(u, v)])


@dataclass(frozen=True)
class Forbidden:
    """What a training negative may not be: a training edge or a self pair. A bitmap over the pair
    keys u * n + v when it fits in `BITMAP_BYTES`, else the sorted edge keys, searched."""

    num_nodes: int
    sorted_keys: torch.Tensor   # long [E], sorted keys of the edges
    bitmap: torch.Tensor | None  # bool [n * n], True at edges and self pairs

    @staticmethod
    def of(edges: torch.Tensor, num_nodes: int, bitmap_bytes: int = BITMAP_BYTES) -> Forbidden:
        keys = pair_keys(edges, num_nodes)
        bitmap = None
        if num_nodes * num_nodes <= bitmap_bytes:
            bitmap = torch.zeros(num_nodes * num_nodes, dtype=torch.bool)
            bitmap[keys] = True
            bitmap[torch.arange(num_nodes) * (num_nodes + 1)] = True
        return Forbidden(num_nodes, torch.sort(keys).values, bitmap)

    def hits(self, pairs: torch.Tensor) -> torch.Tensor:
        """Which of the canonical `pairs` [2, k] are forbidden."""
        if self.bitmap is None:
            return rejected(pairs, self.sorted_keys, self.num_nodes)
        return self.bitmap[pair_keys(pairs, self.num_nodes)]


def train_negatives(pairs: UniformPairs, count: int, forbidden: Forbidden, gen: torch.Generator) -> torch.Tensor:
    """`count` non-edge pairs [2, count], repeats allowed (a fresh draw each epoch makes them
    harmless); a pure function of `gen`'s state. Rejected slots are redrawn in place."""
    out = pairs.draw(count, gen)
    slots = forbidden.hits(out).nonzero().view(-1)
    for _ in range(MAX_REDRAWS):
        if slots.numel() == 0:
            return out
        again = pairs.draw(slots.numel(), gen)
        bad = forbidden.hits(again)
        out[:, slots[~bad]] = again[:, ~bad]
        slots = slots[bad]
    raise UsageError(f"graph with {pairs.num_nodes} nodes is too dense to draw {count} non-edges; "
                     "expected a sparse metabolic network (try a bigger model)")
