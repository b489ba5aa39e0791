"""The very pipeline the cluster runs, run by kfp.local in local mode with a fast train stub."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from astrobio.config import load_config
from astrobio.errors import RuntimeFailure
from astrobio.catalog import PHASES
from astrobio.pipeline.kfp_components import kfp_component_name
from astrobio.pipeline.launcher import TRAIN_COMMAND_ENV
from astrobio.pipeline.local_run import run_pipeline_locally
from tests.pipeline.helpers import DEFAULT_CONFIG, fake_train_command


@pytest.fixture
def stubbed(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """kfp.local steps inherit this process's environment: point them at the stub."""
    monkeypatch.setenv(TRAIN_COMMAND_ENV, fake_train_command())
    monkeypatch.delenv("FAKE_TRAIN_FAIL", raising=False)
    return monkeypatch


def test_whole_pipeline_runs_locally_in_dependency_order(stubbed: pytest.MonkeyPatch, tmp_path: Path) -> None:
    cfg = load_config(DEFAULT_CONFIG, [f"store.uri={tmp_path / 'store'}", "run.run_id=local1"])
    result = run_pipeline_locally(cfg, tmp_path)

    order = [task.name for task in result.tasks]
    assert sorted(order) == sorted(kfp_component_name(c) for p in PHASES for c in p.components)
    position = {name: i for i, name in enumerate(order)}
    for phase in PHASES:
        for component in phase.components:
            for need in (c for p in PHASES if p.name in phase.needs for c in p.components):
                assert position[kfp_component_name(need)] < position[kfp_component_name(component)]
    assert result.artifact("train-fusion") == str(tmp_path / "store/runs/local1/integrate/fusion")
    registry = json.loads((tmp_path / "store/runs/local1/production/production/registry.json").read_text())
    assert [e["component"] for e in registry["entries"]] == sorted(
        c for p in PHASES[:4] for c in p.components)
    report = (result.run_dir / "production" / "report").read_text()
    assert "Registered artifacts" in report and "baseline cn" in report


def test_a_failed_step_stops_the_run_with_its_error_line(stubbed: pytest.MonkeyPatch, tmp_path: Path) -> None:
    stubbed.setenv("FAKE_TRAIN_FAIL", ",".join(PHASES[0].components))  # whichever step runs first fails
    cfg = load_config(DEFAULT_CONFIG, [f"store.uri={tmp_path / 'store'}", "run.run_id=local2"])
    with pytest.raises(RuntimeFailure) as info:
        run_pipeline_locally(cfg, tmp_path)
    message = str(info.value)
    assert "Inner task failed: 'train-" in message
    assert "exited with code 3" in message and "error: " in message
    assert "\x1b[" not in message and "\n" not in message
    assert not list((tmp_path / "store").glob("runs/local2/*/*/COMPLETE"))
