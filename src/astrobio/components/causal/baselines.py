"""Baselines the learned graph must beat: the PC algorithm and the empty graph.

PC (Spirtes & Glymour) is the classic constraint-based learner: remove an edge when some set of
neighbours makes its endpoints conditionally independent, orient colliders, then apply Meek's rules.
It is written here in numpy (Fisher-z partial-correlation tests, the order-independent "stable"
variant) rather than taken from causal-learn, to keep the image small; with d <= ~100 variables and a
bounded conditioning set it runs in well under a second. Its output is a CPDAG: an undirected edge is
stored as both entries of the adjacency matrix.
"""

from __future__ import annotations

import math
from itertools import combinations
from typing import Any

import numpy as np


def fisher_z_pvalue(corr: np.ndarray, n: int, i: int, j: int, cond: tuple[int, ...]) -> float:
    """p-value of 'x_i independent of x_j given x_cond' under Gaussianity (partial correlation)."""
    idx = [i, j, *cond]
    prec = np.linalg.pinv(corr[np.ix_(idx, idx)])
    denom = math.sqrt(abs(prec[0, 0] * prec[1, 1])) or 1e-300
    r = float(np.clip(-prec[0, 1] / denom, -0.9999999, 0.9999999))
    dof = n - len(cond) - 3
    if dof <= 0:
        return 1.0
    z = 0.5 * math.log((1 + r) / (1 - r)) * math.sqrt(dof)
    return math.erfc(abs(z) / math.sqrt(2.0))


def pc_skeleton(x: np.ndarray, alpha: float, max_cond: int | None,
                start: np.ndarray | None = None) -> tuple[np.ndarray, dict[tuple[int, int], set[int]]]:
    """Undirected skeleton and the separating set of every removed pair (PC-stable), starting from
    the complete graph or from `start` (pairs that background knowledge allows in some direction)."""
    n, d = x.shape
    corr = np.corrcoef(x, rowvar=False)
    adj = ~np.eye(d, dtype=bool) if start is None else (start | start.T) & ~np.eye(d, dtype=bool)
    sepset: dict[tuple[int, int], set[int]] = {}
    level = 0
    while max_cond is None or level <= max_cond:
        neighbours = [set(np.flatnonzero(adj[i])) for i in range(d)]  # frozen for the level: order-independent
        if all(len(nb) - 1 < level for nb in neighbours):
            break
        for i in range(d):
            for j in sorted(neighbours[i]):
                if not adj[i, j]:
                    continue
                for cond in combinations(sorted(neighbours[i] - {j}), level):
                    if fisher_z_pvalue(corr, n, i, j, cond) > alpha:
                        adj[i, j] = adj[j, i] = False
                        sepset[(i, j)] = sepset[(j, i)] = set(cond)
                        break
        level += 1
    return adj, sepset


def orient(skeleton: np.ndarray, sepset: dict[tuple[int, int], set[int]], allowed: np.ndarray | None = None) -> np.ndarray:
    """Background knowledge first (an edge allowed one way only is oriented that way), then colliders
    i -> k <- j where k separates nothing, then Meek rules R1-R3 to a fixed point."""
    g = skeleton.copy()  # g[a, b] and g[b, a]: undirected; only g[a, b]: a -> b
    d = g.shape[0]
    if allowed is not None:
        g &= allowed | ~allowed.T  # drop the direction knowledge forbids, when the other is allowed
    adjacent = skeleton | skeleton.T
    for k in range(d):
        for i, j in combinations(np.flatnonzero(skeleton[k]), 2):
            if not adjacent[i, j] and k not in sepset.get((i, j), set()):
                if g[i, k] and g[k, j] and g[j, k] and g[k, i]:  # both still undirected: orient
                    g[k, i] = g[k, j] = False
                elif g[k, i] and g[i, k]:
                    g[k, i] = False
                elif g[k, j] and g[j, k]:
                    g[k, j] = False

    def undirected(a: int, b: int) -> bool:
        return bool(g[a, b] and g[b, a])

    def directed(a: int, b: int) -> bool:
        return bool(g[a, b] and not g[b, a])

    changed = True
    while changed:
        changed = False
        for a in range(d):
            for b in range(d):
                if not undirected(a, b):
                    continue
                # R1: c -> a - b, c and b not adjacent  =>  a -> b
                r1 = any(directed(c, a) and not adjacent[c, b] for c in range(d) if c != b)
                # R2: a -> c -> b and a - b  =>  a -> b
                r2 = any(directed(a, c) and directed(c, b) for c in range(d))
                # R3: a - c -> b, a - e -> b, c and e not adjacent  =>  a -> b
                r3 = any(undirected(a, c) and directed(c, b) and undirected(a, e) and directed(e, b)
                         and not adjacent[c, e] for c, e in combinations(range(d), 2))
                if r1 or r2 or r3:
                    g[b, a] = False
                    changed = True
    return g


def pc_algorithm(x: np.ndarray, alpha: float = 0.05, max_cond: int | None = 3,
                 allowed: np.ndarray | None = None, required: np.ndarray | None = None) -> np.ndarray:
    """CPDAG estimated by PC from the rows of x (an undirected edge sets both entries).

    `allowed`/`required` are the same physics priors the learned model gets, used as background
    knowledge (as in Tetrad), so the comparison is between methods, not between amounts of knowledge.
    """
    skeleton, sepset = pc_skeleton(x, alpha, max_cond, allowed)
    if required is not None:
        skeleton |= required | required.T
    return orient(skeleton, sepset, allowed)


def pc_graph(data: Any, cfg_alpha: float, max_cond: int | None) -> np.ndarray:
    """The PC graph depends only on the training rows: computed on first use, then cached."""
    if "pc" not in data.memo:
        data.memo["pc"] = pc_algorithm(data.x["train"].double().numpy(), cfg_alpha, max_cond, data.allowed, data.required)
    return data.memo["pc"]
