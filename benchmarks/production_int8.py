"""Phase 5 on real artifacts: fp32 vs dynamic-int8 latency (p50/p95) and the test-metric delta.

Each workload trains a component briefly through the one trainer (so the artifact is exactly what
`astrobio train` publishes), then releases it with `astrobio.production.release.release_component`,
the function the phase-5 pipeline step runs: rebuild from config.yaml + model.safetensors, int8 via
`quantize_dynamic`, timing of `model(batch)` on the component's own first training batch, the
component's `evaluate(..., "test")` on both models, and export.

Workloads:
- graph_vae_smoke: iJO1366 metabolite graph, SAGE encoder 64/32 + MLP decoder (configs/smoke.yaml).
- graph_vae_wide: the same graph with a 512/128 encoder, where Linear layers dominate the time and
  int8 has room to pay off (the smoke model's matrices are too small for it to).
- causal_smoke: planetary SCM, linear NOTEARS (no Linear layers: int8 is reported as not applying).
Torch threads default to 1: the machine is shared, and per-call times of small models are dominated
by thread hand-off when more threads compete for two cores. The load average is recorded.
Run alone it writes benchmarks/results/production_int8_script.json; `python -m benchmarks --only production_int8`
(benchmarks/bench_production.py) uses `run_workload` and writes production_int8.json.

    python benchmarks/production_int8.py [--threads 1] [--repeats 50] [--steps N] [--workloads ...]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

import astrobio.config  # noqa: F401 - load the config package before the kube section (circular import)
from astrobio.config import config_hash, load_config
from astrobio.production.artifact import load_component
from astrobio.production.options import ProductionOptions
from astrobio.production.profile import linear_share, profile_forward
from astrobio.production.quantize import quantize_int8
from astrobio.production.release import release_component
from astrobio.production.report import machine_info
from astrobio.catalog import get_spec
from astrobio.store import artifact_prefix, open_store, publish_dir, read_manifest
from astrobio.trainer import StopFlag, TrainingRun, train
from astrobio.trainer.distributed import DistEnv

ROOT = Path(__file__).resolve().parents[1]
COMMON = ["trainer.device=cpu", "trainer.early_stopping.metric=null", "trainer.log_every=1000000"]
WORKLOADS: dict[str, tuple[str, int, list[str]]] = {  # component, training steps, overrides
    "graph_vae_smoke": ("graph_vae", 30, []),
    "graph_vae_wide": ("graph_vae", 30, ["components.graph_vae.model.hidden_dim=512",
                                         "components.graph_vae.model.latent_dim=128"]),
    "causal_smoke": ("causal", 600, []),  # the smoke setting converges in ~600 cheap full-batch steps
}


def train_artifact(component: str, overrides: list[str], steps: int, root: Path) -> Path:
    """Train and publish one artifact into a local store under `root`; return its folder."""
    cfg = load_config(ROOT / "configs" / "smoke.yaml", [*COMMON, *overrides, f"trainer.max_steps={steps}",
                                                       f"trainer.eval_every={steps}", f"trainer.checkpoint.every={steps}",
                                                       f"components.{component}.trainer.max_steps={steps}",
                                                       f"components.{component}.trainer.eval_every={steps}",
                                                       f"components.{component}.trainer.checkpoint.every={steps}"])
    spec, section = get_spec(component), cfg.component(component)
    store = open_store(str(root / "store"), {})
    prefix = artifact_prefix("bench", spec.phase, component)

    def publish(folder: Path) -> str:
        publish_dir(store, folder, prefix)
        return f"{store.uri}/{prefix}"

    job = TrainingRun(spec=spec, cfg=section, seed=0, output_dir=root / "work", run_id="bench",
                   config_hash=config_hash(section), publish=publish)
    with contextlib.redirect_stdout(io.StringIO()):
        train(job, DistEnv.from_env({}), StopFlag())
    return root / "store" / prefix


def run_workload(name: str, options: ProductionOptions, steps: int | None = None) -> dict[str, Any]:
    component, default_steps, overrides = WORKLOADS[name]
    steps = steps or default_steps
    with tempfile.TemporaryDirectory(prefix=f"bench-{name}-") as tmp:
        start = time.perf_counter()
        folder = train_artifact(component, overrides, steps, Path(tmp))
        trained = time.perf_counter() - start
        files = {rel: e["size"] for rel, e in read_manifest(open_store(str(folder), {}), "")["files"].items()}
        report = release_component(component, files, lambda: folder, lambda n: folder, Path(tmp) / "exports",
                                   Path(tmp) / "cache", options, log=lambda _: None)
        out = report.to_dict()
        if (out.get("quantize") or {}).get("applied"):
            out["profile_fp32"] = fp32_profile(component, folder, Path(tmp) / "cache")
    out.update({"workload": name, "overrides": overrides, "train_steps": steps, "train_seconds": round(trained, 2)})
    return out


def fp32_profile(component: str, folder: Path, cache: Path) -> dict[str, Any]:
    """Where the fp32 forward's CPU time goes on the release's own batch (astrobio.production.profile):
    the Linear layers' share bounds what dynamic int8 can win, the top other operators say why;
    and how much faster int8 makes the Linear layers themselves (per-call activation quantisation
    can cost what the int8 product saves when the matrices are small)."""
    loaded = load_component(get_spec(component), folder, cache, {})
    model, batch = loaded.model.eval(), loaded.example_batch()
    prof = profile_forward(model, lambda: model(batch))
    fp32_linear_ms = prof.cpu_ms * prof.linear_share
    quantized, _ = quantize_int8(model)
    if quantized is None:
        return {**prof.to_dict(), "why": prof.why()}
    int8_ms, int8_share = linear_share(quantized, lambda: quantized(batch))
    int8_linear_ms = int8_ms * int8_share
    faster = fp32_linear_ms / int8_linear_ms if int8_linear_ms > 0 else float("inf")
    return {**prof.to_dict(), "fp32_linear_ms": round(fp32_linear_ms, 3), "int8_linear_ms": round(int8_linear_ms, 3),
            "why": f"{prof.why()}; int8 makes the Linear layers {faster:.2f}x faster "
                   f"({fp32_linear_ms:.2f} -> {int8_linear_ms:.2f} ms CPU per call)"}


def summary(r: dict[str, Any]) -> dict[str, Any]:
    """The headline numbers of one workload."""
    fp32, int8 = r.get("latency_fp32") or {}, r.get("latency_int8") or {}
    metric = r.get("metric")
    return {"fp32_p50_ms": fp32.get("p50_ms"), "fp32_p95_ms": fp32.get("p95_ms"),
            "int8_p50_ms": int8.get("p50_ms"), "int8_p95_ms": int8.get("p95_ms"), "int8_speedup": r.get("speedup"),
            "metric": metric, "fp32_metric": r.get("metrics_fp32", {}).get(metric),
            "int8_metric_delta": r.get("metric_deltas", {}).get(metric),
            "int8_applied": bool((r.get("quantize") or {}).get("applied")),
            "export": (r.get("export_fp32") or {}).get("method"),
            "export_int8": (r.get("export_int8") or {}).get("method"), "num_parameters": r.get("num_parameters"),
            "why": (r.get("profile_fp32") or {}).get("why")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--steps", type=int, default=None, help="training steps (default: per workload)")
    parser.add_argument("--workloads", nargs="*", default=list(WORKLOADS))
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "production_int8_script.json",
                        help="(`python -m benchmarks` writes production_int8.json itself)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    options = ProductionOptions(warmup=5, repeats=args.repeats, num_threads=args.threads, budget_s=300)
    load_before = os.getloadavg()
    results = {name: run_workload(name, options, args.steps) for name in args.workloads}
    doc = {"benchmark": "production_int8", "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
           "machine": {**machine_info(), "cpu_count": os.cpu_count(), "loadavg_before": load_before,
                       "loadavg_after": os.getloadavg()},
           "options": {"threads": args.threads, "warmup": options.warmup, "repeats": args.repeats},
           "summary": {name: summary(r) for name, r in results.items()}, "workloads": results}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(doc, indent=2, default=str) + "\n", encoding="utf-8")
    print(json.dumps(doc["summary"], indent=2))


if __name__ == "__main__":
    main()
