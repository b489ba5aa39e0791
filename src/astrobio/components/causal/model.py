"""NOTEARS as an nn.Module that trains with plain (Adam-family) optimizer steps.

NOTEARS (Zheng et al. 2018) turns DAG search into  min F(W) s.t. h(W) = tr(exp(W∘W)) - d = 0  and
solves it by an augmented Lagrangian: minimise F + 0.5 rho h^2 + alpha h, then alpha += rho h, and
rho *= 10 whenever h did not shrink to a quarter of its last value. Here the inner minimisation is
`dual_every` optimizer steps of the project's one trainer, and the dual update runs inside
`forward`, driven by a step counter. rho, alpha, the last h and the counter are buffers, so they
are in the state dict: a checkpoint resumes the exact same trajectory.

Two structural-equation families share that machinery:
- `LinearNotears`: x_j = sum_i W[i, j] x_i + noise; the adjacency is W.
- `MLPNotears` (NOTEARS-MLP, Zheng et al. 2020): x_j = MLP_j(x) + noise; the adjacency weight of
  i -> j is the l2 norm of MLP_j's first-layer weights on input i.
Physics priors enter as a fixed 0/1 mask on the weights (forbidden edges can never carry weight)
and as an l1 exemption for required edges.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from astrobio.components.causal.config import CausalModelConfig
from astrobio.components.causal.graphs import is_dag, project_to_dag, threshold_graph


def acyclicity(adj_sq: torch.Tensor) -> torch.Tensor:
    """h(A) = tr(exp(A)) - d for a non-negative A (A = W∘W); zero exactly when A is a DAG.

    Evaluated in float64: near convergence h ~ 1e-8 is the difference of two numbers ~ d, which
    float32 cannot resolve, and the dual updates would then chase rounding noise.
    """
    a = adj_sq.double()
    return torch.linalg.matrix_exp(a).diagonal().sum() - a.shape[0]


class NotearsBase(nn.Module):
    """Augmented-Lagrangian state and loss; subclasses define the SEM and its adjacency."""

    def __init__(self, d: int, cfg: CausalModelConfig, allowed: torch.Tensor, required: torch.Tensor) -> None:
        super().__init__()
        self.d, self.cfg = d, cfg
        self.register_buffer("allowed", allowed.float())
        self.register_buffer("required", required.float())
        self.register_buffer("rho", torch.tensor(cfg.rho_init, dtype=torch.float64))
        self.register_buffer("alpha", torch.zeros((), dtype=torch.float64))
        self.register_buffer("h_last", torch.tensor(math.inf, dtype=torch.float64))
        self.register_buffer("calls", torch.zeros((), dtype=torch.long))

    # -- what a subclass provides -------------------------------------------------------------
    def adjacency_sq(self) -> torch.Tensor:
        """Non-negative (d, d) matrix whose zero pattern is the graph (W∘W, or squared norms)."""
        raise NotImplementedError

    def predict(self, x: torch.Tensor, edge_mask: torch.Tensor | None = None) -> torch.Tensor:
        """f(x): each column predicted from the others; `edge_mask` keeps only a read-out graph."""
        raise NotImplementedError

    def sparsity(self) -> torch.Tensor:
        """The l1 (and l2) penalty, excluding required edges from l1."""
        raise NotImplementedError

    # -- shared --------------------------------------------------------------------------------
    def penalised_adjacency_sq(self) -> torch.Tensor:
        """adjacency_sq with the optimizer's jitter removed, for h: |w| is soft-thresholded by
        `h_floor` before squaring. Adam moves every weight by ~lr each step, so weights that the fit
        and l1 want at zero hover at |w| ~ lr, never exactly zero, and h over them never reaches
        h_tol: rho then climbs to rho_max and the penalty crushes every real edge. Edges that small
        are far below w_threshold, so ignoring them changes no read-out graph."""
        if self.cfg.h_floor == 0:
            return self.adjacency_sq()
        strength = self.adjacency_sq().clamp(min=0).add(1e-30).sqrt()  # eps: finite gradient at 0
        return (strength - self.cfg.h_floor).clamp(min=0).pow(2)

    def edge_strength(self) -> torch.Tensor:
        """|W_ij| (linear) or ||first-layer weights of j on input i|| (mlp): compared with w_threshold."""
        return self.adjacency_sq().detach().sqrt()

    def dual_update(self) -> None:
        """One NOTEARS outer iteration: raise rho if h stalled, else move alpha; freeze once acyclic."""
        with torch.no_grad():
            h = acyclicity(self.penalised_adjacency_sq())
            if h <= self.cfg.h_tol:
                return
            if h > self.cfg.h_progress * self.h_last and self.rho < self.cfg.rho_max:
                self.rho.mul_(self.cfg.rho_mult).clamp_(max=self.cfg.rho_max)
                return
            self.alpha.add_(self.rho * h)
            self.h_last.copy_(h)

    def forward(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Augmented-Lagrangian loss on a batch; in training mode, every `dual_every` calls first
        performs the dual update (deterministic in the call counter, so resume is exact)."""
        if self.training:
            self.calls += 1
            if int(self.calls) % self.cfg.dual_every == 0:
                self.dual_update()
        x = batch["x"]
        fit = 0.5 * (x - self.predict(x)).pow(2).sum(dim=1).mean()
        h = acyclicity(self.penalised_adjacency_sq())
        penalty = (0.5 * self.rho * h * h + self.alpha * h).to(fit.dtype)
        sparsity = self.sparsity()
        return {"loss": fit + sparsity + penalty, "fit": fit, "h": h, "sparsity": sparsity}


class LinearNotears(NotearsBase):
    """Linear SEM: W starts at zero (NOTEARS' initialisation), masked by the priors."""

    def __init__(self, d: int, cfg: CausalModelConfig, allowed: torch.Tensor, required: torch.Tensor) -> None:
        super().__init__(d, cfg, allowed, required)
        self.weight = nn.Parameter(torch.zeros(d, d))

    def effective_weight(self) -> torch.Tensor:
        return self.weight * self.allowed

    def adjacency_sq(self) -> torch.Tensor:
        w = self.effective_weight()
        return w * w

    def predict(self, x: torch.Tensor, edge_mask: torch.Tensor | None = None) -> torch.Tensor:
        w = self.effective_weight()
        return x @ (w if edge_mask is None else w * edge_mask.to(w.dtype))

    def sparsity(self) -> torch.Tensor:
        return self.cfg.lambda1 * (self.effective_weight() * (1 - self.required)).abs().sum()


class MLPNotears(NotearsBase):
    """One MLP per variable, d -> hidden -> 1, sigmoid, all d evaluated at once with einsum."""

    def __init__(self, d: int, cfg: CausalModelConfig, allowed: torch.Tensor, required: torch.Tensor) -> None:
        super().__init__(d, cfg, allowed, required)
        m = cfg.hidden
        bound1, bound2 = 1.0 / math.sqrt(d), 1.0 / math.sqrt(m)
        # fc1[j, k, i]: weight of input i into hidden unit k of variable j's MLP
        self.fc1 = nn.Parameter(torch.empty(d, m, d).uniform_(-bound1, bound1))
        self.b1 = nn.Parameter(torch.zeros(d, m))
        self.fc2 = nn.Parameter(torch.empty(d, m).uniform_(-bound2, bound2))
        self.b2 = nn.Parameter(torch.zeros(d))

    def first_layer(self) -> torch.Tensor:
        return self.fc1 * self.allowed.t().unsqueeze(1)  # allowed[i, j] masks input i of MLP j

    def adjacency_sq(self) -> torch.Tensor:
        return self.first_layer().pow(2).sum(dim=1).t()  # [i, j] = sum_k fc1[j, k, i]^2

    def predict(self, x: torch.Tensor, edge_mask: torch.Tensor | None = None) -> torch.Tensor:
        w1 = self.first_layer()
        if edge_mask is not None:
            w1 = w1 * edge_mask.to(w1.dtype).t().unsqueeze(1)
        hidden = torch.sigmoid(torch.einsum("ni,jki->njk", x, w1) + self.b1)
        return torch.einsum("njk,jk->nj", hidden, self.fc2) + self.b2

    def sparsity(self) -> torch.Tensor:
        l1 = (self.first_layer() * (1 - self.required.t()).unsqueeze(1)).abs().sum()
        l2 = sum(p.pow(2).sum() for p in (self.fc1, self.fc2))
        return self.cfg.lambda1 * l1 + 0.5 * self.cfg.lambda2 * l2


def build_notears(d: int, cfg: CausalModelConfig, allowed: torch.Tensor, required: torch.Tensor) -> NotearsBase:
    """The SEM family named by `model.kind`."""
    cls = LinearNotears if cfg.kind == "linear" else MLPNotears
    return cls(d, cfg, allowed, required)


def read_graph(net: NotearsBase, threshold: float) -> tuple[np.ndarray, bool]:
    """(DAG, whether thresholding alone was acyclic): threshold |weights|, then drop weakest cycle edges."""
    strength = net.edge_strength().detach().float().cpu().numpy()
    required = net.required.cpu().numpy().astype(bool)
    raw = threshold_graph(strength, threshold, required)
    return project_to_dag(raw, strength, required), is_dag(raw)
