"""Causal component: training throughput and wall time to convergence, through the one trainer.

Workloads are the smoke setting (planetary SCM, linear NOTEARS, tier priors) and Sachs (real data,
no priors), configured as in configs/*.yaml. For each:
- throughput: trainer runs of N1 and N2 steps with evaluation and checkpoints pushed out of the way;
  per-step time is (t(N2) - t(N1)) / (N2 - N1), so data loading, the PC baseline and the artifact
  write cancel; steps/s and samples/s (training rows per full-batch step) follow. Median of repeats.
- convergence: one run with frequent evaluation; the converged step is the first evaluation from
  which val_shd never changes again and the read-out graph is acyclic without projection. Its wall
  time counts from the start of `train` (data, PC baseline and evaluations included).
Torch threads default to 1: the model multiplies d x d matrices (d = 8 or 11), where OpenMP hand-off
between threads costs far more than the arithmetic, badly so on a shared machine.
Writes benchmarks/results/causal_throughput.json.

    python benchmarks/causal_throughput.py [--threads 1] [--repeats 3]
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import io
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

from astrobio.components.causal.config import CausalConfig
from astrobio.components.causal.task import SPEC
from astrobio.trainer import StopFlag, TrainingRun, train
from astrobio.trainer.distributed import DistEnv

ROOT = Path(__file__).resolve().parents[1]
TIERS = [["stellar_flux", "albedo", "volcanism"], ["co2"], ["surface_temperature"], ["liquid_water"], ["o2", "ch4"]]
WORKLOADS: dict[str, dict[str, Any]] = {
    "planetary_scm_smoke": {
        "trainer": {"max_steps": 600, "amp": "off"}, "optim": {"lr": 0.02},
        "data": {"source": "planetary_scm", "n_samples": 1000}, "priors": {"tiers": TIERS},
    },
    "sachs": {
        "trainer": {"max_steps": 3000, "amp": "off"}, "optim": {"lr": 0.02, "scheduler": "cosine"},
        "data": {"source": "sachs"},
    },
}
CONVERGENCE_EVAL_EVERY = {"planetary_scm_smoke": 25, "sachs": 100}


def run(cfg: CausalConfig, steps: int, eval_every: int, spec=SPEC) -> float:
    """Wall seconds of one trainer run in a fresh folder, stdout silenced."""
    trainer = cfg.trainer.model_copy(update={
        "max_steps": steps, "eval_every": eval_every, "log_every": 10**7,
        "checkpoint": cfg.trainer.checkpoint.model_copy(update={"every": 10**7}),
        "early_stopping": cfg.trainer.early_stopping.model_copy(update={"metric": None})})
    cfg = cfg.model_copy(update={"trainer": trainer})
    with tempfile.TemporaryDirectory() as out, contextlib.redirect_stdout(io.StringIO()), \
            contextlib.redirect_stderr(io.StringIO()):
        t0 = time.perf_counter()
        train(TrainingRun(spec=spec, cfg=cfg, seed=0, output_dir=Path(out), run_id="bench", config_hash="bench"),
              DistEnv(), StopFlag())
        return time.perf_counter() - t0


def throughput(cfg: CausalConfig, n1: int, n2: int, repeats: int, rows: int) -> dict[str, Any]:
    per_step = []
    for _ in range(repeats):
        a, b = run(cfg, n1, 10**7), run(cfg, n2, 10**7)
        per_step.append((b - a) / (n2 - n1))
    step_s = statistics.median(per_step)
    return {"steps": [n1, n2], "step_ms": step_s * 1e3, "steps_per_s": 1 / step_s, "samples_per_s": rows / step_s,
            "rows_per_step": rows, "samples_step_ms": [s * 1e3 for s in per_step]}


def convergence(cfg: CausalConfig, eval_every: int) -> dict[str, Any]:
    """Run once to max_steps, timing each evaluation; find the step where the graph settled."""
    evals: list[tuple[float, dict[str, float]]] = []
    t0 = [0.0]

    def timed(model, data, split):
        metrics = SPEC.evaluate(model, data, split)
        if split == "val":
            evals.append((time.perf_counter() - t0[0], metrics))
        return metrics

    t0[0] = time.perf_counter()
    total = run(cfg, cfg.trainer.max_steps, eval_every, dataclasses.replace(SPEC, evaluate=timed))
    trace = evals[:-1]  # the last "val" call is the trainer's final evaluation, not a step
    steps = [eval_every * (k + 1) for k in range(len(trace))]
    final = trace[-1][1]
    settled = len(trace) - 1
    while settled > 0 and trace[settled - 1][1]["val_shd"] == final["val_shd"] and trace[settled - 1][1]["val_acyclic"] == 1.0:
        settled -= 1
    keys = [k for k in final if k.startswith(("val_", "baseline_"))]
    return {"max_steps": cfg.trainer.max_steps, "eval_every": eval_every, "wall_s_total": total,
            "converged_step": steps[settled], "wall_s_to_convergence": trace[settled][0],
            "final_val_metrics": {k: final[k] for k in sorted(keys)},
            "val_shd_trace": [[s, m["val_shd"]] for s, m in zip(steps, (m for _, m in trace))]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "causal_throughput.json")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    results: dict[str, Any] = {}
    for name, over in WORKLOADS.items():
        cfg = CausalConfig.model_validate(over)
        rows = len(SPEC.build_data(cfg, 0, 1, None).x["train"])
        results[name] = {"config": over,
                         "throughput": throughput(cfg, 100, 600, args.repeats, rows),
                         "convergence": convergence(cfg, CONVERGENCE_EVAL_EVERY[name])}
        tp, cv = results[name]["throughput"], results[name]["convergence"]
        print(f"{name}: {tp['steps_per_s']:.0f} steps/s, {tp['samples_per_s']:.3g} samples/s; converged at step "
              f"{cv['converged_step']} after {cv['wall_s_to_convergence']:.1f} s (val_shd {cv['final_val_metrics']['val_shd']:.0f}, "
              f"PC {cv['final_val_metrics']['baseline_pc_val_shd']:.0f}, empty {cv['final_val_metrics']['baseline_empty_val_shd']:.0f})")
    out = {
        "benchmark": "causal_throughput",
        "workloads": results,
        "machine": {"cpu": platform.processor() or platform.machine(), "cpu_count": os.cpu_count(),
                    "torch_threads": torch.get_num_threads(), "load_average_1m": os.getloadavg()[0],
                    "torch": torch.__version__, "python": platform.python_version(),
                    "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None, "device_used": "cuda" if torch.cuda.is_available() else "cpu"},
        "command": f"python benchmarks/causal_throughput.py --threads {args.threads} --repeats {args.repeats}",
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2) + "\n")
    print(f"-> {args.out}")


if __name__ == "__main__":
    main()
