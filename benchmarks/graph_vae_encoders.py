"""graph_vae architecture choice by validation AUC only; the test split is scored once, for the winner.

Every candidate (encoder x decoder) trains the `components.graph_vae` section of the given config
(default configs/smoke.yaml: iJO1366 metabolite graph, chemistry features) for that section's
`trainer.max_steps` full-graph steps with AdamW at its learning rate, for each seed, and is scored
on the validation edges. The candidate with the best mean `val_auc` (ties: `val_ap`) wins; only its
trained models are then scored on the test edges, next to common neighbours, Adamic-Adar and L3.
The JSON records the exact command, so anyone can rerun the selection.

    OMP_NUM_THREADS=1 nice python -m benchmarks.graph_vae_encoders [--seeds 2] [--config configs/smoke.yaml]
"""

from __future__ import annotations

import argparse
import json
import shlex
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import torch

from astrobio.components.graph_vae.config import GraphVAEConfig
from astrobio.components.graph_vae.data import GraphVAEData, data_from_models
from astrobio.components.graph_vae.sbml import read_sbml
from astrobio.components.graph_vae.task import build_model, evaluate, step
from astrobio.config.load import load_config
from astrobio.trainer.atomic import write_text_atomic
from benchmarks.common import RESULTS, machine

CANDIDATES: tuple[tuple[str, str], ...] = tuple((e, d) for e in ("gcn", "sage", "transformer") for d in ("inner", "mlp"))


def train_one(cfg: GraphVAEConfig, data: GraphVAEData, seed: int) -> torch.nn.Module:
    """Full-graph training for `trainer.max_steps` epochs (one step per epoch), as the smoke run does."""
    torch.manual_seed(seed)
    model = build_model(cfg, data)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.optim.lr, weight_decay=cfg.optim.weight_decay)
    for epoch in range(cfg.trainer.max_steps):
        for batch in data.batches(epoch):
            loss, _ = step(model, batch)
            opt.zero_grad()
            loss.backward()
            opt.step()
    return model


def mean(rows: list[dict[str, float]], key: str) -> float:
    return round(statistics.fmean(r[key] for r in rows), 4)


def run(config: Path, seeds: int) -> dict[str, Any]:
    """Train every candidate on every seed, select on validation, score the winner on test."""
    base = load_config(config).components.graph_vae
    models = [read_sbml(name) for name in base.data.sources]
    rows, trained = [], {}
    for encoder, decoder in CANDIDATES:
        cfg = base.model_copy(update={"model": base.model.model_copy(update={"encoder": encoder, "decoder": decoder})})
        cfg = GraphVAEConfig.model_validate(cfg.model_dump())
        data = data_from_models(cfg, models)
        start, runs = time.process_time(), []
        for seed in range(seeds):
            net = train_one(cfg, data, seed)
            runs.append((net, evaluate(net, data, "val")))
        trained[(encoder, decoder)] = (data, [n for n, _ in runs])
        vals = [m for _, m in runs]
        rows.append({"encoder": encoder, "decoder": decoder, "val_auc": mean(vals, "val_auc"), "val_ap": mean(vals, "val_ap"),
                     "val_auc_per_seed": [round(m["val_auc"], 4) for m in vals],
                     "cpu_seconds": round(time.process_time() - start, 1)})
        print(json.dumps(rows[-1]), flush=True)
    best = max(rows, key=lambda r: (r["val_auc"], r["val_ap"]))
    data, nets = trained[(best["encoder"], best["decoder"])]
    tests = [evaluate(n, data, "test") for n in nets]
    final = {k: mean(tests, k) for k in tests[0]}
    return {"rows": rows, "chosen": {"encoder": best["encoder"], "decoder": best["decoder"], "by": "mean val_auc (ties: val_ap)",
                                     "val_auc": best["val_auc"], **final}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=Path("configs/smoke.yaml"))
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--out", type=Path, default=RESULTS / "graph_vae_encoders.json")
    args = parser.parse_args(argv)
    start = time.time()
    result = run(args.config, args.seeds)
    section = load_config(args.config).components.graph_vae
    doc = {"benchmark": "graph_vae_encoders",
           "what": "graph_vae encoder x decoder chosen by mean validation AUC over seeds; test scored once, for the winner",
           "command": "OMP_NUM_THREADS=1 python -m benchmarks.graph_vae_encoders " + shlex.join(sys.argv[1:] if argv is None else argv),
           "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "seconds": round(time.time() - start, 1),
           "config": str(args.config), "seeds": args.seeds, "sources": list(section.data.sources),
           "graph": section.data.graph, "features": section.data.features, "steps": section.trainer.max_steps,
           "lr": section.optim.lr, "machine": machine(), **result}
    write_text_atomic(args.out, json.dumps(doc, indent=2) + "\n")
    print(json.dumps(doc["chosen"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
