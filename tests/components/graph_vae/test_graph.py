"""Graph construction invariants on real models."""

from __future__ import annotations

import torch

from astrobio.components.graph_vae.features import CHEMISTRY_DIM, chemistry_features
from astrobio.components.graph_vae.graph import base_id, build_graph, to_message_passing
from astrobio.components.graph_vae.config import DEFAULT_CURRENCY

CURRENCY = set(DEFAULT_CURRENCY)


def _check_simple_undirected(edges: torch.Tensor, num_nodes: int) -> None:
    assert edges.dtype == torch.long and edges.shape[0] == 2
    assert bool((edges[0] < edges[1]).all()), "each undirected edge once, as u < v (so no self loops)"
    assert len({tuple(e) for e in edges.t().tolist()}) == edges.shape[1], "no duplicate edges"
    assert int(edges.max()) < num_nodes


def test_metabolite_graph_is_simple_and_undirected(ijo):
    g = build_graph([ijo], "metabolite", CURRENCY)
    _check_simple_undirected(g.edges, g.num_nodes)
    assert not bool(g.is_reaction.any())
    degree = torch.bincount(g.edges.reshape(-1), minlength=g.num_nodes)
    assert bool((degree > 0).all()), "isolated nodes are dropped"
    mp = to_message_passing(g.edges)
    assert {tuple(e) for e in mp.t().tolist()} == {(v, u) for u, v in mp.t().tolist()}


def test_edges_are_exactly_the_substrate_product_pairs(textbook):
    g = build_graph([textbook], "metabolite", None)
    index = {name.split(":", 1)[1]: i for i, name in enumerate(g.names)}
    expected = set()
    for rxn in textbook.model.reactions:
        for s, cs in rxn.metabolites.items():
            for p, cp in rxn.metabolites.items():
                if cs < 0 < cp and s.id != p.id:
                    a, b = index[s.id], index[p.id]
                    expected.add((min(a, b), max(a, b)))
    assert {tuple(e) for e in g.edges.t().tolist()} == expected
    a, b = sorted((index["3pg_c"], index["13dpg_c"]))  # PGK: 3pg + atp <=> 13dpg + adp
    assert (a, b) in expected


def test_dropping_currency_removes_them_and_reduces_edges(ijo):
    full = build_graph([ijo], "metabolite", None)
    lean = build_graph([ijo], "metabolite", CURRENCY)
    assert lean.num_edges < full.num_edges / 1.5
    assert not {base_id(o) for o in lean.objects} & CURRENCY
    assert {"atp", "h2o", "nadh"} <= {base_id(o) for o in full.objects}


def test_base_id_strips_the_compartment(textbook):
    mets = {m.id: m for m in textbook.model.metabolites}
    assert base_id(mets["atp_c"]) == "atp" and base_id(mets["h2o_e"]) == "h2o" and base_id(mets["13dpg_c"]) == "13dpg"


def test_bipartite_graph_is_bipartite(textbook):
    g = build_graph([textbook], "bipartite", CURRENCY)
    _check_simple_undirected(g.edges, g.num_nodes)
    sides = g.is_reaction[g.edges]
    assert bool((sides[0] != sides[1]).all()), "every edge joins a metabolite and a reaction"
    assert bool(g.is_reaction.any()) and bool((~g.is_reaction).any())


def test_several_sources_are_a_disjoint_union(textbook, mini):
    a = build_graph([textbook], "metabolite", CURRENCY)
    b = build_graph([mini], "metabolite", CURRENCY)
    both = build_graph([textbook, mini], "metabolite", CURRENCY)
    assert both.num_nodes == a.num_nodes + b.num_nodes and both.num_edges == a.num_edges + b.num_edges
    src = both.source_index[both.edges]
    assert bool((src[0] == src[1]).all()), "no edge crosses sources"
    assert len(set(both.names)) == both.num_nodes


def test_chemistry_features_use_training_degree_only(textbook):
    g = build_graph([textbook], "metabolite", CURRENCY)
    x_full = chemistry_features(g, g.edges)
    x_less = chemistry_features(g, g.edges[:, 1:])
    assert x_full.shape == (g.num_nodes, CHEMISTRY_DIM)
    changed = (x_full != x_less).any(dim=0).nonzero().view(-1).tolist()
    assert changed == [CHEMISTRY_DIM - 1], "only the degree column depends on the edges given"
    assert torch.isfinite(x_full).all()
