"""`make run`'s wall time: all five phases on configs/smoke.yaml, written to results/run_smoke.json.

    python -m benchmarks.run_smoke                       # the full run (~10 min on 2 idle cores)
    python -m benchmarks.run_smoke --quick --results /tmp/b   # phase 1 at 2 steps: the plumbing only

Runs `astrobio run` exactly as `make run` does (one torch thread) in a fresh folder, reads the
run.json it writes (per-phase seconds come from the runner, not from this script's clock) and
records the command that produced the file.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import RESULTS, ROOT, Row, machine, quiet_env

GOAL_SECONDS = 900
QUICK = ("--phases", "1", *(arg for name in ("graph_vae", "datacube", "spectra", "causal")
                             for arg in ("--set", f"components.{name}.trainer.max_steps=2")))


LLM_GAIN = 0.15  # issue #16: numeric-answer accuracy at least this far above the base model's


def llm_row(run: dict[str, Any]) -> Row | None:
    """The llm's held-out numeric-answer accuracy over the base model's, as `make run` trained it
    (None when the run has no llm metrics, e.g. --quick)."""
    for phase in run["phases"]:
        m = ((phase.get("components") or {}).get("llm") or {}).get("metrics") or {}
        if "test_num_acc" in m and "baseline_base_test_num_acc" in m:
            gain = m["test_num_acc"] - m["baseline_base_test_num_acc"]
            note = (f"tuned {m['test_num_acc']:.3f}, base {m['baseline_base_test_num_acc']:.3f} on "
                    f"{m.get('test_num_questions', 0):.0f} test questions"
                    + (f"; the readout alone {m['test_readout_num_acc']:.3f}" if "test_readout_num_acc" in m else ""))
            return Row("llm: test numeric-answer accuracy over the base model", round(gain, 4), None, "",
                       goal=f">= {LLM_GAIN}", met=gain >= LLM_GAIN, note=note)
    return None


def result(run: dict[str, Any], wall: float, command: str, quick: bool) -> dict[str, Any]:
    """The results document from a finished run's run.json (pure)."""
    done = run["error"] is None and all(p["status"] == "complete" for p in run["phases"])
    row = Row("`astrobio run` wall, smoke config" + (" (phase 1, 2 steps)" if quick else ", five phases"),
              run["wall_seconds"], None, "s", goal=f"< {GOAL_SECONDS} s",
              met=done and run["wall_seconds"] < GOAL_SECONDS,
              note=", ".join(f"{p['name']} {p['seconds']:.0f} s" for p in run["phases"]) + ("" if done else "; FAILED"))
    return {"benchmark": "run_smoke", "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "command": command, "quick": quick, "device": "cpu", "seconds": round(wall, 1), "machine": machine(),
            "rows": [r.__dict__ for r in (row, llm_row(run)) if r is not None],
            "details": {"runner": run["runner"], "error": run["error"], "phases": run["phases"]}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run_smoke", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="run-smoke-") as tmp:
        cmd = [sys.executable, "-m", "astrobio", "run", "--config", "configs/smoke.yaml", "--output", tmp,
               "--set", f"store.uri={tmp}/artifacts", *(QUICK if args.quick else ())]
        t0 = time.perf_counter()
        done = subprocess.run(cmd, cwd=ROOT, env=quiet_env())
        wall = time.perf_counter() - t0
        run_file = Path(tmp) / "run.json"
        if not run_file.is_file():
            print(f"astrobio run exited {done.returncode} without writing run.json", file=sys.stderr)
            return 1
        doc = result(json.loads(run_file.read_text()), wall,
                     "python -m benchmarks.run_smoke" + (" --quick" if args.quick else ""), args.quick)
    args.results.mkdir(parents=True, exist_ok=True)
    out = args.results / "run_smoke.json"
    out.write_text(json.dumps(doc, indent=2, default=str) + "\n")
    print(f"{out}: {doc['rows'][0]['astrobio']} s, exit {done.returncode}", file=sys.stderr)
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())
