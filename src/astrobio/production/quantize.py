"""Dynamic int8 quantisation of Linear layers, on CPU, with no extra package.

Why `torch.ao.quantization.quantize_dynamic`: it is the one int8 path in the CPU torch wheel (torch
2.13 marks `torch.ao.quantization` deprecated in favour of torchao's `quantize_`, but torchao is not
a dependency and the eager dynamic path still works; the deprecation is recorded in each report).
Dynamic quantisation stores Linear weights as int8 and quantises activations per call, so it
needs no calibration data and applies to any model whose time goes into Linear layers.

torch-geometric's layers use their own `Linear`, which is not an `nn.Linear`; it computes the
same `F.linear`, so it is swapped for an `nn.Linear` sharing its parameters before quantising.
Without that swap a graph network would quantise nothing.
"""

from __future__ import annotations

import copy
import importlib
import time
import warnings
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
from torch import nn

DEPRECATION_NOTE = ("torch.ao.quantization.quantize_dynamic is deprecated in torch>=2.10 (torchao's "
                    "quantize_ replaces it); used here because torchao is not installed")


@dataclass
class QuantizeRecord:
    """Whether int8 applied, to how many Linear layers, and if not, why not."""

    applied: bool
    linear_layers: int = 0
    swapped_pyg_linear: int = 0
    seconds: float = 0.0
    reason: str | None = None
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def pyg_linear_class() -> type | None:
    """torch_geometric's Linear, if torch_geometric is installed (it is optional for most components)."""
    try:
        return importlib.import_module("torch_geometric.nn.dense.linear").Linear
    except ImportError:
        return None


def swap_pyg_linear(model: nn.Module) -> int:
    """Replace every initialised torch_geometric Linear in `model` with an nn.Linear sharing its
    parameters (in place); returns how many were swapped. Lazy (uninitialised) ones are left."""
    cls = pyg_linear_class()
    if cls is None:
        return 0
    swapped = 0
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if not isinstance(child, cls) or child.in_channels <= 0:
                continue
            linear = nn.Linear(child.in_channels, child.out_channels, bias=child.bias is not None)
            linear.weight = child.weight
            if child.bias is not None:
                linear.bias = child.bias
            setattr(parent, name, linear)
            swapped += 1
    return swapped


def count_linear(model: nn.Module) -> int:
    """Float nn.Linear layers (what dynamic quantisation replaces)."""
    return sum(1 for m in model.modules() if type(m) is nn.Linear)


def count_quantized(model: nn.Module) -> int:
    """Dynamically quantised Linear layers (their class is also called `Linear`, in a quantized module)."""
    return sum(1 for m in model.modules() if ".quantized." in type(m).__module__ and type(m).__name__ == "Linear")


def _anchor_device(model: nn.Module) -> None:
    """Components find their device with `next(model.parameters())`; a model whose every weight was
    quantised has no parameters left, so give it an empty one (no memory, no effect on outputs)."""
    if next(model.parameters(), None) is None:
        model.register_parameter("_device_anchor", nn.Parameter(torch.zeros(0), requires_grad=False))


def quantize_int8(model: nn.Module) -> tuple[nn.Module | None, QuantizeRecord]:
    """An int8 copy of `model` (the original is untouched), or None with the reason it does not apply."""
    start = time.perf_counter()
    work = copy.deepcopy(model).cpu().eval()
    swapped = swap_pyg_linear(work)
    linear = count_linear(work)
    if linear == 0:
        return None, QuantizeRecord(applied=False, reason="no nn.Linear layers: dynamic int8 does not apply")
    notes = [DEPRECATION_NOTE]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        quantized = torch.ao.quantization.quantize_dynamic(work, {nn.Linear}, dtype=torch.qint8, inplace=True)
    notes += sorted({str(w.message).splitlines()[0][:200] for w in caught if "deprecated" not in str(w.message)})
    _anchor_device(quantized)
    done = count_quantized(quantized)
    if done == 0:
        return None, QuantizeRecord(applied=False, linear_layers=linear, reason="quantize_dynamic replaced no layer")
    return quantized, QuantizeRecord(applied=True, linear_layers=done, swapped_pyg_linear=swapped,
                                     seconds=round(time.perf_counter() - start, 3), notes=notes)
