"""One component in a fresh process: peak memory of build_data + build_model + a few steps, and
data time vs step time per batch (used by the memory and data_pipeline benchmarks).

    python -m benchmarks.probe_component COMPONENT [--config configs/smoke.yaml] [--steps 6] [--repeats 3]

Prints one JSON object on the last stdout line. Peak memory is VmHWM (see `peak_mib`). Data time is drawing the next batch from the
trainer's own `batch_stream` and moving it to the device (what the loop does before `spec.step`);
step time is the same plus forward, backward and the optimizer step. Blocks of data-only draws and
of whole steps alternate, and medians are taken.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import psutil
import torch


def rss_mib() -> float:
    return psutil.Process().memory_info().rss / 2**20


def peak_mib() -> float:
    """This process's peak RSS. Linux's VmHWM belongs to the address space exec() created; ru_maxrss
    would also count the parent's peak, which a child inherits across fork+exec."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux; macOS reports bytes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("component")
    parser.add_argument("--config", default="configs/smoke.yaml")
    parser.add_argument("--steps", type=int, default=6, help="batches per timed block")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--cache", default=None)
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    args = parser.parse_args(argv)

    from astrobio.config import load_config
    from astrobio.catalog import get_spec
    from astrobio.trainer.update import move_to
    from astrobio.trainer.rng import seed_everything
    from astrobio.trainer.schedule import build_optimizer, build_scheduler
    from astrobio.trainer.state import batch_stream

    out: dict = {"component": args.component, "rss_after_import_mib": rss_mib()}
    overrides = list(args.overrides)
    workdir = tempfile.TemporaryDirectory()
    if args.component == "llm" and not any(o.startswith("components.llm.inputs.fusion=") for o in overrides):
        # the llm reads the fusion artifact's planet embeddings: use the llm tests' stand-in (smoke sizes)
        from tests.components.llm.helpers import write_fusion

        overrides.append(f"components.llm.inputs.fusion={write_fusion(Path(workdir.name) / 'fusion', n=400, dim=64)}")
        out["note"] = "fusion input: tests/components/llm/helpers.py write_fusion(n=400, dim=64)"
    cfg = load_config(Path(args.config), overrides)
    spec, section = get_spec(args.component), cfg.component(args.component)
    device = torch.device(args.device)
    seed_everything(0, section.trainer.deterministic)
    with tempfile.TemporaryDirectory() as tmp, contextlib.redirect_stdout(io.StringIO()):
        t0 = time.perf_counter()
        data = spec.build_data(section, 0, 1, Path(args.cache) if args.cache else Path(tmp) / "cache")
        out["build_data_s"] = time.perf_counter() - t0
        out["rss_after_data_mib"] = rss_mib()
        t0 = time.perf_counter()
        model = spec.build_model(section, data).to(device)
        out["build_model_s"] = time.perf_counter() - t0
        out["rss_after_model_mib"] = rss_mib()
        opt = build_optimizer(model, section.optim)
        sched = build_scheduler(opt, section.optim, section.trainer.max_steps)
        stream = batch_stream(data, 0, 0)
        model.train()

        def sync() -> None:
            if device.type == "cuda":
                torch.cuda.synchronize()

        def data_block() -> float:
            sync()
            t = time.perf_counter()
            for _ in range(args.steps):
                move_to(next(stream)[2], device)
            sync()
            return (time.perf_counter() - t) / args.steps

        def step_block() -> float:
            sync()
            t = time.perf_counter()
            for _ in range(args.steps):
                batch = move_to(next(stream)[2], device)
                opt.zero_grad(set_to_none=True)
                loss, _ = spec.step(model, batch)
                loss.backward()
                opt.step()
                sched.step()
            sync()
            return (time.perf_counter() - t) / args.steps

        step_block()  # warm-up (first-call allocations, lazy init)
        data_s, step_s = [], []
        for _ in range(args.repeats):
            data_s.append(data_block())
            step_s.append(step_block())
    out.update({"data_s_per_batch": statistics.median(data_s), "step_s_per_batch": statistics.median(step_s),
                "samples_data_s": data_s, "samples_step_s": step_s,
                "steps_run": args.steps * (1 + args.repeats),
                "rss_end_mib": rss_mib(), "peak_rss_mib": peak_mib()})
    if device.type == "cuda":
        out["peak_cuda_mib"] = torch.cuda.max_memory_allocated() / 2**20
    workdir.cleanup()
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
