"""spectra: DDIM vs DDPM sampling (time and held-out error) and training throughput, on the smoke
setting. Writes benchmarks/results/spectra_sampling.json.

1. Train the smoke setting through the project's trainer (timed end to end, data generation with
   lazuli-exo included), or load weights from --weights.
2. On the held-out test points, draw K samples per point with DDIM at several step counts and
   with ancestral DDPM over every training timestep (the same seeded generator for each); report
   wall time (median of repeats), ms per spectrum, RMSE of the K-sample mean vs the truth and the
   sample diversity, next to the k-NN interpolation baseline. Speedup = DDPM time / DDIM time.
3. Time bare optimizer steps (forward + backward + AdamW) for training samples/s.
4. Time lazuli-exo itself per spectrum, for scale.

    python benchmarks/spectra_sampling.py [--threads N] [--weights model.safetensors]

The `components.spectra` section is SMOKE below (the section proposed for configs/smoke.yaml).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from astrobio.components.spectra import grid  # noqa: E402
from astrobio.components.spectra.baseline import idw_interpolate, rmse  # noqa: E402
from astrobio.components.spectra.config import SpectraConfig  # noqa: E402
from astrobio.components.spectra.data import SpectraData, build_data  # noqa: E402
from astrobio.components.spectra.model import SpectraDiffusion  # noqa: E402
from astrobio.components.spectra.model import generate_samples  # noqa: E402
from astrobio.components.spectra.task import SPEC, build_model, step  # noqa: E402
from astrobio.trainer import StopFlag, TrainingRun, train  # noqa: E402
from astrobio.trainer.checkpoint import load_weights  # noqa: E402
from astrobio.trainer.distributed import DistEnv  # noqa: E402
from astrobio.trainer.schedule import build_optimizer  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "results" / "spectra_sampling.json"

SMOKE: dict[str, Any] = {
    "data": {"n_train": 2048, "n_val": 128, "n_test": 128, "bins": 32, "batch_size": 32},
    "model": {"block_out_channels": [32, 64], "cond_channels": 8, "cond_hidden": 128},
    "eval": {"sampler": "ddim", "steps": 20, "samples_per_point": 4, "max_points": 128},
    "trainer": {"max_steps": 5000, "eval_every": 1000, "log_every": 500, "checkpoint": {"every": 1000, "keep_last": 1},
                "early_stopping": {"metric": "val_rmse", "mode": "min", "patience": 5}},
    "optim": {"lr": 0.005, "scheduler": "cosine", "warmup_steps": 50, "min_lr_ratio": 0.1},
}


def timed(fn, repeats: int) -> tuple[float, Any]:
    """Median wall time of `repeats` calls (after one warm-up call) and the last result."""
    fn()
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def sampling(model: SpectraDiffusion, data: SpectraData, cfg: SpectraConfig, ddim_steps: list[int]) -> dict[str, Any]:
    """Each sampler on the same points, K samples each, the same generator seed."""
    k, seed = cfg.eval.samples_per_point, cfg.eval.seed
    cond, truth = data.cond["test"], data.x["test"]
    n = cond.shape[0] * k
    runs: dict[str, Any] = {}
    plan = [("ddim", s, 3) for s in ddim_steps] + [("ddpm", cfg.model.num_train_timesteps, 1)]
    for kind, steps, repeats in plan:
        with torch.no_grad():
            secs, samples = timed(lambda: generate_samples(model, cond, k, kind, steps, seed), repeats)
        runs[f"{kind}_{steps}"] = {
            "sampler": kind, "steps": steps, "spectra": n, "wall_s": secs, "ms_per_spectrum": 1e3 * secs / n,
            "test_rmse": rmse(samples.mean(dim=1), truth), "test_diversity": float(samples.std(dim=1).mean()),
            "test_rmse_single_sample": rmse(samples[:, 0], truth),
        }
    ddpm = runs[f"ddpm_{cfg.model.num_train_timesteps}"]["wall_s"]
    for run in runs.values():
        run["speedup_vs_ddpm"] = ddpm / run["wall_s"]
    base = idw_interpolate(data.cond["train"], data.x["train"], cond, cfg.eval.baseline_k)
    return {"points": int(cond.shape[0]), "samples_per_point": k, "runs": runs,
            "baseline_interp_test_rmse": rmse(base, truth), "scale_ppm": data.scale}


def throughput(cfg: SpectraConfig, data: SpectraData, steps: int) -> dict[str, Any]:
    """Bare training steps (forward, backward, AdamW) at the smoke batch size and at 256."""
    out = {}
    for batch_size in (cfg.data.batch_size, 256):
        torch.manual_seed(0)
        model = build_model(cfg, data).train()
        opt = build_optimizer(model, cfg.optim)
        idx = torch.arange(batch_size) % len(data.x["train"])
        batch = {"x": data.x["train"][idx].unsqueeze(1), "cond": data.cond["train"][idx]}

        def one() -> None:
            opt.zero_grad(set_to_none=True)
            step(model, batch)[0].backward()
            opt.step()

        one()
        t0 = time.perf_counter()
        for _ in range(steps):
            one()
        secs = (time.perf_counter() - t0) / steps
        out[f"batch_{batch_size}"] = {"s_per_step": secs, "samples_per_s": batch_size / secs}
    return out


def lazuli_ms(cfg: SpectraConfig, n: int = 50) -> float:
    params = grid.sample_params(cfg.data, n, stream=42)
    t0 = time.perf_counter()
    grid.generate(cfg.data, params)
    return 1e3 * (time.perf_counter() - t0) / n


def machine(threads: int) -> dict[str, Any]:
    import diffusers

    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
            "python": platform.python_version(), "cpu_count": os.cpu_count(), "torch_threads": threads,
            "torch": torch.__version__, "diffusers": diffusers.__version__, "lazuli_exo": grid.lazuli_version(),
            "cuda": torch.cuda.is_available(), "loadavg_1_5_15": load}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--weights", type=Path, default=None, help="skip training, load these weights")
    parser.add_argument("--ddim-steps", type=int, nargs="+", default=[10, 20, 50, 100])
    parser.add_argument("--throughput-steps", type=int, default=30)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    cfg = SpectraConfig.model_validate(SMOKE)
    command = " ".join(["python benchmarks/spectra_sampling.py", *(shlex.quote(a) for a in sys.argv[1:])])
    result: dict[str, Any] = {"benchmark": "spectra_sampling", "command": command,
                              "config_source": "benchmarks/spectra_sampling.py:SMOKE",
                              "config": cfg.model_dump(mode="json"), "machine_start": machine(args.threads)}
    with tempfile.TemporaryDirectory() as tmp:
        if args.weights is None:
            t0, c0 = time.perf_counter(), time.process_time()
            job = TrainingRun(spec=SPEC, cfg=cfg, seed=0, output_dir=Path(tmp), run_id="bench", config_hash="bench")
            trained = train(job, DistEnv(), StopFlag())
            result["training"] = {"steps": trained.step, "wall_s": time.perf_counter() - t0,
                                  "process_cpu_s": time.process_time() - c0, "final_metrics": trained.metrics}
            weights = Path(tmp) / "artifact" / "model.safetensors"
        else:
            weights = args.weights
        data = build_data(cfg, 0, 1, Path(tmp) / "cache")
        model = build_model(cfg, data)
        model.load_state_dict(load_weights(weights))
        model.eval()
        result["sampling"] = sampling(model, data, cfg, args.ddim_steps)
        result["training_throughput"] = throughput(cfg, data, args.throughput_steps)
        result["lazuli_ms_per_spectrum"] = lazuli_ms(cfg)
    result["machine_end"] = machine(args.threads)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, default=float))
    runs = result["sampling"]["runs"]
    for name, run in runs.items():
        print(f"{name:>10}: {run['wall_s']:.2f} s ({run['ms_per_spectrum']:.2f} ms/spectrum, "
              f"{run['speedup_vs_ddpm']:.1f}x vs DDPM) test_rmse={run['test_rmse']:.4f} "
              f"diversity={run['test_diversity']:.4f}")
    print(f"baseline_interp_test_rmse={result['sampling']['baseline_interp_test_rmse']:.4f}")
    for name, tp in result["training_throughput"].items():
        print(f"train {name}: {tp['samples_per_s']:.0f} samples/s")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
