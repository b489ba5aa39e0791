"""Variational graph auto-encoder (Kipf & Welling 2016) with a choice of message-passing layer.

Follows `torch_geometric.nn.VGAE`: the encoder gives mu and log-std per node, training samples
z = mu + eps * std, evaluation uses mu, and the loss is a positive/negative edge reconstruction
term plus KL / num_nodes. `forward(batch)` returns everything the loss needs in one call, so a DDP
wrapper sees every parameter used in a single forward.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch_geometric.nn import SAGEConv, TransformerConv

from astrobio.components.graph_vae.config import GraphVAEModelConfig
from astrobio.components.graph_vae.message_graph import (GCNLayer, InferenceGraphMemo, gcn_message_graph,
                                                         sparse_inference)

MAX_LOGSTD = 10.0  # as in torch_geometric.nn.VGAE: keeps exp(logstd) finite early in training


@dataclass
class VGAEOutput:
    """The loss inputs: logits of the batch's positive and negative pairs, and q(z) parameters."""

    pos_logits: torch.Tensor
    neg_logits: torch.Tensor
    mu: torch.Tensor
    logstd: torch.Tensor


def make_conv(kind: str, in_dim: int, out_dim: int, heads: int, concat: bool = True) -> nn.Module:
    """One message-passing layer. TransformerConv splits `out_dim` over heads when concatenating,
    and averages full-width heads for the mu/logstd layers (as the old graph-transformer VAE did)."""
    if kind == "gcn":
        return GCNLayer(in_dim, out_dim, normalize=False)  # the encoder normalises once: message_graph.py
    if kind == "sage":
        return SAGEConv(in_dim, out_dim)
    if kind == "transformer":
        if concat:
            return TransformerConv(in_dim, out_dim // heads, heads=heads, concat=True)
        return TransformerConv(in_dim, out_dim, heads=heads, concat=False)
    raise ValueError(f"unknown encoder '{kind}'")


class Encoder(nn.Module):
    """`num_layers - 1` shared layers (ReLU, dropout), then one layer each for mu and log-std."""

    def __init__(self, in_dim: int, cfg: GraphVAEModelConfig) -> None:
        super().__init__()
        dims = [in_dim] + [cfg.hidden_dim] * (cfg.num_layers - 1)
        self.layers = nn.ModuleList(make_conv(cfg.encoder, a, b, cfg.heads) for a, b in zip(dims[:-1], dims[1:]))
        self.conv_mu = make_conv(cfg.encoder, dims[-1], cfg.latent_dim, cfg.heads, concat=False)
        self.conv_logstd = make_conv(cfg.encoder, dims[-1], cfg.latent_dim, cfg.heads, concat=False)
        self.dropout = nn.Dropout(cfg.dropout)
        self.inference_graph = InferenceGraphMemo()  # not state: rebuilt from the edges it is given

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        graph = self.message_graph(x, edge_index)
        relu = torch.relu if torch.is_grad_enabled() else torch.relu_  # no autograd: a layer's fresh output
        h = x
        for layer in self.layers:
            h = self.dropout(relu(layer(h, *graph)))
        return self.conv_mu(h, *graph), self.conv_logstd(h, *graph).clamp(max=MAX_LOGSTD)

    def message_graph(self, x: torch.Tensor, edge_index: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """What every layer takes after `x`: GCN layers get the graph normalised once (message_graph.py)."""
        if not isinstance(self.conv_mu, GCNLayer):
            return (edge_index,)
        if sparse_inference(self, x):
            return self.inference_graph.get(self.conv_mu, x, edge_index)
        return gcn_message_graph(self.conv_mu, x, edge_index, sparse=False)


class InnerProductDecoder(nn.Module):
    """logit(u, v) = z_u . z_v: the classic GAE decoder, symmetric and parameter-free."""

    def forward(self, z: torch.Tensor, pairs: torch.Tensor) -> torch.Tensor:
        return (z[pairs[0]] * z[pairs[1]]).sum(dim=-1)


class HadamardMLPDecoder(nn.Module):
    """logit(u, v) = MLP(z_u * z_v): still symmetric in (u, v), but can weigh latent dimensions
    and combine them non-linearly, which inner products cannot."""

    def __init__(self, latent_dim: int, hidden_dim: int) -> None:
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(latent_dim, hidden_dim), nn.ReLU(), nn.Linear(hidden_dim, 1))

    def forward(self, z: torch.Tensor, pairs: torch.Tensor) -> torch.Tensor:
        return self.mlp(z[pairs[0]] * z[pairs[1]]).squeeze(-1)


class GraphVAE(nn.Module):
    """Encoder + decoder. `forward` trains on a `GraphBatch`; `encode_eval` + `decode` score pairs."""

    def __init__(self, in_dim: int, cfg: GraphVAEModelConfig) -> None:
        super().__init__()
        self.encoder = Encoder(in_dim, cfg)
        self.decoder: nn.Module = (InnerProductDecoder() if cfg.decoder == "inner"
                                   else HadamardMLPDecoder(cfg.latent_dim, cfg.hidden_dim))

    def forward(self, batch) -> VGAEOutput:  # batch: data.GraphBatch (duck-typed to avoid a cycle)
        mu, logstd = self.encoder(batch.x, batch.edge_index)
        z = mu + torch.randn_like(mu) * torch.exp(logstd) if self.training else mu
        return VGAEOutput(pos_logits=self.decoder(z, batch.pos_edge), neg_logits=self.decoder(z, batch.neg_edge),
                          mu=mu, logstd=logstd)

    @torch.no_grad()
    def encode_eval(self, x: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
        """Node embeddings for evaluation and downstream use: mu, no sampling."""
        mu, _ = self.encoder(x, edge_index)
        return mu

    def decode(self, z: torch.Tensor, pairs: torch.Tensor) -> torch.Tensor:
        """Edge logits for `pairs` [2, k]."""
        return self.decoder(z, pairs)


def recon_loss(out: VGAEOutput) -> torch.Tensor:
    """-log sigmoid(pos) - log(1 - sigmoid(neg)), each averaged; softplus form is the stable one."""
    return nn.functional.softplus(-out.pos_logits).mean() + nn.functional.softplus(out.neg_logits).mean()


def kl_loss(out: VGAEOutput) -> torch.Tensor:
    """KL(q(z|x) || N(0, I)) per node, averaged over nodes (torch_geometric's `VGAE.kl_loss`)."""
    logstd = out.logstd
    return -0.5 * torch.mean(torch.sum(1 + 2 * logstd - out.mu**2 - logstd.exp() ** 2, dim=1))
