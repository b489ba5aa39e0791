"""Per-step training negatives (negatives.py): the held-out sampler's distribution, never an edge.

`UniformPairs` replaced a multinomial per step (issue 19: graph_vae's data took 7.8% of a step);
these tests hold it to what the old sampler guaranteed, on small graphs where every pair can be
counted.
"""

from __future__ import annotations

from collections import Counter

import pytest
import torch

from astrobio.components.graph_vae.graph import MetabolicGraph
from astrobio.components.graph_vae.negatives import Forbidden, UniformPairs, train_negatives
from astrobio.components.graph_vae.split import PairSpace
from astrobio.errors import UsageError


def _graph(kind: str, sources: list[tuple[int, int]]) -> MetabolicGraph:
    """Nodes only (edges play no part in the pair space): per source, (metabolites, reactions)."""
    is_reaction: list[bool] = []
    source_index: list[int] = []
    for index, (metabolites, reactions) in enumerate(sources):
        is_reaction += [False] * metabolites + [True] * reactions
        source_index += [index] * (metabolites + reactions)
    n = len(is_reaction)
    return MetabolicGraph(names=[f"n{i}" for i in range(n)], is_reaction=torch.tensor(is_reaction),
                          source_index=torch.tensor(source_index), objects=[None] * n,
                          edges=torch.empty(2, 0, dtype=torch.long), kind=kind)  # type: ignore[arg-type]


def _expected(graph: MetabolicGraph) -> Counter[tuple[int, int]]:
    """Every valid ordered pair once, canonicalised: the exact distribution both samplers target."""
    out: Counter[tuple[int, int]] = Counter()
    for u in range(graph.num_nodes):
        for v in range(graph.num_nodes):
            same_source = bool(graph.source_index[u] == graph.source_index[v])
            sides = graph.kind == "metabolite" or (not graph.is_reaction[u] and graph.is_reaction[v])
            if same_source and sides:
                out[(min(u, v), max(u, v))] += 1
    return out


@pytest.mark.parametrize("kind, sources", [
    ("metabolite", [(3, 0), (5, 0)]),
    ("bipartite", [(3, 2), (2, 0), (4, 3)]),  # the middle source has no partner: an empty group
])
def test_uniform_pairs_draw_the_held_out_samplers_distribution(kind, sources):
    graph = _graph(kind, sources)
    space = PairSpace.of(graph)
    expected = _expected(graph)
    total = sum(expected.values())
    draws = 2000 * total
    for sampler in (space, UniformPairs.of(space)):
        pairs = sampler.draw(draws, torch.Generator().manual_seed(1))
        seen = Counter(map(tuple, pairs.t().tolist()))
        assert set(seen) == set(expected), f"{type(sampler).__name__} drew outside the pair space"
        for pair, weight in expected.items():  # ~2000 per ordered pair: 10% is > 4 standard deviations
            assert seen[pair] == pytest.approx(draws * weight / total, rel=0.1), (type(sampler).__name__, pair)


def _edges_but(graph: MetabolicGraph, keep: int) -> tuple[torch.Tensor, set[tuple[int, int]]]:
    """Every distinct pair but the first `keep` as an edge [2, k], and the kept (allowed) pairs."""
    pairs = [(u, v) for u in range(graph.num_nodes) for v in range(u + 1, graph.num_nodes)]
    return torch.tensor(pairs[keep:]).t(), set(pairs[:keep])


@pytest.mark.parametrize("bitmap_bytes", [2**20, 0])  # the bitmap, and the sorted keys of big graphs
def test_train_negatives_are_never_edges_or_self_pairs_on_a_dense_graph(bitmap_bytes):
    graph = _graph("metabolite", [(12, 0)])  # 66 pairs, 36 of them allowed: half of every draw is redrawn
    pairs = UniformPairs.of(PairSpace.of(graph))
    edges, allowed = _edges_but(graph, keep=36)
    forbidden = Forbidden.of(edges, graph.num_nodes, bitmap_bytes)
    assert (forbidden.bitmap is None) == (bitmap_bytes == 0)
    neg = train_negatives(pairs, 2000, forbidden, torch.Generator().manual_seed(0))
    assert neg.shape == (2, 2000)
    assert set(map(tuple, neg.t().tolist())) == allowed, "only allowed pairs, and every one of them"
    again = train_negatives(pairs, 2000, Forbidden.of(edges, graph.num_nodes), torch.Generator().manual_seed(0))
    assert torch.equal(neg, again), "a pure function of the generator's state, whichever lookup"


def test_train_negatives_refuse_a_graph_without_non_edges():
    graph = _graph("metabolite", [(6, 0)])
    edges, _ = _edges_but(graph, keep=0)  # every pair an edge: only self pairs are left to draw
    with pytest.raises(UsageError, match="too dense to draw 10 non-edges"):
        train_negatives(UniformPairs.of(PairSpace.of(graph)), 10, Forbidden.of(edges, graph.num_nodes),
                        torch.Generator().manual_seed(0))
