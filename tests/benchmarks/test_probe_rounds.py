"""data_pipeline and memory share one probe per component and round; every `--repeat` round probes anew."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest

from benchmarks import bench_components
from benchmarks.common import Options


def test_each_round_probes_anew_and_the_two_benchmarks_share_a_round(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[list[str]] = []

    def fake_run(cmd: list[str], **_kwargs: Any) -> subprocess.CompletedProcess[str]:
        calls.append(cmd)
        return subprocess.CompletedProcess(cmd, 0, stdout=json.dumps({"run": len(calls)}) + "\n", stderr="")

    monkeypatch.setattr(bench_components, "_PROBES", {})
    monkeypatch.setattr(bench_components.subprocess, "run", fake_run)
    first = bench_components.probe("causal", Options(round=0))
    assert bench_components.probe("causal", Options(round=0)) is first  # memory reads data_pipeline's probe
    second = bench_components.probe("causal", Options(round=1))
    assert (first["run"], second["run"], len(calls)) == (1, 2, 2)
