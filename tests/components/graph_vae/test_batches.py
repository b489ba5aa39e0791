"""Training batches: a pure function of (epoch, rank), disjoint positive shards across ranks."""

from __future__ import annotations

import pytest
import torch

from astrobio.components.graph_vae.data import GraphVAEData, data_from_models
from astrobio.trainer.state import batch_stream
from tests.components.graph_vae.helpers import make_cfg, pair_set


def _batch(data: GraphVAEData, epoch: int):
    batches = list(data.batches(epoch))
    assert len(batches) == 1, "full-graph: one batch per epoch"
    return batches[0]


def test_batches_are_deterministic_per_epoch(ijo_data):
    a, b = _batch(ijo_data, 5), _batch(ijo_data, 5)
    assert torch.equal(a.pos_edge, b.pos_edge) and torch.equal(a.neg_edge, b.neg_edge)
    c = _batch(ijo_data, 6)
    assert not torch.equal(a.neg_edge, c.neg_edge), "fresh negatives each epoch"


def test_batch_contents(ijo_data):
    batch = _batch(ijo_data, 0)
    assert batch.x is ijo_data.x and batch.num_nodes == ijo_data.num_nodes
    assert torch.equal(batch.edge_index, ijo_data.mp_edge_index)
    assert torch.equal(batch.pos_edge, ijo_data.split.train_pos)
    assert batch.neg_edge.shape[1] == batch.pos_edge.shape[1]  # neg_ratio 1
    assert not pair_set(batch.neg_edge) & pair_set(ijo_data.split.train_pos)
    assert bool((batch.neg_edge[0] != batch.neg_edge[1]).all())
    moved = batch.to("cpu")
    assert torch.equal(moved.neg_edge, batch.neg_edge)


def test_neg_ratio_sets_the_number_of_negatives(textbook):
    data = data_from_models(make_cfg({"sources": ["textbook"], "neg_ratio": 3}), [textbook])
    batch = _batch(data, 0)
    assert batch.neg_edge.shape[1] == 3 * batch.pos_edge.shape[1]


def test_rank_shards_are_disjoint_and_cover_training_edges(ijo):
    cfg = make_cfg()
    ranks = [data_from_models(cfg, [ijo], rank=r, world_size=3) for r in range(3)]
    shards = [pair_set(_batch(d, 2).pos_edge) for d in ranks]
    assert not shards[0] & shards[1] and not shards[0] & shards[2] and not shards[1] & shards[2]
    assert shards[0] | shards[1] | shards[2] == pair_set(ranks[0].split.train_pos)
    for d in ranks[1:]:  # every rank trains on the same split and message-passing graph
        assert torch.equal(d.mp_edge_index, ranks[0].mp_edge_index)
    negs = [_batch(d, 2).neg_edge for d in ranks]
    assert not torch.equal(negs[0][:, :100], negs[1][:, :100]), "ranks draw their own negatives"
    again = data_from_models(cfg, [ijo], rank=1, world_size=3)
    assert torch.equal(_batch(again, 2).neg_edge, negs[1]), "a rank's batch is reproducible"


def test_describe_reports_provenance(ijo_data):
    d = ijo_data.describe()
    assert d["sources"] == ["iJO1366"] and d["files"][0].endswith("iJO1366.xml.gz")
    assert d["num_nodes"] == ijo_data.num_nodes and d["num_edges"] == ijo_data.graph.num_edges
    assert d["split"]["train_pos"] + d["split"]["val_pos"] + d["split"]["test_pos"] == d["num_edges"]
    assert d["feature_dim"] == ijo_data.x.shape[1] and d["graph"] == "metabolite"


def test_identity_features_are_one_hot(textbook):
    data = data_from_models(make_cfg({"sources": ["textbook"], "features": "identity"}), [textbook])
    assert torch.equal(data.x, torch.eye(data.num_nodes))


def test_batches_are_a_pure_function_of_epoch_and_rank_across_builds(ijo):
    """What resume relies on (spec.TrainData): a restarted process builds its data again and
    replays `batches(epoch)`; it must see exactly the batches the interrupted one would have."""
    cfg = make_cfg()
    first = [data_from_models(cfg, [ijo], rank=r, world_size=2) for r in range(2)]
    second = [data_from_models(cfg, [ijo], rank=r, world_size=2) for r in range(2)]
    for rank in range(2):
        for epoch in (0, 1, 9):
            a, b = _batch(first[rank], epoch), _batch(second[rank], epoch)
            assert torch.equal(a.pos_edge, b.pos_edge) and torch.equal(a.neg_edge, b.neg_edge), (rank, epoch)
    uninterrupted = batch_stream(first[0], 0, 0)
    seen = [next(uninterrupted)[2] for _ in range(4)]
    resumed = next(batch_stream(second[0], 3, 0))[2]  # the trainer resumes at epoch 3, nothing consumed
    assert torch.equal(resumed.neg_edge, seen[3].neg_edge)


@pytest.mark.parametrize("source", ["iJO1366", "textbook"])
def test_training_negatives_are_never_training_edges(source, ijo, textbook):
    """Over many epochs, on a sparse genome-scale graph and on the denser textbook one (where
    candidate pairs hit an edge far more often and are redrawn)."""
    data = data_from_models(make_cfg({"sources": [source]}), [ijo if source == "iJO1366" else textbook])
    train = pair_set(data.split.train_pos)
    for epoch in range(20):
        neg = _batch(data, epoch).neg_edge
        assert not pair_set(neg) & train, epoch
        assert bool((neg[0] != neg[1]).all()) and neg.shape[1] == data.shard.shape[1], epoch
