"""Data loading: the bundled Sachs files, pgmpy networks, the planetary SCM, user CSVs, batches."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
import torch

from astrobio.components.causal.data import build_data
from astrobio.components.causal.scm import PlanetarySCM
from tests.components.causal.conftest import TIERS, chain_rows, make_cfg, write_csv

needs_cdt = pytest.mark.skipif(importlib.util.find_spec("cdt") is None, reason="cdt not installed")


@needs_cdt
def test_sachs_is_the_bundled_7466_by_11_table_with_its_consensus_graph():
    data = build_data(make_cfg(data={"source": "sachs"}), 0, 1, None)
    assert data.d == 11 and "praf" in data.names and "pjnk" in data.names
    assert sum(len(x) for x in data.x.values()) == 7466
    assert data.true_adj.sum() == 18  # cdt's consensus graph (cyto_full_target.csv)
    assert not data.cf  # no known counterfactuals on real data
    train = data.x["train"].double()
    assert torch.allclose(train.mean(0), torch.zeros(11, dtype=torch.float64), atol=1e-5)
    assert torch.allclose(train.std(0, unbiased=False), torch.ones(11, dtype=torch.float64), atol=1e-4)


def test_planetary_scm_is_deterministic_in_its_seed():
    scm = PlanetarySCM()
    assert np.array_equal(scm.sample(100, 3), scm.sample(100, 3))
    assert not np.array_equal(scm.sample(100, 3), scm.sample(100, 4))
    a = build_data(make_cfg(data={"n_samples": 300}), 0, 1, None)
    b = build_data(make_cfg(data={"n_samples": 300}), 0, 1, None)
    for split in ("train", "val", "test"):
        assert torch.equal(a.x[split], b.x[split])
    assert a.true_adj.sum() == 10 and a.d == 8
    assert set(a.cf) == {"val", "test"} and len(a.cf["val"].queries) == 2


def test_scm_true_graph_is_acyclic_and_matches_its_mechanisms():
    scm = PlanetarySCM()
    x = scm.sample(50, 0)
    for j in range(8):  # a mechanism ignores non-parents: perturbing them changes nothing
        others = ~scm.adjacency()[:, j]
        y = x.copy()
        y[:, others] += 1.0
        assert np.allclose(scm.mechanism(j, x), scm.mechanism(j, y))


def test_batches_are_deterministic_per_epoch_and_cover_the_training_rows():
    data = build_data(make_cfg(data={"n_samples": 200, "batch_size": 32}), 0, 1, None)
    first = [b["x"] for b in data.batches(0)]
    again = [b["x"] for b in data.batches(0)]
    other = [b["x"] for b in data.batches(1)]
    assert len(first) == len(data.x["train"]) // 32
    assert all(torch.equal(p, q) for p, q in zip(first, again))
    assert not torch.equal(first[0], other[0])
    full = build_data(make_cfg(data={"n_samples": 200}), 0, 1, None)
    (only,) = list(full.batches(5))
    assert torch.equal(only["x"], full.x["train"])


def test_user_csv_with_edge_list(tmp_path):
    csv = write_csv(tmp_path / "obs.csv", ["a", "b", "c"], chain_rows())
    graph = tmp_path / "g.csv"
    graph.write_text("cause,effect\na,b\nb,c\n")
    data = build_data(make_cfg(data={"source": str(csv), "graph": str(graph)}), 0, 1, None)
    assert data.names == ["a", "b", "c"] and sum(len(x) for x in data.x.values()) == 200
    assert data.true_adj.tolist() == [[False, True, False], [False, False, True], [False, False, False]]
    plain = build_data(make_cfg(data={"source": str(csv)}), 0, 1, None)
    assert plain.true_adj is None


def test_priors_become_masks():
    data = build_data(make_cfg(data={"n_samples": 100}, priors={
        "tiers": TIERS, "required_edges": ["volcanism->co2"], "forbidden_edges": [["o2", "ch4"]]}), 0, 1, None)
    i = {n: k for k, n in enumerate(data.names)}
    assert not data.allowed[i["surface_temperature"], i["stellar_flux"]]  # later tier -> earlier tier
    assert data.allowed[i["stellar_flux"], i["volcanism"]]  # within a tier: both ways
    assert data.required[i["volcanism"], i["co2"]] and not data.allowed[i["co2"], i["volcanism"]]
    assert not data.allowed[i["o2"], i["ch4"]] and data.allowed[i["ch4"], i["o2"]]


def test_pgmpy_gaussian_network_samples_offline():
    pytest.importorskip("pgmpy")
    data = build_data(make_cfg(data={"source": "pgmpy:ecoli70", "n_samples": 200}), 0, 1, None)
    assert data.d == 46 and data.true_adj.sum() == 70
    asia = build_data(make_cfg(data={"source": "pgmpy:asia", "n_samples": 3000}), 0, 1, None)
    assert asia.d == 8 and asia.true_adj.sum() == 8
    assert set(np.unique(np.concatenate(list(asia.raw.values())))) <= {0.0, 1.0}  # discrete states as codes
