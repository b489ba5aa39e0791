"""Held-out edge split: disjoint, hidden from message passing, seeded, with honest negatives."""

from __future__ import annotations

import hashlib

import torch

from astrobio.components.graph_vae.data import data_from_models
from tests.components.graph_vae.helpers import make_cfg, pair_set


def test_splits_are_disjoint_and_cover_every_edge(ijo_data):
    s = ijo_data.split
    train, val, test = pair_set(s.train_pos), pair_set(s.val_pos), pair_set(s.test_pos)
    assert not (train & val) and not (train & test) and not (val & test)
    assert train | val | test == pair_set(ijo_data.graph.edges)
    sizes = s.sizes()
    assert sizes["val_neg"] == sizes["val_pos"] and sizes["test_neg"] == sizes["test_pos"]
    assert abs(sizes["test_pos"] - 0.1 * ijo_data.graph.num_edges) <= 1


def test_held_out_edges_are_absent_from_message_passing(ijo_data):
    mp = pair_set(ijo_data.mp_edge_index)
    assert mp == pair_set(ijo_data.split.train_pos)
    assert not mp & pair_set(ijo_data.split.val_pos) and not mp & pair_set(ijo_data.split.test_pos)
    assert ijo_data.mp_edge_index.shape[1] == 2 * ijo_data.split.train_pos.shape[1]


def test_held_out_negatives_are_distinct_non_edges(ijo_data):
    s = ijo_data.split
    edges = pair_set(ijo_data.graph.edges)
    for neg in (s.val_neg, s.test_neg):
        assert not pair_set(neg) & edges
        assert bool((neg[0] != neg[1]).all())
        assert len(pair_set(neg)) == neg.shape[1]
    assert not pair_set(s.val_neg) & pair_set(s.test_neg)


def test_split_is_deterministic_for_a_seed(ijo):
    a = data_from_models(make_cfg({"split_seed": 3}), [ijo]).split
    b = data_from_models(make_cfg({"split_seed": 3}), [ijo]).split
    c = data_from_models(make_cfg({"split_seed": 4}), [ijo]).split
    for name in ("train_pos", "val_pos", "test_pos", "val_neg", "test_neg"):
        assert torch.equal(getattr(a, name), getattr(b, name))
    assert not torch.equal(a.test_pos, c.test_pos) and not torch.equal(a.test_neg, c.test_neg)


def test_bipartite_negatives_join_a_metabolite_and_a_reaction(textbook):
    data = data_from_models(make_cfg({"sources": ["textbook"], "graph": "bipartite"}), [textbook])
    for neg in (data.split.val_neg, data.split.test_neg, next(iter(data.batches(0))).neg_edge):
        sides = data.graph.is_reaction[neg]
        assert bool((sides[0] != sides[1]).all())


def test_union_negatives_stay_within_one_source(textbook, mini):
    data = data_from_models(make_cfg({"sources": ["textbook", "mini_cobra.xml"], "test_frac": 0.2}), [textbook, mini])
    for neg in (data.split.val_neg, data.split.test_neg, next(iter(data.batches(1))).neg_edge):
        src = data.graph.source_index[neg]
        assert bool((src[0] == src[1]).all())


def test_held_out_split_is_pinned(ijo_data):
    """The val/test edges and negatives every recorded graph_vae result was scored on (seed 0,
    iJO1366). Training's own sampler (negatives.py) must not move them; if this fails on purpose
    (a new split or a torch whose generators changed), re-record the results, then the digest."""
    s = ijo_data.split
    names = ("train_pos", "val_pos", "test_pos", "val_neg", "test_neg")
    digest = hashlib.sha256(b"".join(getattr(s, n).numpy().tobytes() for n in names)).hexdigest()
    assert digest[:16] == "a22a5bfb7115b228"
