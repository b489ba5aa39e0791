"""Trainer step overhead vs a hand-written minimal loop, same model, same batches, one process.

Both loops run N1 and N2 optimizer steps; the per-step time is (t(N2) - t(N1)) / (N2 - N1), so
fixed costs (data building, final evaluation, the artifact write) cancel out. Runs alternate
between the two loops and the median is reported, so a noisy machine affects both alike.
Writes benchmarks/results/trainer_overhead.json. Goal: ratio <= 1.03.

    python benchmarks/trainer_overhead.py [--component graph_vae] [--config configs/smoke.yaml]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import time
from pathlib import Path

import torch

from astrobio.config import config_hash, load_config
from astrobio.registry import get_spec
from astrobio.trainer import StopFlag, TrainJob, train
from astrobio.trainer.distributed import DistEnv
from astrobio.trainer.rng import seed_everything
from astrobio.trainer.schedule import build_optimizer, build_scheduler

ROOT = Path(__file__).resolve().parents[1]


def raw_loop(spec, section, seed: int, steps: int) -> float:
    """The minimal loop a researcher would write: build, then zero_grad/step/backward/clip/step."""
    t0 = time.perf_counter()
    seed_everything(seed, section.trainer.deterministic)
    data = spec.build_data(section, 0, 1, None)
    model = spec.build_model(section, data)
    opt = build_optimizer(model, section.optim)
    sched = build_scheduler(opt, section.optim, steps)
    model.train()
    done, epoch = 0, 0
    while done < steps:
        for batch in data.batches(epoch):
            opt.zero_grad(set_to_none=True)
            loss, _ = spec.step(model, batch)
            loss.backward()
            if section.trainer.clip_grad_norm is not None:
                torch.nn.utils.clip_grad_norm_(model.parameters(), section.trainer.clip_grad_norm)
            opt.step()
            sched.step()
            done += 1
            if done == steps:
                break
        epoch += 1
    spec.evaluate(model, data, "val")
    spec.evaluate(model, data, "test")
    return time.perf_counter() - t0


def trainer_loop(spec, section, seed: int, steps: int, workdir: Path) -> float:
    section = section.model_copy(update={"trainer": section.trainer.model_copy(update={
        "max_steps": steps, "eval_every": 10**7, "log_every": 10**7,
        "checkpoint": section.trainer.checkpoint.model_copy(update={"every": 10**7}),
        "early_stopping": section.trainer.early_stopping.model_copy(update={"metric": None})})})
    job = TrainJob(spec=spec, cfg=section, seed=seed, output_dir=workdir, run_id="bench", config_hash=config_hash(section))
    t0 = time.perf_counter()
    train(job, DistEnv(), StopFlag())
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--component", default="graph_vae")
    parser.add_argument("--config", type=Path, default=ROOT / "configs" / "smoke.yaml")
    parser.add_argument("--steps", type=int, nargs=2, default=(20, 120), metavar=("N1", "N2"))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "trainer_overhead.json")
    args = parser.parse_args()
    cfg = load_config(args.config)
    spec = get_spec(args.component)
    section = cfg.component(args.component)
    n1, n2 = args.steps
    raw, ours = [], []
    for _ in range(args.repeats):
        r = [raw_loop(spec, section, cfg.run.seed, n) for n in (n1, n2)]
        with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
            o = [trainer_loop(spec, section, cfg.run.seed, n1, Path(a)), trainer_loop(spec, section, cfg.run.seed, n2, Path(b))]
        raw.append((r[1] - r[0]) / (n2 - n1))
        ours.append((o[1] - o[0]) / (n2 - n1))
    raw_s, ours_s = statistics.median(raw), statistics.median(ours)
    result = {
        "benchmark": "trainer_overhead",
        "component": args.component,
        "config": str(args.config.relative_to(ROOT) if args.config.is_relative_to(ROOT) else args.config),
        "steps": [n1, n2],
        "repeats": args.repeats,
        "raw_step_s": raw_s,
        "trainer_step_s": ours_s,
        "ratio": ours_s / raw_s,
        "goal_ratio_max": 1.03,
        "meets_goal": ours_s / raw_s <= 1.03,
        "samples_raw_step_s": raw,
        "samples_trainer_step_s": ours,
        "machine": {"cpu": platform.processor() or platform.machine(), "cores": torch.get_num_threads(),
                    "torch": torch.__version__, "python": platform.python_version(),
                    "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None},
        "command": "python benchmarks/trainer_overhead.py",
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"raw loop {raw_s * 1e3:.2f} ms/step, trainer {ours_s * 1e3:.2f} ms/step, ratio {result['ratio']:.3f} "
          f"(goal <= 1.03) -> {args.out}")


if __name__ == "__main__":
    main()
