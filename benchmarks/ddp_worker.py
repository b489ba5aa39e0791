"""One rank of the DDP scaling benchmark (started by bench_ddp with torchrun's environment variables).

    RANK=.. WORLD_SIZE=.. MASTER_ADDR=.. MASTER_PORT=.. python -m benchmarks.ddp_worker astrobio|raw STEPS DEVICE

Trains benchmarks/mlp.py (same per-rank batch at every world size: weak scaling) either through
astrobio's `train` (which sets up the process group itself from the environment) or through a
hand-written DDP loop, and prints rank 0's steady-state seconds per step as JSON.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
import tempfile
from pathlib import Path

import torch


def measure(mode: str, steps: int, device: str, environ: dict[str, str]) -> float:
    """This rank's steady-state seconds per step (only rank 0's is reported)."""
    from benchmarks.mlp import MLP, SPEC, MLPConfig, MLPData, steady_step_seconds

    cfg = MLPConfig.model_validate({"trainer": {"max_steps": steps, "device": device, "amp": "off", "eval_every": 10**7,
                                                "log_every": 10**7, "checkpoint": {"every": 10**7}}})
    rank, world = int(environ["RANK"]), int(environ["WORLD_SIZE"])
    if mode == "astrobio":
        from astrobio.trainer import StopFlag, TrainingRun, train
        from astrobio.trainer.distributed import DistEnv

        models: list[MLP] = []
        spec = SPEC.__class__(**{**SPEC.__dict__, "build_model": lambda c, d: models.append(MLP(c)) or models[-1]})
        with tempfile.TemporaryDirectory() as out, contextlib.redirect_stdout(io.StringIO()), \
                contextlib.redirect_stderr(io.StringIO()):
            train(TrainingRun(spec=spec, cfg=cfg, seed=0, output_dir=Path(out) / f"r{rank}", run_id="bench",
                           config_hash="bench"), DistEnv.from_env(environ), StopFlag())
        stamps = models[0].stamps
    else:
        import torch.distributed as dist
        from torch.nn.parallel import DistributedDataParallel as DDP

        local = int(environ.get("LOCAL_RANK", 0))
        dev = torch.device(f"cuda:{local}" if device == "cuda" else "cpu")
        if dev.type == "cuda":
            torch.cuda.set_device(dev)
        if world > 1:  # one rank trains without a process group, as astrobio's trainer does
            dist.init_process_group("nccl" if dev.type == "cuda" else "gloo", rank=rank, world_size=world)
        torch.manual_seed(0)
        model = MLP(cfg).to(dev)
        net = DDP(model, device_ids=[dev.index] if dev.type == "cuda" else None) if world > 1 else model
        opt = torch.optim.AdamW(model.parameters(), lr=cfg.optim.lr)
        data = MLPData(cfg, rank)
        done = 0
        while done < steps:
            for batch in data.batches(0):
                batch = {k: v.to(dev) for k, v in batch.items()}
                opt.zero_grad(set_to_none=True)
                net(batch).backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                opt.step()
                done += 1
                if done == steps:
                    break
        if dev.type == "cuda":
            torch.cuda.synchronize()
        if world > 1:
            dist.barrier()
            dist.destroy_process_group()
        stamps = model.stamps
    return steady_step_seconds(stamps, skip=10)


def main() -> int:
    mode, steps, device = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    torch.set_num_threads(1)
    step_s = measure(mode, steps, device, dict(os.environ))
    if os.environ["RANK"] == "0":
        print(json.dumps({"mode": mode, "world": int(os.environ["WORLD_SIZE"]), "step_s": step_s}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
