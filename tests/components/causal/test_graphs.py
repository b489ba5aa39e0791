"""Graph read-out, scores, and the PC baseline."""

from __future__ import annotations

import numpy as np

from astrobio.components.causal.baselines import pc_algorithm
from astrobio.components.causal.graphs import is_dag, num_edges, precision_recall, project_to_dag, shd, threshold_graph


def test_scores_follow_cdt_conventions():
    true = np.zeros((3, 3), dtype=bool)
    true[0, 1] = true[1, 2] = True
    reversed_one = np.zeros_like(true)
    reversed_one[1, 0] = reversed_one[1, 2] = True
    assert shd(true, true) == 0 and shd(reversed_one, true) == 1 and shd(np.zeros_like(true), true) == 2
    assert precision_recall(reversed_one, true) == (0.5, 0.5)
    undirected = true | true.T
    assert shd(undirected, true) == 2 and num_edges(undirected) == 2
    assert precision_recall(undirected, true) == (0.5, 1.0)


def test_threshold_then_projection_gives_a_dag_dropping_the_weakest_cycle_edge():
    w = np.array([[0.0, 0.9, 0.0], [0.0, 0.0, 0.8], [0.4, 0.1, 0.0]])
    raw = threshold_graph(w, 0.3)
    assert not is_dag(raw)
    dag = project_to_dag(raw, w)
    assert is_dag(dag) and not dag[2, 0] and dag[0, 1] and dag[1, 2]
    keep = np.zeros_like(raw)
    keep[2, 0] = True  # a required edge survives; the next weakest goes
    dag = project_to_dag(raw, w, keep)
    assert dag[2, 0] and not dag[1, 2]


def test_pc_finds_a_collider_and_propagates_orientation():
    rng = np.random.default_rng(0)
    n = 3000
    a, b = rng.standard_normal(n), rng.standard_normal(n)
    c = a + b + 0.5 * rng.standard_normal(n)      # a -> c <- b
    e = 0.8 * c + 0.5 * rng.standard_normal(n)    # c -> e (Meek R1)
    g = pc_algorithm(np.stack([a, b, c, e], axis=1), alpha=0.01, max_cond=None)
    true = np.zeros((4, 4), dtype=bool)
    true[0, 2] = true[1, 2] = true[2, 3] = True
    assert np.array_equal(g, true)


def test_pc_uses_background_knowledge():
    rng = np.random.default_rng(1)
    a = rng.standard_normal(2000)
    b = 0.9 * a + 0.4 * rng.standard_normal(2000)
    x = np.stack([a, b], axis=1)
    assert pc_algorithm(x).sum() == 2  # one undirected edge: orientation is not identifiable
    allowed = np.array([[False, True], [False, False]])
    assert pc_algorithm(x, allowed=allowed).tolist() == [[False, True], [False, False]]
