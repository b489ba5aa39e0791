"""Model, step and evaluate: the loss trains every encoder; evaluate reports the documented keys."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from astrobio.components.graph_vae.data import data_from_models
from astrobio.components.graph_vae.task import SPEC, build_model, evaluate, step
from astrobio.catalog import get_spec
from tests.components.graph_vae.helpers import make_cfg

SMALL = {"hidden_dim": 16, "latent_dim": 8, "heads": 2, "dropout": 0.0}


def _loss(model: nn.Module, batch) -> torch.Tensor:
    torch.manual_seed(123)  # same reparameterisation noise before and after the step
    return step(model, batch)[0]


@pytest.mark.parametrize("decoder", ["inner", "mlp"])
@pytest.mark.parametrize("encoder", ["gcn", "sage", "transformer"])
def test_one_step_lowers_the_loss_on_a_fixed_batch(textbook, encoder, decoder):
    cfg = make_cfg({"sources": ["textbook"]}, {**SMALL, "encoder": encoder, "decoder": decoder})
    data = data_from_models(cfg, [textbook])
    torch.manual_seed(0)
    model = build_model(cfg, data)
    batch = next(iter(data.batches(0)))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    before = _loss(model, batch)
    loss, metrics = step(model, batch)
    assert set(metrics) == {"recon", "kl"} and all(isinstance(v, float) for v in metrics.values())
    opt.zero_grad()
    before.backward()
    grads = [p.grad for p in model.parameters()]
    assert all(g is not None for g in grads), "every parameter is reached by one forward"
    opt.step()
    assert _loss(model, batch).item() < before.item()


def test_evaluate_returns_exactly_the_documented_keys(textbook):
    cfg = make_cfg({"sources": ["textbook"]}, SMALL)
    data = data_from_models(cfg, [textbook])
    model = build_model(cfg, data)
    for split in ("val", "test"):
        metrics = evaluate(model, data, split)
        expected = {f"{split}_auc", f"{split}_ap"} | {
            f"baseline_{b}_{split}_{m}" for b in ("cn", "aa", "l3") for m in ("auc", "ap")}
        assert set(metrics) == expected
        assert all(0.0 <= v <= 1.0 for v in metrics.values())


def test_evaluate_on_a_bipartite_graph_omits_cn_and_aa(textbook):
    cfg = make_cfg({"sources": ["textbook"], "graph": "bipartite"}, SMALL)
    data = data_from_models(cfg, [textbook])
    metrics = evaluate(build_model(cfg, data), data, "val")
    assert set(metrics) == {"val_auc", "val_ap", "baseline_l3_val_auc", "baseline_l3_val_ap"}


def test_evaluate_is_deterministic_restores_train_mode_and_unwraps(textbook_data):
    cfg = make_cfg({"sources": ["textbook"]}, {**SMALL, "dropout": 0.5})
    model = build_model(cfg, textbook_data)
    model.train()
    first = evaluate(model, textbook_data, "test")
    assert model.training, "train mode restored"

    class Wrapper(nn.Module):  # stands in for DistributedDataParallel
        def __init__(self, module: nn.Module) -> None:
            super().__init__()
            self.module = module

    assert evaluate(Wrapper(model), textbook_data, "test") == first, "mu, no dropout, no sampling"
    model.eval()
    evaluate(model, textbook_data, "test")
    assert not model.training, "eval mode kept"


def test_unknown_split_is_an_error(textbook_data):
    model = build_model(make_cfg({"sources": ["textbook"]}, SMALL), textbook_data)
    with pytest.raises(ValueError):
        evaluate(model, textbook_data, "train")


def test_spec_is_registered():
    assert get_spec("graph_vae") is SPEC
    assert SPEC.phase == "pretrain" and SPEC.image == "astrobio/graph-vae"
    assert SPEC.config_cls().data.sources == ["iJO1366"]


def test_identity_features_size_the_first_layer(textbook):
    cfg = make_cfg({"sources": ["textbook"], "features": "identity"}, SMALL)
    data = data_from_models(cfg, [textbook])
    loss, _ = step(build_model(cfg, data), next(iter(data.batches(0))))
    assert torch.isfinite(loss)


def test_training_forward_samples_z_and_eval_uses_mu(textbook_data):
    cfg = make_cfg({"sources": ["textbook"]}, SMALL)
    model = build_model(cfg, textbook_data)
    batch = next(iter(textbook_data.batches(0)))
    model.train()
    a, b = model(batch), model(batch)
    assert not torch.equal(a.pos_logits, b.pos_logits), "z = mu + eps * std while training"
    assert torch.equal(a.mu, b.mu)
    model.eval()
    out = model(batch)
    z = model.encode_eval(batch.x, batch.edge_index)
    assert torch.allclose(out.pos_logits, model.decode(z, batch.pos_edge))


def test_sorted_contains_matches_isin():
    from astrobio.components.graph_vae.split import sorted_contains

    gen = torch.Generator().manual_seed(0)
    table = torch.sort(torch.randint(0, 500, (200,), generator=gen)).values
    keys = torch.randint(0, 600, (1000,), generator=gen)
    assert torch.equal(sorted_contains(table, keys), torch.isin(keys, table))
    assert not sorted_contains(table[:0], keys).any()
