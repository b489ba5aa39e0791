"""The graph the GCN layers pass messages over: normalised once per forward, sparse at inference.

Why: PyG's GCNConv, left to normalise, rebuilds D^-1/2 (A + I) D^-1/2 in every layer (self-loops,
degrees), then gathers each edge's message into an E x d tensor and scatter-adds it back. On the
CPU that was most of an inference call (the release's profile: index, scatter_add, mul and fill
took 60-75% at the benchmark's sizes), so dynamic int8, which speeds up only the Linear layers,
could not beat fp32 by much. Here the encoder normalises once, with PyG's own `gcn_norm`, and its
GCN layers are built with `normalize=False`:
- training (autograd on) keeps the edge list, so gradients, deterministic algorithms and DDP are
  what they were, and the numbers are the same as the per-layer normalisation gave;
- inference on the CPU (eval mode, grad off, no autocast) turns it into a sparse CSR matrix (rows are targets), and each
  layer sums its messages with one sparse-dense product instead of gather + scatter: the same sums
  in another order, ~1e-7 apart. `GCNLayer` runs that product with torch.sparse.mm's CSR reduce
  kernel: PyG's `spmm` sends a "sum" through torch's generic sparse addmm, which zero-fills and
  copies its output and was ~10x slower at 512 columns on the benchmark's CPU; and with no
  autograd, the bias and the ReLU after it are applied in place;
- torch.export and TorchScript tracing keep the edge list: neither takes sparse tensors.
`InferenceGraphMemo` keeps the last inference adjacency: a model that scores pairs on one graph
again and again (a server, the release's latency loop) builds it once; the sort and the checks
were ~10% of a call.
"""

from __future__ import annotations

import threading
import warnings

import torch
from torch import nn
from torch_geometric.nn import GCNConv
from torch_geometric.nn.conv.gcn_conv import gcn_norm
from torch_geometric.typing import Adj
from torch_geometric.index import index2ptr
from torch_geometric.utils import coalesce


class GCNLayer(GCNConv):
    """PyG's GCNConv; over a CPU CSR adjacency it is `A @ lin(x) + bias` with torch.sparse.mm's
    reduce kernel, the bias added in place into the product's fresh output."""

    def forward(self, x: torch.Tensor, edge_index: Adj, edge_weight: torch.Tensor | None = None) -> torch.Tensor:
        if not (isinstance(edge_index, torch.Tensor) and edge_index.layout == torch.sparse_csr
                and edge_index.device.type == "cpu" and not self.normalize):
            return super().forward(x, edge_index, edge_weight)
        out = torch.sparse.mm(edge_index, self.lin(x), "sum")
        return out.add_(self.bias) if self.bias is not None else out


_CSR_WARNING_LOCK = threading.Lock()
"""Serialises the one-line warning filter around a CSR build (`warnings.catch_warnings` is not thread-safe)."""


def sparse_inference(module: nn.Module, x: torch.Tensor) -> bool:
    """Whether `module` runs as plain eager inference on the CPU: eval mode, no autograd, nothing
    tracing it, no autocast (a bf16 product would meet the fp32 adjacency). Elsewhere (a GPU) the
    edge list stays: the sparse path is measured on the CPU only."""
    return x.device.type == "cpu" and not (
        module.training or torch.is_grad_enabled() or torch.is_autocast_enabled("cpu") or torch.jit.is_tracing()
        or torch.compiler.is_compiling() or torch.compiler.is_exporting())


def gcn_message_graph(conv: GCNConv, x: torch.Tensor, edge_index: torch.Tensor,
                      sparse: bool) -> tuple[torch.Tensor, ...]:
    """The arguments after `x` for every GCN layer of one forward: (edge_index, edge_weight) with
    self-loops and symmetric normalisation, or that as one CSR adjacency (target x source) when `sparse`."""
    num_nodes = x.size(0)
    edges, weights = gcn_norm(edge_index, None, num_nodes, conv.improved, True, conv.flow, x.dtype)
    if not sparse:
        return edges, weights
    targets_first, weights = coalesce(edges.flip(0), weights, num_nodes)  # sorted rows, duplicates summed
    with _CSR_WARNING_LOCK, warnings.catch_warnings():  # catch_warnings swaps process-wide filters
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta state")  # once, nothing to act on
        return (torch.sparse_csr_tensor(index2ptr(targets_first[0], num_nodes), targets_first[1], weights,
                                        (num_nodes, num_nodes), check_invariants=True),)


class InferenceGraphMemo:
    """The last sparse inference graph and what it was built from.

    Matched by content (`torch.equal` on the edge list, a few microseconds at the benchmark's
    sizes, against the build's sort), never by tensor identity: another graph written into the
    same memory must not get the old adjacency. One tuple is swapped in at a time, so concurrent
    callers see an old or a new entry, never half of each.
    """

    def __init__(self) -> None:
        self._entry: tuple[torch.Tensor, int, torch.dtype, tuple[torch.Tensor, ...]] | None = None

    def __deepcopy__(self, memo: dict[int, object]) -> InferenceGraphMemo:
        return InferenceGraphMemo()  # a copied model (quantisation copies) rebuilds; sparse tensors cannot be deep-copied

    def __getstate__(self) -> dict[str, object]:
        return {"_entry": None}  # nor pickled: torch.save of a whole model carries no cache

    def get(self, conv: GCNConv, x: torch.Tensor, edge_index: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """`gcn_message_graph(conv, x, edge_index, sparse=True)`, rebuilt only when the graph changed."""
        entry = self._entry
        if (entry is not None and entry[1] == x.size(0) and entry[2] == x.dtype and entry[0].shape == edge_index.shape
                and entry[0].device == edge_index.device and torch.equal(entry[0], edge_index)):
            return entry[3]
        graph = gcn_message_graph(conv, x, edge_index, sparse=True)
        self._entry = (edge_index.clone(), x.size(0), x.dtype, graph)
        return graph
