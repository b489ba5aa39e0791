"""The GCN encoder normalises its graph once: training is unchanged, inference is sparse and equal."""

from __future__ import annotations

import copy
import pickle

import pytest
import torch
from torch_geometric.nn import GCNConv

from astrobio.components.graph_vae.data import GraphBatch, GraphVAEData
from astrobio.components.graph_vae.message_graph import GCNLayer
from astrobio.components.graph_vae.model import GraphVAE
from tests.components.graph_vae.helpers import make_cfg

WIDE = {"encoder": "gcn", "decoder": "inner", "hidden_dim": 64, "latent_dim": 16, "num_layers": 3}


def per_layer_reference(model: GraphVAE) -> GraphVAE:
    """The same weights in PyG's own GCNConv, normalising in every layer: how the encoder used to run."""
    ref = copy.deepcopy(model)
    enc = ref.encoder
    for name, conv in [*(("layers", i) for i in range(len(enc.layers))), ("conv_mu", None), ("conv_logstd", None)]:
        old = enc.layers[conv] if name == "layers" else getattr(enc, name)
        new = GCNConv(old.in_channels, old.out_channels)
        new.load_state_dict(old.state_dict())
        if name == "layers":
            enc.layers[conv] = new
        else:
            setattr(enc, name, new)
    enc.message_graph = lambda x, edge_index: (edge_index,)  # each PyG layer normalises for itself
    return ref


@pytest.fixture()
def model_and_batch(ijo_data: GraphVAEData) -> tuple[GraphVAE, object]:
    torch.manual_seed(0)
    model = GraphVAE(ijo_data.feature_dim, make_cfg(model=WIDE).model)
    return model, next(iter(ijo_data.batches(0)))


def test_training_forward_is_bit_for_bit_what_per_layer_normalisation_gave(model_and_batch) -> None:
    model, batch = model_and_batch
    ref = per_layer_reference(model)
    assert isinstance(model.encoder.conv_mu, GCNLayer) and not model.encoder.conv_mu.normalize
    for train in (True, False):
        model.train(train), ref.train(train)
        torch.manual_seed(1)
        got = model(batch)
        torch.manual_seed(1)
        want = ref(batch)
        for field in ("mu", "logstd", "pos_logits", "neg_logits"):
            assert torch.equal(getattr(got, field), getattr(want, field)), (train, field)
    model.train(), ref.train()
    torch.manual_seed(1)
    model(batch).pos_logits.sum().backward()
    torch.manual_seed(1)
    ref(batch).pos_logits.sum().backward()
    for (name, a), b in zip(model.named_parameters(), ref.parameters()):
        assert torch.equal(a.grad, b.grad), name


def test_inference_runs_on_a_sparse_adjacency_and_matches_the_edge_list(model_and_batch) -> None:
    model, batch = model_and_batch
    model.eval()
    dense = model(batch)  # autograd on: the edge-list path
    with torch.inference_mode():
        graph = model.encoder.message_graph(batch.x, batch.edge_index)
        sparse = model(batch)
    assert len(graph) == 1 and graph[0].layout == torch.sparse_csr
    num_nodes = batch.x.shape[0]
    assert graph[0].shape == (num_nodes, num_nodes) and graph[0].values().numel() > batch.edge_index.shape[1]  # + self-loops
    for field in ("mu", "logstd", "pos_logits", "neg_logits"):
        torch.testing.assert_close(getattr(sparse, field), getattr(dense, field), rtol=1e-5, atol=1e-5)
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):  # bf16 products: the edge list stays
        assert len(model.encoder.message_graph(batch.x, batch.edge_index)) == 2
        assert torch.isfinite(model(batch).mu).all()


def test_the_inference_graph_is_built_once_per_graph_matched_by_content(model_and_batch) -> None:
    model, batch = model_and_batch
    model.eval()
    encoder = model.encoder
    with torch.no_grad():
        first = encoder.message_graph(batch.x, batch.edge_index)
        assert encoder.message_graph(batch.x, batch.edge_index.clone()) is first  # same edges, other tensor
        edited = batch.edge_index.clone()
        edited[:, :2] = edited[:, 2:4]  # another graph in a tensor of the same shape
        other = encoder.message_graph(batch.x, edited)
        assert other is not first and not torch.equal(other[0].to_dense(), first[0].to_dense())
        assert encoder.message_graph(batch.x.double(), edited) is not other  # the weights' dtype follows x
    copied = copy.deepcopy(model)  # what quantisation does: sparse tensors cannot be deep-copied
    restored = pickle.loads(pickle.dumps(model))
    assert copied.encoder.inference_graph._entry is None and restored.encoder.inference_graph._entry is None
    assert model.state_dict().keys() == copied.state_dict().keys() and not any(
        "inference_graph" in key for key in model.state_dict())


def test_a_directed_graph_with_a_duplicate_edge_and_a_self_loop_matches_per_layer_normalisation() -> None:
    """The metabolite graphs hold both directions of every edge, so they cannot tell the adjacency
    from its transpose; this one can (PyG's flow: messages go from edge_index[0] to edge_index[1])."""
    torch.manual_seed(3)
    edge_index = torch.tensor([[0, 0, 1, 2, 3, 3, 4, 0], [1, 2, 2, 3, 0, 0, 4, 4]])  # 3->0 twice, 4->4
    x = torch.randn(5, 6)
    batch = GraphBatch(x=x, edge_index=edge_index, pos_edge=edge_index[:, :3], neg_edge=torch.tensor([[1, 2], [4, 3]]))
    model = GraphVAE(6, make_cfg(model=WIDE).model).eval()
    ref = per_layer_reference(model).eval()
    with torch.no_grad():
        assert model.encoder.message_graph(x, edge_index)[0].layout == torch.sparse_csr
        got, want = model(batch), ref(batch)
    transposed = per_layer_reference(model).eval()
    with torch.no_grad():
        flipped = transposed(GraphBatch(x=x, edge_index=edge_index.flip(0), pos_edge=batch.pos_edge, neg_edge=batch.neg_edge))
    assert not torch.allclose(flipped.mu, want.mu, atol=1e-3)  # the case can tell the direction apart
    for field in ("mu", "logstd", "pos_logits", "neg_logits"):
        torch.testing.assert_close(getattr(got, field), getattr(want, field), rtol=1e-5, atol=1e-5)
