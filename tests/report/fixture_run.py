"""A tiny finished run written straight to disk: what `astrobio run` leaves, without training.

Every component gets the artifact files the report reads (metrics.json with real metric names,
metrics.jsonl, model_card.md, and figure_data.npz in the format its `figure.save` writes), so the
report, its figures and the browser test run in seconds. `failed=True` makes fusion the failed step.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from astrobio.catalog import PHASES
from astrobio.report.arrays import save_arrays

RNG = np.random.default_rng(0)
METRICS: dict[str, dict[str, float]] = {
    "graph_vae": {"test_auc": 0.91, "baseline_l3_test_auc": 0.83, "baseline_cn_test_auc": 0.8, "test_ap": 0.9},
    "datacube": {"test_rmse": 0.21, "baseline_nn_test_rmse": 0.4, "baseline_linear_test_rmse": 0.25},
    "spectra": {"test_rmse": 0.3, "baseline_interp_test_rmse": 0.2},  # loses to its baseline
    "causal": {"test_shd": 3.0, "baseline_pc_test_shd": 6.0, "baseline_empty_test_shd": 9.0},
    "fusion": {"test_accuracy": 0.8, "baseline_best_single_test_accuracy": 0.7, "baseline_single_climate_test_accuracy": 0.7,
               "baseline_majority_test_accuracy": 0.3},
    "galactic": {"test_accuracy": 0.75, "baseline_local_test_accuracy": 0.6, "baseline_central_test_accuracy": 0.8},
    "llm": {"test_ppl": 4.0, "baseline_base_test_ppl": 30.0},
}


def figure_arrays(name: str) -> dict[str, Any]:
    """Arrays shaped as each component's figure.save writes them."""
    labels = np.r_[np.ones(50, np.int8), np.zeros(50, np.int8)]
    names = np.array(["a", "b", "c", "d"])
    adj = np.triu(RNG.integers(0, 2, (4, 4)), 1).astype(np.int8)
    fields = RNG.normal(size=(2, 8, 16)).astype(np.float32)
    return {
        "graph_vae": {"labels": labels, "model": labels + RNG.normal(0, 0.5, 100), "baseline_l3": labels + RNG.normal(0, 1, 100)},
        "datacube": {"truth": fields, "model": fields + 0.1, "linear": fields * 0.5, "channels": np.array(["olr", "asr"])},
        "spectra": {"truth": RNG.normal(size=(2, 32)), "samples": RNG.normal(size=(2, 4, 32)), "knn": RNG.normal(size=(2, 32))},
        "causal": {"learned": adj, "true": adj, "pc": np.zeros_like(adj), "names": names},
        "fusion": {"labels": RNG.integers(0, 4, 60), "pred": RNG.integers(0, 4, 60), "classes": np.array(["w", "x", "y", "z"])},
        "galactic": {"accuracy": np.array([0.7, 0.8, 0.6, 0.9]), "planets": np.array([10, 12, 9, 11])},
        "llm": {"question": np.array(["What is the surface temperature of planet 3?"]), "truth": np.array(["288 K"]),
                "tuned": np.array(["290 K"]), "base": np.array(["I am not sure."])},
    }[name]


def write_artifact(folder: Path, name: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    metric = next(k for k in METRICS[name] if not k.startswith("baseline_")).replace("test_", "val_")
    history = [{"step": s, "train_loss": 1.0 / s, "lr": 0.01} for s in range(10, 110, 10)]
    history += [{"step": s, metric: 0.5 + s / 400, f"baseline_x_{metric}": 0.6} for s in (50, 100)]
    (folder / "metrics.json").write_text(json.dumps(METRICS[name]), encoding="utf-8")
    (folder / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in history), encoding="utf-8")
    (folder / "model_card.md").write_text(f"# {name}\n", encoding="utf-8")
    save_arrays(folder, **figure_arrays(name))
    (folder / "COMPLETE").write_text("", encoding="utf-8")


def write_run(root: Path, failed: bool = False) -> Path:
    """A run folder `root/out/r1` (run.json inside) over a local store `root/store`; returns the folder."""
    store, run_dir = root / "store", root / "out" / "r1"
    phases, broken = [], False
    for phase in PHASES:
        components = {}
        for name in phase.components:
            prefix = store / "runs" / "r1" / phase.name / name
            done = not broken and not (failed and name == "fusion") and name != "production"
            if done:
                write_artifact(prefix, name)
            components[name] = {"artifact": str(prefix), "complete": done or (name == "production" and not broken),
                                "metrics": METRICS.get(name, {}) if done else {}, "seconds": 12.5}
        status = "not_started" if broken else "failed" if failed and phase.name == "integrate" else "complete"
        broken = broken or status == "failed"
        phases.append({"number": phase.number, "name": phase.name, "status": status, "components": components,
                       "seconds": 12.5 * len(components)})
    run_dir.mkdir(parents=True, exist_ok=True)
    run = {"run_id": "r1", "store": str(store), "wall_seconds": 100.0, "phases": phases, "run_dir": str(run_dir),
           "logs": str(run_dir / "logs"), "report": str(run_dir / "report.html"),
           "error": "local pipeline run failed: Inner task failed: 'train-fusion'" if failed else None,
           "failed_step": {"task": "train-fusion", "component": "fusion", "phase": "integrate",
                           "log": str(run_dir / "logs" / "train-fusion.log"),
                           "tail": ["fusion: running astrobio train", "ValueError: fusion data is empty"]} if failed else None}
    (run_dir / "run.json").write_text(json.dumps(run), encoding="utf-8")
    return run_dir
