"""Turn cobra models into one undirected graph: metabolite-metabolite or metabolite-reaction.

Several sources become one disjoint union (node names carry the source), so a model trained on
E. coli and Salmonella together never links a metabolite of one to the other. Nodes left without
any edge are dropped: they can never be a positive, and as negatives they would be trivially easy
(degree zero), which flatters every method on the held-out split.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

import torch

from astrobio.components.graph_vae.sbml import LoadedModel
from astrobio.errors import UsageError

_SUFFIX = re.compile(r"^(.+)_([A-Za-z0-9]{1,2})$")


@dataclass(frozen=True)
class MetabolicGraph:
    """Nodes (metabolites, and reactions for a bipartite graph) and unique undirected edges u < v."""

    names: list[str]            # "<source>:<cobra id>", unique across sources
    is_reaction: torch.Tensor   # bool [num_nodes]
    source_index: torch.Tensor  # long [num_nodes], position of the node's source in cfg.data.sources
    objects: list[Any]          # the cobra Metabolite / Reaction of each node, for features
    edges: torch.Tensor         # long [2, num_edges], each undirected edge once, row 0 < row 1
    kind: Literal["metabolite", "bipartite"]

    @property
    def num_nodes(self) -> int:
        return len(self.names)

    @property
    def num_edges(self) -> int:
        return int(self.edges.shape[1])


def base_id(metabolite: Any) -> str:
    """BiGG id without the compartment suffix (atp_c -> atp), lower-cased for matching."""
    mid: str = metabolite.id
    comp = getattr(metabolite, "compartment", None)
    if comp and mid.endswith("_" + comp):
        return mid[: -len(comp) - 1].lower()
    match = _SUFFIX.match(mid)
    return (match.group(1) if match else mid).lower()


def _metabolite_pairs(reaction: Any, keep: dict[str, int]) -> list[tuple[int, int]]:
    """Substrate -> product links of one reaction, as node index pairs (direction dropped)."""
    subs = [keep[m.id] for m, c in reaction.metabolites.items() if c < 0 and m.id in keep]
    prods = [keep[m.id] for m, c in reaction.metabolites.items() if c > 0 and m.id in keep]
    return [(s, p) for s in subs for p in prods if s != p]


def _unique_undirected(pairs: list[tuple[int, int]]) -> torch.Tensor:
    """[2, E] with u < v, duplicates and self loops removed, sorted for determinism."""
    if not pairs:
        return torch.empty(2, 0, dtype=torch.long)
    e = torch.tensor(pairs, dtype=torch.long).t()
    u, v = torch.minimum(e[0], e[1]), torch.maximum(e[0], e[1])
    mask = u != v
    return torch.unique(torch.stack([u[mask], v[mask]]), dim=1)


def build_graph(models: list[LoadedModel], kind: Literal["metabolite", "bipartite"],
                currency: set[str] | None) -> MetabolicGraph:
    """One disjoint-union graph over all loaded models; `currency` = base ids to drop (None = keep all)."""
    names: list[str] = []
    objects: list[Any] = []
    is_reaction: list[bool] = []
    source_index: list[int] = []
    pairs: list[tuple[int, int]] = []
    drop = {c.lower() for c in currency} if currency else set()
    for si, loaded in enumerate(models):
        keep: dict[str, int] = {}
        for met in loaded.model.metabolites:
            if base_id(met) in drop:
                continue
            keep[met.id] = len(names)
            names.append(f"{loaded.source}:{met.id}")
            objects.append(met)
            is_reaction.append(False)
            source_index.append(si)
        for rxn in loaded.model.reactions:
            if kind == "metabolite":
                pairs.extend(_metabolite_pairs(rxn, keep))
                continue
            mets = [keep[m.id] for m in rxn.metabolites if m.id in keep]
            if not mets:
                continue
            r = len(names)
            names.append(f"{loaded.source}:{rxn.id}")
            objects.append(rxn)
            is_reaction.append(True)
            source_index.append(si)
            pairs.extend((m, r) for m in mets)
    edges = _unique_undirected(pairs)
    if edges.shape[1] == 0:
        sources = ", ".join(m.source for m in models)
        raise UsageError(f"SBML sources {sources}: no {kind} edges remain (after dropping currency metabolites); expected a model with reactions linking metabolites")
    return _drop_isolated(MetabolicGraph(
        names=names, is_reaction=torch.tensor(is_reaction, dtype=torch.bool),
        source_index=torch.tensor(source_index, dtype=torch.long), objects=objects, edges=edges, kind=kind,
    ))


def _drop_isolated(graph: MetabolicGraph) -> MetabolicGraph:
    """Keep only nodes touched by an edge, renumbering edges to the kept nodes."""
    used = torch.zeros(graph.num_nodes, dtype=torch.bool)
    used[graph.edges.reshape(-1)] = True
    if bool(used.all()):
        return graph
    new_index = torch.full((graph.num_nodes,), -1, dtype=torch.long)
    kept = used.nonzero().view(-1)
    new_index[kept] = torch.arange(kept.numel())
    keep_list = kept.tolist()
    return MetabolicGraph(
        names=[graph.names[i] for i in keep_list], is_reaction=graph.is_reaction[kept],
        source_index=graph.source_index[kept], objects=[graph.objects[i] for i in keep_list],
        edges=new_index[graph.edges], kind=graph.kind,
    )


def to_message_passing(edges: torch.Tensor) -> torch.Tensor:
    """Undirected u<v edges -> both directions, the form torch-geometric layers aggregate over."""
    return torch.cat([edges, edges.flip(0)], dim=1)
