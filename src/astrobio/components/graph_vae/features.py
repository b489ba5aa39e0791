"""Node features: what a metabolite is chemically, where it lives, and how connected it is.

The vocabularies are fixed (not taken from the data), so the feature width, and with it the
encoder's weight shapes, is the same for every model file: weights trained on iJO1366 load onto a
graph built from a user's own SBML. Degree is counted on training edges only; counting held-out
edges would leak the answer into the input.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from astrobio.components.graph_vae.graph import MetabolicGraph

ELEMENTS: tuple[str, ...] = (
    "C", "H", "N", "O", "P", "S", "Fe", "Co", "Cu", "Mo", "Se", "Mg", "Mn", "Zn", "Ni", "W",
    "Na", "K", "Ca", "Cl",
)
GENERIC_ELEMENTS: frozenset[str] = frozenset({"R", "X"})  # BiGG placeholders for side chains
COMPARTMENTS: tuple[str, ...] = ("c", "e", "p", "m", "x", "r", "v", "n", "g", "l", "h", "u")

# column layout: elements | generic | other element | has formula | compartments | other compartment
#                | charge | is reaction | log degree
CHEMISTRY_DIM = len(ELEMENTS) + 3 + len(COMPARTMENTS) + 1 + 3
_EL0 = 0
_GENERIC = len(ELEMENTS)
_OTHER_EL = _GENERIC + 1
_HAS_FORMULA = _OTHER_EL + 1
_COMP0 = _HAS_FORMULA + 1
_OTHER_COMP = _COMP0 + len(COMPARTMENTS)
_CHARGE = _OTHER_COMP + 1
_IS_REACTION = _CHARGE + 1
_DEGREE = _IS_REACTION + 1
assert _DEGREE + 1 == CHEMISTRY_DIM


def _elements(metabolite: Any) -> dict[str, float]:
    """Element counts of a metabolite; an unparsable or missing formula counts as none."""
    if not getattr(metabolite, "formula", None):
        return {}
    try:
        return {k: float(v) for k, v in metabolite.elements.items()}
    except (ValueError, TypeError, AttributeError):
        return {}


def _compartment_column(comp: str | None) -> int:
    return _COMP0 + COMPARTMENTS.index(comp) if comp in COMPARTMENTS else _OTHER_COMP


def _metabolite_row(row: torch.Tensor, met: Any) -> None:
    counts = _elements(met)
    for element, n in counts.items():
        if element in ELEMENTS:
            col = _EL0 + ELEMENTS.index(element)
        elif element in GENERIC_ELEMENTS:
            col = _GENERIC
        else:
            col = _OTHER_EL
        row[col] += max(n, 0.0)
    row[_EL0:_HAS_FORMULA] = torch.log1p(row[_EL0:_HAS_FORMULA])  # counts span 1..100+: compress
    row[_HAS_FORMULA] = 1.0 if counts else 0.0
    row[_compartment_column(getattr(met, "compartment", None))] = 1.0
    charge = getattr(met, "charge", None)
    if isinstance(charge, (int, float)) and math.isfinite(charge):
        row[_CHARGE] = math.copysign(math.log1p(abs(charge)), charge)


def _reaction_row(row: torch.Tensor, rxn: Any) -> None:
    """A reaction has no formula: it is marked as a reaction and spans its metabolites' compartments."""
    row[_IS_REACTION] = 1.0
    for met in rxn.metabolites:
        row[_compartment_column(getattr(met, "compartment", None))] = 1.0


def chemistry_features(graph: MetabolicGraph, train_edges: torch.Tensor) -> torch.Tensor:
    """[num_nodes, CHEMISTRY_DIM] float features; degree from `train_edges` (u<v pairs) only."""
    x = torch.zeros(graph.num_nodes, CHEMISTRY_DIM)
    for i, obj in enumerate(graph.objects):
        if bool(graph.is_reaction[i]):
            _reaction_row(x[i], obj)
        else:
            _metabolite_row(x[i], obj)
    degree = torch.bincount(train_edges.reshape(-1), minlength=graph.num_nodes).float()
    x[:, _DEGREE] = torch.log1p(degree)
    return x


def identity_features(num_nodes: int) -> torch.Tensor:
    """One-hot node ids: the first layer then learns a free embedding per node (transductive)."""
    return torch.eye(num_nodes)


def build_features(kind: str, graph: MetabolicGraph, train_edges: torch.Tensor) -> torch.Tensor:
    """Features by config name (`data.features`)."""
    if kind == "chemistry":
        return chemistry_features(graph, train_edges)
    if kind == "identity":
        return identity_features(graph.num_nodes)
    raise ValueError(f"unknown features '{kind}'")
