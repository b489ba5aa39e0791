"""Shared pieces of the tuning tests: a tiny textbook graph_vae tuning config and its study.

Every trial is a real `astrobio train` subprocess on cobra's textbook (e_coli_core) network for a
few dozen steps, so a trial costs seconds, most of it interpreter start-up and imports.
"""

from __future__ import annotations

import copy
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from astrobio.kube.validate import default_schema_dir
from astrobio.tune.load import load_tune_config
from astrobio.tune.optuna_backend import run_study
from astrobio.tune.optuna_study import STUDY_DB

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = default_schema_dir()

BASE: dict[str, Any] = {
    "run": {"name": "tt", "seed": 0},
    "trainer": {"max_steps": 24, "eval_every": 3, "log_every": 3, "device": "cpu",
                "checkpoint": {"every": 100, "keep_last": 1}},
    "optim": {"lr": 0.01},
    "components": {"graph_vae": {"data": {"sources": ["textbook"]},
                                 "model": {"hidden_dim": 16, "latent_dim": 8, "encoder": "sage"}}},
    "tune": {
        "component": "graph_vae",
        "objective": {"metric": "val_auc", "goal": "max", "additional_metrics": ["val_ap"]},
        "parameters": [{"path": "optim.lr", "type": "categorical", "values": [0.01, 0.05, 0.1]}],
        "budget": {"trials": 6},
        "early_stopping": {"rule": "median", "min_trials": 1, "start_step": 1},
        "algorithm": "random",
        "seed": 0,
    },
}


def tune_tree(**changes: Any) -> dict[str, Any]:
    """BASE with dotted-key changes, e.g. tune_tree(**{"tune.budget.trials": 2})."""
    tree = copy.deepcopy(BASE)
    for dotted, value in changes.items():
        node = tree
        *head, last = dotted.split(".")
        for part in head:
            node = node.setdefault(part, {})
        node[last] = value
    return tree


def write_config(folder: Path, tree: dict[str, Any], name: str = "tune.yaml") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    tree = copy.deepcopy(tree)
    tree.setdefault("store", {"uri": str(folder / "store")})
    path.write_text(yaml.safe_dump(tree, sort_keys=False), encoding="utf-8")
    return path


# `astrobio tune` through the real CLI.
_TUNE_MAIN = """
from astrobio.cli import main
main()
"""


def run_tune(*args: str, env: dict[str, str] | None = None, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    return subprocess.run([sys.executable, "-c", _TUNE_MAIN, "tune", *args], cwd=ROOT, env=full_env,
                          capture_output=True, text=True, timeout=timeout)


ES_METRIC = "components.graph_vae.trainer.early_stopping.metric"
CRASH = {"path": ES_METRIC, "name": "es_metric", "type": "categorical", "values": ["val_nope", "val_auc"]}


@pytest.fixture(scope="session")
def crash_study(tmp_path_factory):
    """Two real trials: early stopping on a metric nobody prints makes the trainer exit 2 at its first
    evaluation; the other trial trains normally. Grid seed 1 visits the crashing value first."""
    folder = tmp_path_factory.mktemp("crash")
    tree = tune_tree(**{"tune.parameters": [CRASH], "tune.algorithm": "grid", "tune.seed": 1,
                        "tune.budget": {"trials": 2}, "tune.early_stopping": {"rule": "none"},
                        "trainer.max_steps": 9})
    tc = load_tune_config(write_config(folder, tree))
    notes: list[str] = []
    result = run_study(tc, folder / "study", note=notes.append)
    return tc, result, notes


def study_trials(output: Path):
    """The trials of the one study in `output/study.db`."""
    import optuna

    storage = f"sqlite:///{output / STUDY_DB}"
    (summary,) = optuna.get_all_study_summaries(storage)
    return optuna.load_study(study_name=summary.study_name, storage=storage).get_trials()
