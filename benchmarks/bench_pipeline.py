"""Pipeline orchestration: `astrobio run` wall time vs the sum of its training commands' wall times.

Every training step of the local pipeline runs its `astrobio train` through
benchmarks/timed_train.py (plugged in with ASTROBIO_TRAIN_COMMAND), which logs that command's wall
time. Orchestration overhead = (wall time of `astrobio run` - sum of training commands) / sum: the
KFP local runner's step subprocesses, artifact checks, the store, run.json. The same in CPU time
(user+sys of every process, from getrusage) is the second row: on a loaded machine wall time
measures the load, CPU time still measures the work. Phase 5 (production) is
not a training step, so the benchmark runs phases 1-2 (five training steps).

Full mode: the smoke config with training shortened (see TINY) so the whole benchmark takes a few
minutes; short training makes the overhead's share larger than on the real smoke run, so this is
an upper bound. benchmarks/results/run_smoke.json holds the full smoke run's wall time. Quick mode:
phase 1 with the pipeline tests' stub trainer (tests/pipeline/fake_train.py) in place of training.
"""

from __future__ import annotations

import json
import resource
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from benchmarks.common import ROOT, Options, Result, Row, quiet_env

TINY = {"graph_vae": {"max_steps": 30, "eval_every": 30, "early_stopping": {"metric": None}},
        "causal": {"max_steps": 200, "eval_every": 200},
        "datacube": {"max_steps": 20, "eval_every": 20, "early_stopping": {"metric": None}},
        "spectra": {"max_steps": 100, "eval_every": 100, "early_stopping": {"metric": None}},
        "fusion": {"max_steps": 50, "eval_every": 50}}


def tiny_config(folder: Path, quick: bool) -> Path:
    tree = yaml.safe_load((ROOT / "configs" / "smoke.yaml").read_text())
    tree["run"].update({"name": "bench-pipeline", "output_root": str(folder / "outputs")})
    tree["store"]["uri"] = str(folder / "artifacts")
    for name, over in TINY.items():
        section = tree["components"].setdefault(name, {}).setdefault("trainer", {})
        for key, value in over.items():
            if isinstance(value, dict):
                section.setdefault(key, {}).update(value)
            else:
                section[key] = value
        section["checkpoint"] = {"every": over["max_steps"], "keep_last": 1}
    path = folder / "bench-pipeline.yaml"
    path.write_text(yaml.safe_dump(tree, sort_keys=False))
    return path


def run(opts: Options) -> Result:
    phases = "1" if opts.quick else "1-2"
    with tempfile.TemporaryDirectory(prefix="bench-pipeline-") as tmp:
        folder = Path(tmp)
        config = tiny_config(folder, opts.quick)
        log = folder / "train_times.jsonl"
        inner = [sys.executable, str(ROOT / "tests" / "pipeline" / "fake_train.py")] if opts.quick \
            else [sys.executable, "-m", "astrobio", "train"]
        env = quiet_env()
        env["ASTROBIO_TRAIN_COMMAND"] = shlex.join([sys.executable, str(ROOT / "benchmarks" / "timed_train.py"), str(log), *inner])
        if opts.device == "cpu":
            env["CUDA_VISIBLE_DEVICES"] = ""
        cmd = [sys.executable, "-m", "astrobio", "run", "--config", str(config), "--output", str(folder / "run"), "--phases", phases]
        t0, r0 = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
        done = subprocess.run(cmd, cwd=folder, env=env, capture_output=True, text=True, timeout=1200)
        wall, r1 = time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_CHILDREN)
        run_cpu = r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime
        if done.returncode != 0:
            raise RuntimeError(f"astrobio run failed ({done.returncode}): {done.stderr[-3000:]}")
        trains = [json.loads(line) for line in log.read_text().splitlines()]
        run_json: dict[str, Any] = json.loads((folder / "run" / "run.json").read_text())
    train_s = sum(t["seconds"] for t in trains)
    train_cpu = sum(t["cpu_seconds"] for t in trains)
    overhead, cpu_overhead = (wall - train_s) / train_s, (run_cpu - train_cpu) / train_cpu
    rows = [Row(f"`astrobio run --phases {phases}` wall vs sum of training", wall, train_s, "s", "sum of train commands",
                ratio=wall / train_s, goal="overhead <= 8%", met=overhead <= 0.08,
                note=f"overhead {overhead * 100:.1f}%; in CPU time {cpu_overhead * 100:.1f}%"),
            Row(f"`astrobio run --phases {phases}` CPU time vs sum of training", run_cpu, train_cpu, "s",
                "sum of train commands", goal="report", note="all processes' user+sys: robust to a loaded machine")]
    details = {"variant": "quick: stub trainer, phase 1" if opts.quick else "tiny smoke config (TINY step counts), phases 1-2",
               "tiny_overrides": TINY, "phases": phases, "wall_s": wall, "run_json_wall_s": run_json.get("wall_seconds"),
               "train_commands": trains, "train_sum_s": train_s, "overhead_fraction": overhead,
               "run_cpu_s": run_cpu, "train_cpu_sum_s": train_cpu, "cpu_overhead_fraction": cpu_overhead,
               "run_json_phases": [{k: p.get(k) for k in ("number", "name", "status", "seconds")} for p in run_json.get("phases", [])],
               "full_smoke_run": "benchmarks/results/run_smoke.json (all five phases at smoke size)"}
    return Result("pipeline_overhead", rows, details)
