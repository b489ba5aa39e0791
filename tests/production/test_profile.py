"""astrobio.production.profile: the Linear layers' share of a forward bounds dynamic int8's speedup,
and the note names what takes the rest (issue #19 item 6)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from astrobio.production.profile import LINEAR_OPS, ForwardProfile, profile_forward
from astrobio.production.quantize import quantize_int8


class LinearThenScatter(nn.Module):
    """A Linear layer followed by work int8 cannot touch (a scatter-add, like message passing)."""

    def __init__(self, width: int, edges: int) -> None:
        super().__init__()
        self.lin = nn.Linear(width, width)
        self.index = torch.randint(0, 64, (edges,))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.lin(x)
        out = torch.zeros(64, h.shape[1])
        for _ in range(4):
            out = out.index_add(0, self.index, h[self.index % h.shape[0]])
        return out


def test_a_linear_only_model_is_mostly_linear_and_a_scatter_heavy_one_is_not():
    torch.manual_seed(0)
    x = torch.randn(256, 256)
    only = nn.Sequential(nn.Linear(256, 256), nn.Linear(256, 256))
    heavy = LinearThenScatter(256, 20000)
    p_only = profile_forward(only, lambda: only(x), repeats=5)
    p_heavy = profile_forward(heavy, lambda: heavy(x), repeats=5)
    assert p_only.linear_share > 0.6 > p_heavy.linear_share > 0.0
    assert p_heavy.int8_bound == pytest.approx(1 / (1 - p_heavy.linear_share))
    assert p_heavy.rest and all(op not in LINEAR_OPS for op, _ in p_heavy.rest)
    assert p_heavy.rest[0][1] > 0.2  # the scatter/gather dominates what is left
    assert f"{p_heavy.int8_bound:.2f}x" in p_heavy.why() and p_heavy.rest[0][0] in p_heavy.why()


def test_quantised_linear_layers_are_timed_too_and_no_linear_means_share_zero():
    x = torch.randn(128, 256)
    int8, _ = quantize_int8(nn.Sequential(nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 256)))
    assert profile_forward(int8, lambda: int8(x), repeats=5).linear_share > 0.3
    relu = nn.ReLU()
    assert profile_forward(relu, lambda: relu(x), repeats=5).linear_share == 0.0
    assert ForwardProfile(1.0, 0.0).int8_bound == 1.0


def test_torch_geometric_linear_layers_count_as_linear():
    """graph_vae's GCN layers use torch_geometric's own Linear (quantize.py swaps it for nn.Linear):
    before this was counted, graph_vae's profile said 0% Linear."""
    from torch_geometric.nn.dense.linear import Linear as PygLinear

    model = nn.Sequential(PygLinear(256, 256), nn.ReLU(), PygLinear(256, 256))
    x = torch.randn(128, 256)
    assert profile_forward(model, lambda: model(x), repeats=5).linear_share > 0.3
