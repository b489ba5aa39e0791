"""Graph bookkeeping on boolean adjacency matrices (adj[i, j] = edge i -> j): reading a DAG out of
learned weights, and scoring a graph against the truth.

Scores follow cdt's conventions so numbers are comparable with the literature: SHD counts each
unordered pair whose status differs once (a reversed edge is one error, not two), and precision/recall
are over adjacency entries, so a CPDAG's undirected edge (both entries set) is half right when the
true edge is directed.
"""

from __future__ import annotations

import numpy as np


def reachability(adj: np.ndarray) -> np.ndarray:
    """reach[i, j] = a directed path of length >= 1 leads from i to j (Warshall, O(d^3))."""
    reach = adj.astype(bool).copy()
    for k in range(reach.shape[0]):
        reach |= reach[:, k: k + 1] & reach[k: k + 1, :]
    return reach


def is_dag(adj: np.ndarray) -> bool:
    """No node reaches itself."""
    return not bool(np.diag(reachability(adj)).any())


def threshold_graph(strength: np.ndarray, threshold: float, required: np.ndarray | None = None) -> np.ndarray:
    """Edges whose weight magnitude reaches the threshold, plus the required ones; no self-loops."""
    adj = np.abs(strength) >= threshold
    if threshold <= 0:
        adj &= np.abs(strength) > 0
    if required is not None:
        adj |= required.astype(bool)
    np.fill_diagonal(adj, False)
    return adj


def project_to_dag(adj: np.ndarray, strength: np.ndarray, required: np.ndarray | None = None) -> np.ndarray:
    """Drop the weakest edge lying on a cycle until none is left.

    NOTEARS' penalty only drives h(W) towards zero, so a thresholded graph read early in training can
    still hold a cycle; the read-out must be a DAG for SHD and counterfactuals to mean anything.
    Required edges are dropped only if nothing else breaks the cycle.
    """
    adj = adj.astype(bool).copy()
    keep = np.zeros_like(adj) if required is None else required.astype(bool)
    magnitude = np.abs(strength)
    while True:
        reach = reachability(adj)
        on_cycle = adj & reach.T  # i -> j and j reaches i
        if not on_cycle.any():
            return adj
        candidates = on_cycle & ~keep
        if not candidates.any():
            candidates = on_cycle
        masked = np.where(candidates, magnitude, np.inf)
        i, j = np.unravel_index(int(np.argmin(masked)), masked.shape)
        adj[i, j] = False


def shd(pred: np.ndarray, true: np.ndarray) -> int:
    """Structural Hamming distance: pairs that are missing, extra or differently oriented."""
    diff = np.abs(pred.astype(int) - true.astype(int))
    pair = (diff + diff.T) > 0
    return int(np.triu(pair, 1).sum())


def precision_recall(pred: np.ndarray, true: np.ndarray) -> tuple[float, float]:
    """Over adjacency entries; an empty prediction scores precision 0 (as sklearn does), not 1."""
    pred, true = pred.astype(bool), true.astype(bool)
    hits = float((pred & true).sum())
    precision = hits / pred.sum() if pred.any() else 0.0
    recall = hits / true.sum() if true.any() else 0.0
    return float(precision), float(recall)


def num_edges(adj: np.ndarray) -> int:
    """Edges of a DAG or CPDAG: an undirected edge (both entries) counts once."""
    a = adj.astype(bool)
    return int(np.triu(a | a.T, 1).sum())
