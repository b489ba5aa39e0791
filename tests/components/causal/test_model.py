"""NOTEARS pieces: the acyclicity function and its gradient, the loss, the dual update, the MLP."""

from __future__ import annotations

import torch

from astrobio.components.causal.config import CausalModelConfig
from astrobio.components.causal.model import LinearNotears, MLPNotears, acyclicity


def test_acyclicity_is_zero_on_dags_and_positive_on_cycles():
    dag = torch.tensor([[0.0, 1.5, 0.0], [0.0, 0.0, -2.0], [0.0, 0.0, 0.0]])
    assert abs(float(acyclicity(dag * dag))) < 1e-12
    cyclic = dag.clone()
    cyclic[2, 0] = 0.5
    assert float(acyclicity(cyclic * cyclic)) > 0.1
    two = torch.tensor([[0.0, 0.3], [0.2, 0.0]])  # h = 2 (cosh(ab) - 1) for a 2-cycle with weights a^2, b^2
    a, b = 0.09, 0.04
    expected = 2 * (torch.cosh(torch.tensor(a * b, dtype=torch.float64).sqrt()) - 1)
    assert torch.isclose(acyclicity(two * two), expected, rtol=1e-9)


def test_acyclicity_gradient_matches_the_closed_form_and_finite_differences():
    torch.manual_seed(0)
    w = (0.4 * torch.randn(5, 5, dtype=torch.float64)).fill_diagonal_(0).requires_grad_()
    h = acyclicity(w * w)
    (grad,) = torch.autograd.grad(h, w)
    closed = torch.linalg.matrix_exp(w.detach() ** 2).t() * 2 * w.detach()  # NOTEARS: exp(W∘W)^T ∘ 2W
    assert torch.allclose(grad, closed, atol=1e-10)
    assert torch.autograd.gradcheck(lambda m: acyclicity(m * m), (w,))


def _linear(d: int = 3, **over) -> LinearNotears:
    cfg = CausalModelConfig(**over)
    allowed = ~torch.eye(d, dtype=torch.bool)
    return LinearNotears(d, cfg, allowed, torch.zeros(d, d, dtype=torch.bool))


def test_one_optimisation_step_lowers_the_loss_on_a_fixed_batch():
    torch.manual_seed(0)
    a = torch.randn(256)
    x = torch.stack([a, 0.8 * a + 0.3 * torch.randn(256), torch.randn(256)], dim=1)
    for model in (_linear(), MLPNotears(3, CausalModelConfig(kind="mlp", hidden=4), ~torch.eye(3, dtype=torch.bool),
                                          torch.zeros(3, 3, dtype=torch.bool))):
        opt = torch.optim.AdamW(model.parameters(), lr=0.01, weight_decay=0.0)
        before = model({"x": x})["loss"]
        opt.zero_grad()
        before.backward()
        opt.step()
        model.eval()  # no dual update: compare the same objective
        after = model({"x": x})["loss"]
        assert float(after.detach()) < float(before.detach())


def test_dual_update_is_driven_by_the_call_counter_and_lives_in_the_state_dict():
    model = _linear(dual_every=2, h_floor=0.0)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[0.0, 0.5, 0.0], [0.5, 0.0, 0.0], [0.0, 0.0, 0.0]]))
    x = {"x": torch.randn(8, 3)}
    model(x)
    assert float(model.rho) == 1.0 and float(model.alpha) == 0.0
    model(x)  # second call: first outer iteration; h_last was inf, so alpha moves
    h = float(acyclicity(model.adjacency_sq().detach()))
    assert float(model.alpha) == h and float(model.h_last) == h
    model(x), model(x)  # h unchanged: not below 0.25 * h_last, so rho grows tenfold
    assert float(model.rho) == 10.0
    state = model.state_dict()
    assert {"rho", "alpha", "h_last", "calls", "allowed", "required"} <= set(state)
    clone = _linear(dual_every=2, h_floor=0.0)
    clone.load_state_dict(state)
    assert float(clone.rho) == 10.0 and int(clone.calls) == 4


def test_masked_edges_never_carry_weight_and_jitter_is_not_penalised():
    allowed = torch.tensor([[False, True], [False, False]])
    model = LinearNotears(2, CausalModelConfig(h_floor=0.05), allowed, torch.zeros(2, 2, dtype=torch.bool))
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[0.0, 0.9], [0.7, 0.0]]))
    assert model.edge_strength()[1, 0] == 0 and float(acyclicity(model.penalised_adjacency_sq().detach())) == 0.0
    jitter = _linear(d=2, h_floor=0.05)
    with torch.no_grad():
        jitter.weight.copy_(torch.tensor([[0.0, 0.03], [-0.04, 0.0]]))
    assert float(acyclicity(jitter.penalised_adjacency_sq().detach())) == 0.0
    assert float(acyclicity(jitter.adjacency_sq().detach())) > 0.0


def test_mlp_adjacency_is_the_first_layer_norm_and_respects_the_mask():
    allowed = torch.tensor([[False, True, True], [False, False, True], [False, False, False]])
    model = MLPNotears(3, CausalModelConfig(kind="mlp", hidden=5), allowed, torch.zeros(3, 3, dtype=torch.bool))
    adj = model.adjacency_sq()
    assert torch.equal(adj == 0, ~allowed)
    assert torch.allclose(adj[0, 1], model.fc1[1, :, 0].pow(2).sum())
    x = torch.randn(4, 3)
    moved = x.clone()
    moved[:, 2] += 5.0  # variable 2 is nobody's allowed parent: predictions do not change
    assert torch.allclose(model.predict(x), model.predict(moved))
