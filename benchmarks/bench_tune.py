"""Tuning: trial start-up overhead, and the time median stopping saves at an equal best metric.

Workload: the causal component (planetary SCM, smoke settings, 4000 steps, evaluation every 333)
tuned over optim.lr with Optuna's random sampler (seeded, so both studies draw the same learning
rates in the same order) through `astrobio tune`'s own `run_study`: every trial is a real
`astrobio train` subprocess whose printed val_nll is read live.
- start-up: wall time of a 100-step `astrobio train` (~0.5 s of training) (interpreter, imports, data, PC baseline,
  final evaluation, artifact) vs a bare `python -c "import torch"` (the floor of any
  subprocess-per-trial tuner), interleaved.
- pruning: the same study with median stopping (min_trials 2, start_step 3) and without, the two
  studies interleaved (none, median, then median, none; one round in --quick); time saved =
  1 - median wall(median) / median wall(none); the best val_nll must be the same.
"""

from __future__ import annotations

import contextlib
import io
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from benchmarks.common import ROOT, Options, Result, Row, interleave, med, quiet_env


def tune_config(folder: Path, steps: int, trials: int, rule: str, tag: str = "") -> Path:
    smoke = yaml.safe_load((ROOT / "configs" / "smoke.yaml").read_text())
    causal = smoke["components"]["causal"]
    causal["trainer"].update({"max_steps": steps, "eval_every": steps // 12 or 1, "log_every": steps,
                              "checkpoint": {"every": steps, "keep_last": 1}, "device": "cpu"})
    tree = {"run": {"name": f"bench-tune-{rule}", "seed": 0, "output_root": str(folder / f"outputs{tag}")},
            "store": {"uri": str(folder / f"artifacts-{rule}{tag}")},
            "components": {"causal": causal},
            "tune": {"component": "causal", "name": f"bench-tune-{rule}",
                     "objective": {"metric": "val_nll", "goal": "min"},
                     "parameters": [{"path": "components.causal.optim.lr", "type": "float", "min": 0.002, "max": 0.05, "log": True}],
                     "budget": {"trials": trials, "parallel": 1},
                     "early_stopping": {"rule": rule, "min_trials": 2, "start_step": 3},
                     "algorithm": "random", "seed": 0, "start_from_config": False}}
    path = folder / f"tune-{rule}{tag}.yaml"
    path.write_text(yaml.safe_dump(tree, sort_keys=False))
    return path


def study(folder: Path, steps: int, trials: int, rule: str, tag: str = "") -> dict[str, Any]:
    import optuna

    from astrobio.tune.load import load_tune_config
    from astrobio.tune.optuna_backend import run_study
    from astrobio.tune.optuna_study import STUDY_DB

    tc = load_tune_config(tune_config(folder, steps, trials, rule, tag))
    out = folder / f"study-{rule}{tag}"
    t0 = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        result = run_study(tc, out, note=lambda _: None, env=quiet_env())
    wall = time.perf_counter() - t0
    trials_ = optuna.load_study(study_name=tc.study_name, storage=f"sqlite:///{out / STUDY_DB}").get_trials()
    return {"rule": rule, "wall_s": wall, "best_value": result.best_value, "best_params": result.best_params,
            "counts": result.counts,
            "trials": [{"number": t.number, "state": t.state.name, "value": t.value, "params": t.params,
                        "seconds": t.user_attrs.get("seconds"), "reports": len(t.intermediate_values)} for t in trials_]}


def startup(folder: Path, repeats: int) -> dict[str, list[float]]:
    """The trial's start-up against the bare torch import (benchmarks/bench_startup.py has the full
    start-up benchmark; this pair puts it next to the trial length it is a share of)."""
    from benchmarks.bench_startup import bare_torch, train_100_steps

    env = quiet_env()
    return interleave({"astrobio_train_100_steps": train_100_steps(folder, env),
                       "python_import_torch": bare_torch(folder, env)}, repeats, warmup=0)


def interleaved_studies(folder: Path, steps: int, trials: int, rounds: int) -> dict[str, list[dict[str, Any]]]:
    """Each rule's studies, run in rotating order (none, median / median, none, ...), fresh folders."""
    runs: dict[str, list[dict[str, Any]]] = {"none": [], "median": []}

    def one(rule: str):  # noqa: ANN202
        def go() -> float:
            runs[rule].append(study(folder, steps, trials, rule, f"-{len(runs[rule])}"))
            return runs[rule][-1]["wall_s"]
        return go

    interleave({rule: one(rule) for rule in runs}, rounds, warmup=0)
    return runs


def run(opts: Options) -> Result:
    steps, trials, repeats, rounds = (100, 1, 1, 1) if opts.quick else (4000, 5, 3, 2)
    with tempfile.TemporaryDirectory(prefix="bench-tune-") as tmp:
        folder = Path(tmp)
        start = startup(folder, repeats)
        runs = interleaved_studies(folder, steps, trials, rounds)
    # the first study of each rule is the one reported in detail; walls are medians over the rounds
    studies = {rule: {**docs[0], "wall_s": med([d["wall_s"] for d in docs]), "walls_s": [d["wall_s"] for d in docs]}
               for rule, docs in runs.items()}
    start_s = {k: med(v) for k, v in start.items()}
    full = [t["seconds"] for t in studies["none"]["trials"] if t["seconds"]]
    trial_s = med(full) if full else None
    saved = 1 - studies["median"]["wall_s"] / studies["none"]["wall_s"]
    best_none, best_median = studies["none"]["best_value"], studies["median"]["best_value"]
    rel = None if best_none is None or best_median is None else (best_median - best_none) / abs(best_none)
    same_best = rel is not None and abs(rel) <= 1e-9
    rows = [Row("trial start-up (100-step astrobio train)", start_s["astrobio_train_100_steps"], start_s["python_import_torch"], "s",
                "python -c 'import torch'", goal="report",
                note=f"{start_s['astrobio_train_100_steps'] / trial_s * 100:.0f}% of a median {trial_s:.1f} s trial" if trial_s else ""),
            Row(f"study wall, median stopping vs none ({trials} trials)", studies["median"]["wall_s"], studies["none"]["wall_s"], "s",
                "no pruning", goal="report (at equal best)", met=None,
                note=f"saved {saved * 100:.0f}%, pruned {studies['median']['counts'].get('PRUNED', 0)}; best val_nll "
                     f"{best_median} vs {best_none} ({'equal' if same_best else 'n/a' if rel is None else f'{rel * 100:+.3f}%'})")]
    details = {"workload": f"causal smoke, {steps} steps, lr log-uniform 0.002-0.05, random sampler seed 0",
               "startup_s_median": start_s, "startup_samples_s": start, "median_trial_s": trial_s,
               "time_saved_fraction": saved, "equal_best": same_best, "best_relative_difference": rel, "studies": studies}
    return Result("tuning", rows, details)
