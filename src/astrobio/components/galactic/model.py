"""Simulated federated learning inside the one trainer: a global FusionNet and K client copies.

- `forward(batch)` runs one local step's loss on every client: the sum over clients of each one's
  cross-entropy on its own batch (+ mu/2 ||w_k - w_global||^2 for FedProx). Client parameters are
  disjoint, so the gradient each client receives is exactly its own local gradient, and one
  optimizer step of the trainer is one local SGD/Adam step on every observatory. Each client keeps
  its own AdamW moments (they are its parameters' state), as a local optimizer would.
- `average()` is a FedAvg round: the global model becomes the shard-size weighted mean of the
  clients' trainable parameters and is broadcast back to every client. The trainer calls it
  through `on_step_end` every `local_steps` steps, a pure function of (model, step), and all of it
  (global, clients, weights) is in the state dict, so a resumed run averages exactly as before.
- Frozen encoders and normalisation buffers never change and are not communicated; a round sends
  each client's trainable parameters up and the global ones down: 2 * K * trainable bytes.
Why not torch.distributed ranks: one process keeps resume exact and the test fast on a laptop; the
averaging is the same arithmetic an all-reduce would do (supports_ddp=False says so to the trainer).
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import torch
from torch import nn

from astrobio.components.fusion.model import FusionNet, trainable_bytes


class FederatedFusion(nn.Module):
    """`global_model` (never trained directly) + `clients` (K trainable copies)."""

    def __init__(self, make: Callable[[], FusionNet], num_clients: int, client_weights: torch.Tensor,
                 mu: float, local_steps: int) -> None:
        super().__init__()
        self.global_model = make()
        self.clients = nn.ModuleList(copy.deepcopy(self.global_model) for _ in range(num_clients))
        for p in self.global_model.parameters():
            p.requires_grad_(False)
        w = client_weights.double()
        self.register_buffer("client_weights", (w / w.sum()).float())
        self.register_buffer("rounds", torch.zeros((), dtype=torch.long))
        self.mu, self.local_steps = float(mu), int(local_steps)
        self.shared = [n for n, p in self.clients[0].named_parameters() if p.requires_grad]

    def proximal(self, k: int) -> torch.Tensor:
        """||w_k - w_global||^2 over the trainable parameters (the FedProx term without mu/2)."""
        glob = dict(self.global_model.named_parameters())
        own = dict(self.clients[k].named_parameters())
        return sum(((own[n] - glob[n]) ** 2).sum() for n in self.shared)  # type: ignore[return-value]

    def forward(self, batch: dict[str, list[dict[str, torch.Tensor]]]) -> dict[str, torch.Tensor]:
        losses, proxes = [], []
        for k, (client, local) in enumerate(zip(self.clients, batch["clients"])):
            loss = nn.functional.cross_entropy(client(local).float(), local["label"])
            losses.append(loss)
            if self.mu > 0:
                proxes.append(self.proximal(k))
        ce = torch.stack(losses)
        total = ce.sum()
        prox = torch.stack(proxes).sum() if proxes else torch.zeros((), device=ce.device)
        return {"loss": total + 0.5 * self.mu * prox, "client_losses": ce.detach(), "prox": prox.detach()}

    @torch.no_grad()
    def average(self) -> None:
        """One FedAvg round: weighted mean of the clients into the global model, then broadcast."""
        glob = dict(self.global_model.named_parameters())
        clients = [dict(c.named_parameters()) for c in self.clients]
        for n in self.shared:
            stacked = torch.stack([c[n] for c in clients])
            w = self.client_weights.to(stacked.dtype).view(-1, *([1] * (stacked.dim() - 1)))
            mean = (w * stacked).sum(dim=0)
            glob[n].copy_(mean)
            for c in clients:
                c[n].copy_(mean)
        self.rounds += 1

    def bytes_per_round(self) -> int:
        return 2 * len(self.clients) * trainable_bytes(self.clients[0])


def on_step_end(model: nn.Module, step: int) -> None:
    """The trainer's hook: a FedAvg round after every `local_steps`-th optimizer step."""
    net: FederatedFusion = getattr(model, "module", model)
    if step % net.local_steps == 0:
        net.average()
