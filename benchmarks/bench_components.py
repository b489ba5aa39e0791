"""Data pipeline and memory, per component, each measured in a fresh process (benchmarks/probe_component.py).

- data_pipeline: per batch, the time to draw the next batch from the trainer's `batch_stream` and
  move it to the device, vs a whole training step with it (forward, backward, optimizer). Goal: data
  < 5% of step time for every component.
- memory: peak RSS (VmHWM of the fresh process) of build_data + build_model + a few optimizer steps on the smoke
  config. Goal: report; none above 4 GiB.
Both benchmarks read the same probe runs, so `python -m benchmarks` probes each component once per
round: with `--repeat N` every round probes anew (the probes were once kept across rounds, so the
three "runs" of these two benchmarks were one run, three times).
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from typing import Any

from astrobio.catalog import component_names
from benchmarks.common import ROOT, Options, Result, Row, python, quiet_env

_PROBES: dict[tuple[str, bool, str, int], dict[str, Any]] = {}
"""Probe results by (component, quick, device, round): shared by data_pipeline and memory within a round."""
QUICK_COMPONENTS = ["causal"]
SLOW = {"llm": (2, 2)}  # (batches per block, repeats): a 135M-parameter step takes seconds on a CPU
GIB = 1024.0


def probe(component: str, opts: Options) -> dict[str, Any]:
    key = (component, opts.quick, opts.device, opts.round)
    if key not in _PROBES:
        steps, repeats = (2, 1) if opts.quick else SLOW.get(component, (6, 3))
        cmd = [*python(), "-m", "benchmarks.probe_component", component, "--config", "configs/smoke.yaml",
               "--steps", str(steps), "--repeats", str(repeats), "--device", opts.device]
        done = subprocess.run(cmd, cwd=ROOT, env=quiet_env(), capture_output=True, text=True, timeout=900)
        if done.returncode != 0:
            _PROBES[key] = {"component": component, "error": (done.stderr or done.stdout).strip().splitlines()[-1:]}
        else:
            _PROBES[key] = json.loads(done.stdout.strip().splitlines()[-1])
    return _PROBES[key]


def components(opts: Options) -> list[str]:
    return QUICK_COMPONENTS if opts.quick else component_names()


def probe_rows(opts: Options, label: str, unit: str, row_of: Callable[[str, dict[str, Any]], Row]) -> tuple[list[Row], dict[str, Any]]:
    """One row per component from its probe; a failed probe becomes a row saying why."""
    rows, details = [], {}
    for name in components(opts):
        p = probe(name, opts)
        details[name] = p
        rows.append(Row(f"{name}: {label}", None, None, unit, note=f"failed: {p['error']}") if "error" in p
                    else row_of(name, p))
    return rows, details


def run_data(opts: Options) -> Result:
    def row(name: str, p: dict[str, Any]) -> Row:
        data_ms, step_ms = p["data_s_per_batch"] * 1e3, p["step_s_per_batch"] * 1e3
        return Row(f"{name}: data vs whole step", data_ms, step_ms, "ms", "step with model",
                   goal="< 0.05", met=data_ms / step_ms < 0.05)

    rows, details = probe_rows(opts, "data vs whole step", "ms", row)
    return Result("data_pipeline", rows, {"config": "configs/smoke.yaml", "device": opts.device, "probes": details})


def run_memory(opts: Options) -> Result:
    def row(name: str, p: dict[str, Any]) -> Row:
        return Row(f"{name}: peak RSS", p["peak_rss_mib"], None, "MiB", goal="< 4096 MiB",
                   met=p["peak_rss_mib"] < 4 * GIB, note=f"after import {p['rss_after_import_mib']:.0f} MiB")

    rows, details = probe_rows(opts, "peak RSS", "MiB", row)
    return Result("memory", rows, {"config": "configs/smoke.yaml", "device": opts.device,
                                   "what": "peak RSS (VmHWM) of a fresh process: imports + build_data + build_model + "
                                           "a few optimizer steps", "probes": details})
