"""The benchmark SEM of the NOTEARS paper (Zheng et al. 2018, section 5.1), written as the CSV files a
user would give: an Erdős–Rényi DAG with `k * d` expected edges, weights uniform in ±[0.5, 2], and
linear Gaussian mechanisms with unit noise variance on every variable.

Equal noise variances make the DAG itself identifiable, not just its Markov equivalence class (Peters
& Bühlmann 2014); NOTEARS' least-squares score is exactly that model's likelihood, PC's tests do not
use it. The same property leaves the causal order readable from the marginal variances on the raw
scale ("varsortability", Reisach et al. 2021): `varsortability` measures it so that reports can say so.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def er_linear_sem(d: int, k: float, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(rows (n, d), true adjacency adj[i, j] = i -> j) of one random SEM, a pure function of its arguments."""
    rng = np.random.default_rng(seed)
    upper = np.triu(rng.random((d, d)) < 2 * k / (d - 1), 1)   # i -> j only for i < j: acyclic
    perm = rng.permutation(d)                                    # hide the order in the column order
    adj = upper[np.ix_(perm, perm)]
    weight = rng.uniform(0.5, 2.0, (d, d)) * rng.choice([-1.0, 1.0], (d, d)) * adj
    noise = rng.standard_normal((n, d))
    x = np.zeros((n, d))
    for j in np.argsort(perm):  # column j = original node perm[j]; original order is topological
        x[:, j] = x @ weight[:, j] + noise[:, j]
    return x, adj


def write_sem(folder: Path, d: int, k: float, n: int, seed: int) -> tuple[Path, Path, np.ndarray, np.ndarray]:
    """data.csv (header x0..x{d-1}) and graph.csv (cause,effect) in `folder`, plus the rows and the graph."""
    x, adj = er_linear_sem(d, k, n, seed)
    names = [f"x{i}" for i in range(d)]
    data, graph = folder / "data.csv", folder / "graph.csv"
    np.savetxt(data, x, delimiter=",", header=",".join(names), comments="", fmt="%.6f")
    graph.write_text("".join(f"{names[i]},{names[j]}\n" for i, j in zip(*np.nonzero(adj))))
    return data, graph, x, adj


def varsortability(x: np.ndarray, adj: np.ndarray) -> float:
    """Fraction of true edges whose effect has the larger marginal variance (0.5 = no signal, 1 = order readable)."""
    var = x.var(axis=0)
    causes, effects = np.nonzero(adj)
    return float(np.mean(var[effects] > var[causes]))
