"""The metabolic-network modality: four archetype networks and one descriptor vector per archetype.

A planet's biosphere is one of (lean, rich) x (anaerobic, aerobic), picked by its SCM's liquid water
and O2 (planets.py). The lean/rich networks are cobra's bundled models; the anaerobic variant drops
every reaction that involves O2. Each archetype is summarised once, either by the phase-1 graph_vae
encoder (mean node embedding, mu, of the frozen encoder on that network) or, without that artifact,
by simple network statistics, standardised across the archetypes. The table is small and fixed, so
the fusion model keeps it as a buffer and a planet's modality input is just its archetype index.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import torch

from astrobio.components.fusion.config import FusionDataConfig
from astrobio.components.fusion.planets import archetype_names

STAT_NAMES: tuple[str, ...] = ("log_nodes", "log_edges", "mean_degree", "log_max_degree", "density", "oxygen_fraction")


def archetype_graphs(cfg: FusionDataConfig, kind: str = "metabolite", currency: set[str] | None = None) -> list[Any]:
    """MetabolicGraphs of the four archetypes, in `archetype_names` order."""
    from astrobio.components.graph_vae.config import DEFAULT_CURRENCY
    from astrobio.components.graph_vae.graph import build_graph
    from astrobio.components.graph_vae.sbml import LoadedModel, read_sbml

    currency = set(DEFAULT_CURRENCY) if currency is None else currency
    graphs = []
    for source in cfg.networks:
        loaded = read_sbml(source)
        for aerobic in (False, True):
            reactions = [r for r in loaded.model.reactions
                         if aerobic or not any(m.id.split("_")[0].lower() == "o2" for m in r.metabolites)]
            # duck-typed view of the model without O2 reactions: no slow cobra copy needed
            view = SimpleNamespace(metabolites=loaded.model.metabolites, reactions=reactions)
            graphs.append(build_graph([LoadedModel(source, loaded.path, view)], kind, currency))  # type: ignore[arg-type]
    return graphs


def _has_oxygen(metabolite: Any) -> bool:
    try:
        return bool((metabolite.elements or {}).get("O", 0))
    except (ValueError, TypeError, AttributeError):  # unparsable formula: count as no oxygen
        return False


def network_stats(graph: Any) -> np.ndarray:
    """Size, connectivity and oxygen content of one graph (STAT_NAMES)."""
    n, e = graph.num_nodes, graph.num_edges
    degree = np.bincount(graph.edges.reshape(-1).numpy(), minlength=n)
    oxygen = [_has_oxygen(o) for o in graph.objects if not hasattr(o, "metabolites")]  # metabolites only
    return np.array([np.log(n), np.log(e), 2 * e / n, np.log(degree.max()), 2 * e / (n * (n - 1)),
                     float(np.mean(oxygen)) if oxygen else 0.0])


def descriptor_table(cfg: FusionDataConfig, graph_vae: dict[str, Any] | None, cache_dir: Path | None) -> tuple[torch.Tensor, dict[str, Any]]:
    """[4, D] float32 archetype descriptors and their provenance; cached, since SBML loading is slow.

    `graph_vae` (from encoders.load_graph_vae) holds the frozen encoder, its graph settings and the
    weights' digest; None means statistics."""
    settings = {"networks": list(cfg.networks), "descriptor": "graph_vae" if graph_vae else "stats",
                "weights": graph_vae["sha256"] if graph_vae else None}
    key = hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:16]
    path = cache_dir / f"fusion-networks-{key}.npy" if cache_dir is not None else None
    info = {"archetypes": archetype_names(cfg), **settings}
    if path is not None and path.is_file():
        return torch.from_numpy(np.load(path, allow_pickle=False)).float(), {**info, "cache_hit": True}
    if graph_vae is None:
        raw = np.stack([network_stats(g) for g in archetype_graphs(cfg)])
        std = raw.std(axis=0)
        table = (raw - raw.mean(axis=0)) / np.where(std > 1e-12, std, 1.0)
        info["features"] = list(STAT_NAMES)
    else:
        from astrobio.components.graph_vae.features import build_features
        from astrobio.components.graph_vae.graph import to_message_passing

        gcfg, net = graph_vae["config"], graph_vae["model"]
        currency = set(gcfg.data.currency) if gcfg.data.drop_currency else set()
        rows = []
        for g in archetype_graphs(cfg, gcfg.data.graph, currency):
            x = build_features("chemistry", g, g.edges)
            rows.append(net.encode_eval(x, to_message_passing(g.edges)).mean(dim=0).numpy())
        table = np.stack(rows)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp.npy")
        np.save(tmp, table.astype(np.float32))
        tmp.replace(path)
    return torch.from_numpy(table).float(), {**info, "cache_hit": False}
