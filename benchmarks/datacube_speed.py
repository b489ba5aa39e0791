"""datacube: surrogate prediction time vs clero (the physics model it replaces), held-out RMSE, and
training throughput, on the smoke setting. Writes benchmarks/results/datacube_speed.json.

1. Generate the smoke data with clero (timed: clero's cost per planet when building a dataset).
2. Train the surrogate through the project's trainer on it (timed end to end).
3. Time clero (emulator already loaded) and the trained surrogate on the same planets at batch
   sizes 1-256 (medians of repeats, after a warm-up call), physical units out, and the speedup.
4. Time bare optimizer steps of the surrogate (forward + backward + AdamW) for samples/s.

    python benchmarks/datacube_speed.py [--config configs/smoke.yaml] [--threads N]

The `components.datacube` section comes from --config when the component is registered there,
else from SMOKE below (the section proposed for configs/smoke.yaml).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch

from astrobio.components.datacube.config import DatacubeConfig
from astrobio.components.datacube.data import build_data
from astrobio.components.datacube.generate import run_clero
from astrobio.components.datacube.task import SPEC
from astrobio.trainer import StopFlag, TrainingRun, train
from astrobio.trainer.checkpoint import load_weights
from astrobio.trainer.distributed import DistEnv
from astrobio.trainer.schedule import build_optimizer

ROOT = Path(__file__).resolve().parents[1]
SMOKE: dict[str, Any] = {
    "data": {"n_samples": 800, "fields": ["surface_temperature", "olr", "asr"], "batch_size": 32},
    "model": {"hidden": 128, "latent_channels": 32, "embed_dim": 64, "depth": 2, "heads": 4, "upsample_steps": 2},
    "trainer": {"max_steps": 300, "eval_every": 50, "log_every": 50, "checkpoint": {"every": 100, "keep_last": 2},
                "early_stopping": {"metric": "val_rmse", "mode": "min", "patience": 4}},
    "optim": {"lr": 3e-3, "weight_decay": 0.01, "scheduler": "cosine", "warmup_steps": 15},
}


def section_from(config: Path) -> tuple[DatacubeConfig, str]:
    """The datacube section of `config` if the schema knows it, else SMOKE."""
    try:
        from astrobio.config import load_config

        cfg = load_config(config)
        return cfg.component("datacube"), str(config.relative_to(ROOT) if config.is_relative_to(ROOT) else config)
    except Exception:  # noqa: BLE001 - not registered yet, or no such section: use the built-in one
        return DatacubeConfig.model_validate(SMOKE), "benchmarks/datacube_speed.py:SMOKE"


def median_time(fn, repeats: int) -> float:
    fn()  # warm-up: lazy initialisation, allocator, caches
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        cpu = next(l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines() if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    import clero

    return {"cpu": cpu, "cores_available": len(os.sched_getaffinity(0)), "torch_threads": torch.get_num_threads(),
            "torch": torch.__version__, "numpy": np.__version__, "clero": clero.__version__,
            "python": platform.python_version(), "load_average": list(os.getloadavg()),
            "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=ROOT / "configs" / "smoke.yaml")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "datacube_speed.json")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    section, source = section_from(args.config)
    start_machine = machine()

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        t0 = time.perf_counter()
        data = build_data(section, 0, 1, out / "cache")  # the trainer finds this cache and reuses it
        gen_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        result = train(TrainingRun(spec=SPEC, cfg=section, seed=args.seed, output_dir=out, run_id="bench",
                                config_hash="bench"), DistEnv(), StopFlag())
        train_s = time.perf_counter() - t0
        model = SPEC.build_model(section, data)
        model.load_state_dict(load_weights(out / "artifact" / "model.safetensors"))
    model.eval()

    # Prediction: the same planets through clero and through the surrogate, physical units out
    # (held-out planets first; timing batches larger than the test split borrow training planets).
    test_params = data.splits["test"].params
    planets = np.concatenate([test_params, data.splits["val"].params, data.splits["train"].params])
    channels, gcm = data.channels, section.data.gcm
    speed = []
    for n in (1, 16, 64, 256):
        p = planets[:n]

        def surrogate() -> torch.Tensor:
            with torch.no_grad():
                return data.denormalise(model.predict(data.normalise_params(p)))

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            clero_s = median_time(lambda: run_clero(p, channels, gcm, "cpu"), args.repeats)
        sur_s = median_time(surrogate, args.repeats)
        speed.append({"batch": n, "clero_s": clero_s, "surrogate_s": sur_s, "speedup": clero_s / sur_s,
                      "clero_ms_per_planet": 1e3 * clero_s / n, "surrogate_ms_per_planet": 1e3 * sur_s / n})

    # Training throughput: bare optimizer steps on the training batches (no evaluation, no checkpoints).
    model.train()
    opt = build_optimizer(model, section.optim)
    batches = list(data.batches(0))

    def one_epoch() -> None:
        for b in batches:
            opt.zero_grad(set_to_none=True)
            loss, _ = SPEC.step(model, b)
            loss.backward()
            opt.step()

    epoch_s = median_time(one_epoch, max(1, args.repeats // 2))
    n_seen = sum(len(b["params"]) for b in batches)
    report = {
        "benchmark": "datacube_speed",
        "config_source": source,
        "config": section.model_dump(mode="json", include={"data", "model", "optim"}) | {
            "trainer": section.trainer.model_dump(mode="json", include={"max_steps", "eval_every"})},
        "channels": channels,
        "n_train": len(data.splits["train"]), "n_test": len(test_params),
        "data_generation_s": gen_s,
        "clero_ms_per_planet_generation": 1e3 * gen_s / section.data.n_samples,
        "trainer_wall_s": train_s,
        "smoke_total_wall_s": gen_s + train_s,
        "steps": result.step,
        "held_out": {k: v for k, v in result.metrics.items() if k.startswith(("test_", "baseline_nn_test", "baseline_linear_test"))},
        "held_out_units": "test_rmse and baselines: standardised (per-channel training std); test_rmse_<channel>: physical",
        "prediction": speed,
        "train_samples_per_s": n_seen / epoch_s,
        "train_step_ms": 1e3 * epoch_s / len(batches),
        "machine": start_machine | {"load_average_end": list(os.getloadavg())},
        "command": "python benchmarks/datacube_speed.py" + (f" --threads {args.threads}" if args.threads else ""),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    big = speed[-1]
    m = result.metrics
    print(f"generation {gen_s:.1f}s, training {train_s:.1f}s ({result.step} steps); test_rmse {m['test_rmse']:.4f} "
          f"vs nn {m['baseline_nn_test_rmse']:.4f}, linear {m['baseline_linear_test_rmse']:.4f}; batch {big['batch']}: "
          f"clero {big['clero_s'] * 1e3:.1f} ms, surrogate {big['surrogate_s'] * 1e3:.1f} ms ({big['speedup']:.0f}x); "
          f"training {report['train_samples_per_s']:.0f} samples/s -> {args.out}")


if __name__ == "__main__":
    main()
