"""Where observations come from: cdt's Sachs files, pgmpy example networks, the planetary SCM, or a
user's CSV. Each loader returns raw values, variable names and, when known, the true graph.

Files are parsed here with the csv module rather than pandas so that a bad file is reported as one
line naming the file, the line and the column, which is what a user needs to fix it.
"""

from __future__ import annotations

import csv
import importlib.util
import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from astrobio.components.causal.config import PGMPY_PREFIX, CausalDataConfig
from astrobio.components.causal.scm import PlanetarySCM
from astrobio.errors import UsageError

SACHS_DATA = "cyto_full_data.csv"
SACHS_GRAPH = "cyto_full_target.csv"
MIN_ROWS = 10


@dataclass
class RawSource:
    """Raw (untransformed) observations and what is known about how they were made."""

    names: list[str]
    values: np.ndarray                    # (n, d) float64
    true_adj: np.ndarray | None = None    # (d, d) bool, adj[i, j] = i -> j
    scm: PlanetarySCM | None = None       # set only when counterfactuals have a known answer
    provenance: dict[str, Any] = field(default_factory=dict)


def read_table(path: Path) -> tuple[list[str], np.ndarray]:
    """A numeric CSV/TSV whose first row names the variables -> (names, values)."""
    if not path.is_file():
        raise UsageError(f"data file {path}: not found" if not path.exists() else f"data file {path}: is not a file")
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh, delimiter=delimiter)
            header = next(reader, None)
            if not header or all(not h.strip() for h in header):
                raise UsageError(f"data file {path} line 1: no header; expected variable names separated by '{delimiter}'")
            names = [h.strip() for h in header]
            for k, name in enumerate(names):
                if not name:
                    raise UsageError(f"data file {path} line 1, column {k + 1}: empty variable name")
                if names.index(name) != k:
                    raise UsageError(f"data file {path} line 1: variable '{name}' appears twice")
            rows: list[list[float]] = []
            for row in reader:
                if not row or all(not c.strip() for c in row):
                    continue
                rows.append(_parse_row(path, reader.line_num, row, names))
    except UnicodeDecodeError:
        raise UsageError(f"data file {path}: not UTF-8 text; expected a CSV with a header row") from None
    except csv.Error as exc:
        raise UsageError(f"data file {path}: malformed CSV ({exc})") from None
    if len(names) < 2:
        raise UsageError(f"data file {path} line 1: {len(names)} variable; a causal graph needs at least 2 columns")
    if len(rows) < MIN_ROWS:
        raise UsageError(f"data file {path}: {len(rows)} data rows; need at least {MIN_ROWS}")
    return names, np.asarray(rows, dtype=np.float64)


def _parse_row(path: Path, line: int, row: list[str], names: list[str]) -> list[float]:
    if len(row) != len(names):
        raise UsageError(f"data file {path} line {line}: {len(row)} fields, expected {len(names)} as in the header")
    values = []
    for name, cell in zip(names, row):
        try:
            value = float(cell)
        except ValueError:
            raise UsageError(f"data file {path} line {line}, column '{name}': '{cell.strip()[:40]}' is not a number") from None
        if not math.isfinite(value):
            raise UsageError(f"data file {path} line {line}, column '{name}': '{cell.strip()}' is not a finite number")
        values.append(value)
    return values


def read_edge_list(path: Path, names: list[str]) -> np.ndarray:
    """cause,effect per line; a first line that names no variables is taken as a header."""
    if not path.is_file():
        raise UsageError(f"graph file {path}: not found")
    index = {n: i for i, n in enumerate(names)}
    adj = np.zeros((len(names), len(names)), dtype=bool)
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh, delimiter="\t" if path.suffix.lower() == ".tsv" else ",")
            for row in reader:
                cells = [c.strip() for c in row]
                if not cells or all(not c for c in cells):
                    continue
                if len(cells) != 2:
                    raise UsageError(f"graph file {path} line {reader.line_num}: {len(cells)} fields, expected 2 (cause,effect)")
                if reader.line_num == 1 and not any(c in index for c in cells):
                    continue  # header such as "Cause","Effect"
                for c in cells:
                    if c not in index:
                        raise UsageError(f"graph file {path} line {reader.line_num}: unknown variable '{c}' "
                                         f"(variables: {', '.join(names)})")
                if cells[0] == cells[1]:
                    raise UsageError(f"graph file {path} line {reader.line_num}: self-loop '{cells[0]}'")
                adj[index[cells[0]], index[cells[1]]] = True
    except UnicodeDecodeError:
        raise UsageError(f"graph file {path}: not UTF-8 text") from None
    except csv.Error as exc:
        raise UsageError(f"graph file {path}: malformed CSV ({exc})") from None
    if not adj.any():
        raise UsageError(f"graph file {path}: no edges; expected one cause,effect pair per line")
    return adj


def _package_dir(package: str, hint: str) -> Path:
    """Folder of an installed package, found without importing it (cdt's __init__ wants R and more)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise UsageError(f"data.source needs the '{package}' package, which is not installed ({hint})")
    return Path(next(iter(spec.submodule_search_locations)))


def load_sachs() -> RawSource:
    """Sachs et al. (2005) flow cytometry, 7,466 cells x 11 proteins, with cdt's consensus graph."""
    folder = _package_dir("cdt", "pip install --no-deps cdt==0.6.0") / "data" / "resources"
    names, values = read_table(folder / SACHS_DATA)
    adj = read_edge_list(folder / SACHS_GRAPH, names)
    return RawSource(names, values, adj, None, {"source": "sachs", "files": [str(folder / SACHS_DATA), str(folder / SACHS_GRAPH)],
                                               "note": "all 14 conditions pooled, as shipped by cdt"})


def load_pgmpy(name: str, n: int, seed: int) -> RawSource:
    """Sample a pgmpy example network (Gaussian ones as they are; discrete ones as state codes)."""
    if importlib.util.find_spec("pgmpy") is None:
        raise UsageError(f"data.source 'pgmpy:{name}' needs the pgmpy package (pip install pgmpy==1.1.0)")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pgmpy.utils import get_example_model
        try:
            model = get_example_model(name)
        except ValueError as exc:
            raise UsageError(f"data.source 'pgmpy:{name}': {str(exc).splitlines()[0][:200]}") from None
        kind = type(model).__name__
        if kind == "LinearGaussianBayesianNetwork":
            frame = model.simulate(n, seed=seed)
        elif kind == "DiscreteBayesianNetwork":
            frame = model.simulate(n, seed=seed, show_progress=False)
            for col in frame.columns:
                states = list(model.states[col])
                frame[col] = [states.index(v) for v in frame[col]]
        else:
            raise UsageError(f"data.source 'pgmpy:{name}' is a {kind}; only Gaussian or discrete networks can be sampled")
    names = [str(v) for v in model.nodes()]
    values = frame[names].to_numpy(dtype=np.float64)
    index = {v: i for i, v in enumerate(names)}
    adj = np.zeros((len(names), len(names)), dtype=bool)
    for cause, effect in model.edges():
        adj[index[str(cause)], index[str(effect)]] = True
    return RawSource(names, values, adj, None, {"source": f"pgmpy:{name}", "model": kind, "n_samples": n, "seed": seed})


def load_source(cfg: CausalDataConfig) -> RawSource:
    """Dispatch on `data.source`; a `data.graph` edge list applies to CSV sources only."""
    if cfg.graph is not None and not cfg.source.lower().endswith((".csv", ".tsv")):
        raise UsageError(f"data.graph: only a .csv source takes an edge list; '{cfg.source}' brings its own graph")
    if cfg.source == "planetary_scm":
        scm = PlanetarySCM(nonlinear=cfg.nonlinear, noise_scale=cfg.noise_scale)
        return RawSource(scm.names, scm.sample(cfg.n_samples, cfg.data_seed), scm.adjacency(), scm,
                         {"source": "planetary_scm", "nonlinear": cfg.nonlinear, "noise_scale": cfg.noise_scale,
                          "n_samples": cfg.n_samples, "seed": cfg.data_seed})
    if cfg.source == "sachs":
        return load_sachs()
    if cfg.source.startswith(PGMPY_PREFIX):
        return load_pgmpy(cfg.source[len(PGMPY_PREFIX):], cfg.n_samples, cfg.data_seed)
    path = Path(cfg.source).expanduser()
    graph = Path(cfg.graph).expanduser() if cfg.graph else None
    for fld, file in (("data.source", path), ("data.graph", graph)):
        if file is not None and not file.exists():
            raise UsageError(f"components.causal.{fld}: file {file} not found")
    names, values = read_table(path)
    adj = read_edge_list(graph, names) if graph else None
    return RawSource(names, values, adj, None, {"source": str(path), "graph": cfg.graph})
