"""`python -m benchmarks --quick` runs every benchmark end to end and writes well-formed results.

Tiny sizes, so the numbers mean nothing: this checks the plumbing (peers importable, subprocesses
start, the S3 server answers, JSON shape), never timings.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.__main__ import BENCHMARKS

ROOT = Path(__file__).resolve().parents[2]
ROW_KEYS = {"name", "astrobio", "peer", "unit", "peer_name", "ratio", "goal", "met", "note"}


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    results = tmp_path_factory.mktemp("bench")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-m", "benchmarks", "--quick", "--device", "cpu", "--results", str(results)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-4000:]
    return results, done.stdout


@pytest.mark.parametrize("name", list(BENCHMARKS))
def test_each_benchmark_writes_a_well_formed_result(quick_run: tuple[Path, str], name: str) -> None:
    results, stdout = quick_run
    doc = json.loads((results / f"{name}.json").read_text())
    assert doc["benchmark"] == name and doc["quick"] is True and doc["device"] == "cpu"
    assert doc["command"] == f"python -m benchmarks --device cpu --only {name} --quick"
    assert {"cpu", "cores", "torch", "gpu", "python"} <= set(doc["machine"])
    assert doc["created"].endswith("Z") and isinstance(doc["details"], dict)
    assert doc["rows"], "a benchmark reports at least one row"
    for row in doc["rows"]:
        assert set(row) == ROW_KEYS
        assert row["met"] in (True, False, None)
        for key in ("astrobio", "peer", "ratio"):
            assert row[key] is None or isinstance(row[key], (int, float))
    assert name in stdout  # the printed table has its rows
