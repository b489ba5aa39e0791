"""DDP scaling: 1 vs N ranks (CPU: 2 processes over gloo; GPU: every visible GPU over nccl).

Weak scaling (each rank keeps the same per-rank batch), so perfect scaling keeps the step time
constant and efficiency = t_step(1 rank) / t_step(N ranks). astrobio's trainer (process group from
the torchrun environment, DDP wrap, its loop) is compared with a hand-written DDP loop on the same
MLP (benchmarks/mlp.py). Runs alternate between the two; medians are reported.
On CPU each rank uses one torch thread; with 2 cores shared with other work the CPU figure says
more about the machine than about DDP. Goal (issue #9): >= 90% weak-scaling efficiency on GPU.
"""

from __future__ import annotations

import json
import subprocess
from typing import Any

import torch

from benchmarks.common import ROOT, Options, Result, Row, interleave, med, python, quiet_env


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def launch(mode: str, world: int, steps: int, device: str, in_process: bool = False) -> float:
    if in_process:  # one rank needs no process group, so it runs here (a subprocess would only add start-up time)
        from benchmarks.ddp_worker import measure

        return measure(mode, steps, device, {"RANK": "0", "WORLD_SIZE": "1", "LOCAL_RANK": "0"})
    env = quiet_env()
    env.update({"MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(free_port()), "WORLD_SIZE": str(world)})
    procs = []
    for rank in range(world):
        procs.append(subprocess.Popen([*python(), "-m", "benchmarks.ddp_worker", mode, str(steps), device],
                                      env={**env, "RANK": str(rank), "LOCAL_RANK": str(rank)}, cwd=ROOT,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    outs = [p.communicate(timeout=600) for p in procs]
    for p, (_, err) in zip(procs, outs):
        if p.returncode != 0:
            raise RuntimeError(f"ddp worker {mode} world={world} failed: {err[-2000:]}")
    return float(json.loads(outs[0][0].strip().splitlines()[-1])["step_s"])


def run(opts: Options) -> Result:
    device = opts.device
    n = torch.cuda.device_count() if device == "cuda" else 2
    n = max(n, 2) if device == "cpu" else n
    steps, repeats = (30, 1) if opts.quick else (200, 3)
    variants = {f"{mode}_{w}": (lambda mode=mode, w=w: launch(mode, w, steps, device, w == 1))
                for mode in ("astrobio", "raw") for w in (1, n)}
    samples = interleave(variants, repeats, warmup=0)
    ms = {k: med(v) * 1e3 for k, v in samples.items()}
    eff = {m: ms[f"{m}_1"] / ms[f"{m}_{n}"] for m in ("astrobio", "raw")}
    kind = f"{n} GPUs (nccl)" if device == "cuda" else f"{n} CPU processes (gloo)"
    goal = ">= 0.90 (GPU)" if device == "cuda" else "report (GPU goal >= 0.90)"
    met = eff["astrobio"] >= 0.90 if device == "cuda" and n > 1 else None
    rows = [Row(f"weak-scaling efficiency, 1 -> {kind}", eff["astrobio"], eff["raw"], "", "raw DDP loop",
                goal=goal, met=met),
            Row(f"step time at {n} ranks", ms[f"astrobio_{n}"], ms[f"raw_{n}"], "ms", "raw DDP loop", goal="report")]
    details: dict[str, Any] = {"ranks": n, "device": device, "steps": steps, "repeats": repeats,
                               "per_rank_batch": 64, "step_ms_median": ms, "efficiency": eff,
                               "samples_step_ms": {k: [x * 1e3 for x in v] for k, v in samples.items()}}
    if device == "cuda" and n < 2:
        details["note"] = "one GPU visible: no multi-GPU scaling to measure"
    return Result("ddp_scaling", rows, details)
