"""FedAvg/FedProx arithmetic: weighted averaging, broadcast, the proximal term, independent clients."""

from __future__ import annotations

import torch

from astrobio.components.galactic.data import GalacticData
from astrobio.components.galactic.model import FederatedFusion, on_step_end
from astrobio.components.galactic.task import build_model, step
from tests.components.galactic.helpers import make_cfg


def perturb(model: FederatedFusion) -> None:
    with torch.no_grad():
        for k, client in enumerate(model.clients):
            for n in model.shared:
                dict(client.named_parameters())[n].add_(0.01 * (k + 1))


def test_averaging_is_weighted_and_broadcast(gdata: GalacticData):
    torch.manual_seed(0)
    model = build_model(gdata.cfg, gdata)
    perturb(model)
    name = model.shared[0]
    values = torch.stack([dict(c.named_parameters())[name].detach().clone() for c in model.clients])
    sizes = torch.tensor(gdata.shard_sizes(), dtype=torch.float32)
    expected = (sizes / sizes.sum()).view(-1, *[1] * (values.dim() - 1)).mul(values).sum(0)
    on_step_end(model, 2)  # not a multiple of local_steps=3: nothing happens
    assert int(model.rounds) == 0
    on_step_end(model, 3)
    assert int(model.rounds) == 1
    assert torch.allclose(dict(model.global_model.named_parameters())[name], expected, atol=1e-6)
    for c in model.clients:
        for n in model.shared:
            assert torch.equal(dict(c.named_parameters())[n], dict(model.global_model.named_parameters())[n])


def test_fedprox_term_and_bytes(gdata: GalacticData):
    cfg = make_cfg(federated={"algorithm": "fedprox", "mu": 0.5})
    torch.manual_seed(0)
    model = build_model(cfg, gdata)
    batch = next(iter(gdata.batches(0)))
    assert float(model(batch)["prox"]) == 0.0  # clients start at the global model
    perturb(model)
    out = model(batch)
    assert float(out["prox"]) > 0
    assert torch.allclose(out["loss"], out["client_losses"].sum() + 0.25 * out["prox"])
    trainable = sum(p.numel() for p in model.clients[0].parameters() if p.requires_grad)
    assert model.bytes_per_round() == 2 * 3 * 4 * trainable
    assert not any(p.requires_grad for p in model.global_model.parameters())


def test_one_step_lowers_the_loss_and_clients_are_independent(gdata: GalacticData):
    torch.manual_seed(0)
    model = build_model(gdata.cfg, gdata)
    batch = next(iter(gdata.batches(0)))
    loss, metrics = step(model, batch)
    loss.backward()
    assert set(metrics) == {"client0_loss", "client1_loss", "client2_loss", "prox"}
    grads = [p.grad.clone() for p in model.clients[1].parameters() if p.requires_grad]
    model.zero_grad()
    alone = torch.nn.functional.cross_entropy(model.clients[1](batch["clients"][1]), batch["clients"][1]["label"])
    alone.backward()
    assert all(torch.allclose(g, p.grad) for g, p in zip(grads, [p for p in model.clients[1].parameters() if p.requires_grad]))
    model.zero_grad()
    model(batch)["loss"].backward()
    with torch.no_grad():
        for p in model.parameters():
            if p.grad is not None:
                p -= 0.05 * p.grad
    assert float(step(model, batch)[0].detach()) < float(loss.detach())
