"""Batches and outputs as flat tuples of tensors, so any component's forward can be exported.

Components take whatever batch suits them (a frozen dataclass for graph_vae, a dict for causal) and
return a dataclass or dict. `torch.export` and TorchScript accept only pytrees of tensors, and
registering every component's types as pytree nodes would couple this package to each of them.
Instead `flatten` walks a batch once, and `FlatForward` rebuilds it from positional tensors inside
the traced call; the exported program therefore takes and returns plain tensors, which any
serving runtime can feed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

Rebuild = Callable[[list[torch.Tensor]], Any]

CONSTANTS = (int, float, bool, str, bytes, type(None), torch.dtype, torch.device)


class NotFlattenable(TypeError):
    """A batch or output holds an object that is neither a tensor, a known container nor a constant."""


def _flatten_items(keys: list[Any], values: list[Any],
                   build: Callable[[dict[Any, Any]], Any]) -> tuple[list[torch.Tensor], Rebuild]:
    """Flatten each value, and rebuild by slicing the leaves back per key, in order."""
    parts = [flatten(v) for v in values]
    sizes = [len(leaves) for leaves, _ in parts]

    def rebuild(leaves: list[torch.Tensor]) -> Any:
        out, i = {}, 0
        for key, (_, sub), size in zip(keys, parts, sizes):
            out[key] = sub(leaves[i:i + size])
            i += size
        return build(out)

    return [t for leaves, _ in parts for t in leaves], rebuild


def flatten(obj: Any) -> tuple[list[torch.Tensor], Rebuild]:
    """(tensor leaves in a fixed order, function that rebuilds an equal object from new leaves).

    Handles tensors, dataclasses, dicts, lists, tuples and namedtuples; constants pass through.
    Anything else raises NotFlattenable: silently treating it as a constant would bake its tensors
    into an exported program, which would then ignore its inputs.
    """
    if isinstance(obj, torch.Tensor):
        return [obj], lambda leaves: leaves[0]
    if isinstance(obj, CONSTANTS):
        return [], lambda leaves: obj
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        names = [f.name for f in dataclasses.fields(obj) if f.init]
        return _flatten_items(names, [getattr(obj, n) for n in names], lambda kw: dataclasses.replace(obj, **kw))
    if isinstance(obj, dict):
        keys = list(obj)
        return _flatten_items(keys, [obj[k] for k in keys], lambda kw: type(obj)(kw) if type(obj) is not dict else kw)
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):
        names = list(obj._fields)
        return _flatten_items(names, list(obj), lambda kw: type(obj)(**kw))
    if isinstance(obj, (list, tuple)):
        idx = list(range(len(obj)))
        return _flatten_items(idx, list(obj), lambda kw: type(obj)(kw[i] for i in idx))
    raise NotFlattenable(f"cannot flatten a {type(obj).__module__}.{type(obj).__qualname__} into tensors")


class FlatForward(nn.Module):
    """`forward(*tensors) -> tuple[tensors]`: rebuilds the component's batch, runs its model, and
    flattens what it returns. The model is a submodule, so its parameters are the program's."""

    def __init__(self, model: nn.Module, rebuild: Rebuild) -> None:
        super().__init__()
        self.model = model
        self._rebuild = rebuild

    def forward(self, *tensors: torch.Tensor) -> tuple[torch.Tensor, ...]:
        out = self.model(self._rebuild(list(tensors)))
        return tuple(flatten(out)[0])


def flat_forward(model: nn.Module, batch: Any) -> tuple[FlatForward, tuple[torch.Tensor, ...]]:
    """The wrapper and the example inputs (the batch's leaves) for export and latency runs."""
    leaves, rebuild = flatten(batch)
    if not leaves:
        raise NotFlattenable(f"the batch ({type(batch).__name__}) holds no tensors")
    return FlatForward(model, rebuild).eval(), tuple(leaves)
