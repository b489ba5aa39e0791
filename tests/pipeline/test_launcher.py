"""A training step: kubeflow mode creates exactly the rendered PyTorchJob and waits on it; local
mode runs the train command; both check upstream artifacts and reuse a complete artifact."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from astrobio.config import AstrobioConfig, load_config, to_yaml
from astrobio.errors import RuntimeFailure, UsageError
from astrobio.kube.render.pytorchjob import render_pytorchjob
from astrobio.pipeline.launcher import TRAIN_COMMAND_ENV, report_failure_and_exit, run_train_step
from astrobio.pipeline.pod_identity import NAME_ENV, NAMESPACE_ENV, UID_ENV
from astrobio.pipeline.pytorchjob_launch import job_model, wait_for_job
from astrobio.store import artifact_prefix, is_complete, open_store, publish_dir
from tests.pipeline.helpers import DEFAULT_CONFIG, fake_train_command
from tests.pipeline.fakes import FakeTrainingClient
from tests.s3server import RecordingSleep, S3TestServer, running_s3_server, unique_bucket

METRICS = {"val_auc": 0.91, "baseline_cn_val_auc": 0.75}


@pytest.fixture(scope="module")
def s3() -> Iterator[S3TestServer]:
    with running_s3_server() as server:
        yield server


@pytest.fixture
def s3_cfg(s3: S3TestServer) -> AstrobioConfig:
    """A config whose store is a fresh bucket on the moto server."""
    bucket = unique_bucket()
    open_store(f"s3://{bucket}", s3.env()).ensure_bucket()  # type: ignore[attr-defined]
    return load_config(DEFAULT_CONFIG, [f"store.uri=s3://{bucket}/team", "run.run_id=r1"])


def publish_fake_artifact(cfg: AstrobioConfig, component: str, env: dict[str, str], phase: str = "pretrain") -> str:
    """What the PyTorchJob's pods would leave behind: an artifact with metrics.json, COMPLETE last."""
    store = open_store(cfg.store.uri, env)
    prefix = artifact_prefix(cfg.run.effective_run_id, phase, component)
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "metrics.json").write_text(json.dumps(METRICS))
        publish_dir(store, Path(tmp), prefix)
    return f"{store.uri.rstrip('/')}/{prefix}"


POD = {NAMESPACE_ENV: "astrobio", NAME_ENV: "astrobio-five-phase-abc-123", UID_ENV: "0d9c7f4e-uid"}
"""What the downward API gives a step pod (the compiled pipeline maps these fields)."""


def kubeflow_step(cfg: AstrobioConfig, env: dict[str, str], client: Any, logs: list[str]) -> Any:
    return run_train_step(component="graph_vae", run_id="r1", config_yaml=to_yaml(cfg), store_uri=cfg.store.uri,
                          mode="kubeflow", upstream="{}", env={**POD, **env}, training_client=client,
                          log=logs.append)


def test_kubeflow_mode_creates_exactly_the_rendered_job(s3: S3TestServer, s3_cfg: AstrobioConfig) -> None:
    env = s3.env()
    client = FakeTrainingClient(["Succeeded"], on_state=lambda _: publish_fake_artifact(s3_cfg, "graph_vae", env))
    logs: list[str] = []
    result = kubeflow_step(s3_cfg, env, client, logs)

    (job, namespace), = client.created
    from kubeflow.training import ApiClient

    expected = render_pytorchjob(s3_cfg, "graph_vae", run_id="r1")
    expected["metadata"]["ownerReferences"] = [{"apiVersion": "v1", "kind": "Pod", "name": POD[NAME_ENV],
                                                "uid": POD[UID_ENV]}]
    assert ApiClient().sanitize_for_serialization(job) == expected
    assert namespace == "astrobio"
    assert result.artifact_uri == f"{s3_cfg.store.uri}/runs/r1/pretrain/graph_vae"
    assert result.metrics == METRICS and not result.reused
    assert result.details == {"PyTorchJob": "astrobio/astrobio-graph-vae-r1"}
    assert logs[1] == "PyTorchJob astrobio/astrobio-graph-vae-r1: created"
    assert "Succeeded (PyTorchJobSucceeded)" in logs[2]


def test_kubeflow_mode_reports_a_failed_job_clearly(s3: S3TestServer, s3_cfg: AstrobioConfig) -> None:
    client = FakeTrainingClient(["Failed"])
    with pytest.raises(RuntimeFailure) as info:
        kubeflow_step(s3_cfg, s3.env(), client, [])
    message = str(info.value)
    assert "PyTorchJob astrobio/astrobio-graph-vae-r1 failed: Failed (PyTorchJobFailed)" in message
    assert "kubectl logs -n astrobio -l training.kubeflow.org/job-name=astrobio-graph-vae-r1" in message
    assert "\n" not in message


def test_kubeflow_mode_attaches_to_a_job_that_already_exists(s3: S3TestServer, s3_cfg: AstrobioConfig) -> None:
    env = s3.env()
    client = FakeTrainingClient(["Running", "Succeeded"], exists=True,
                                on_state=lambda s: s == "Succeeded" and publish_fake_artifact(s3_cfg, "graph_vae", env))
    logs: list[str] = []
    with pytest.MonkeyPatch.context() as mp:  # no real 15 s poll interval
        mp.setattr("astrobio.pipeline.pytorchjob_launch.time.sleep", lambda _: None)
        result = kubeflow_step(s3_cfg, env, client, logs)
    assert client.created == [] and result.metrics == METRICS
    assert "already exists; attaching" in logs[1]


def test_kubeflow_mode_refuses_an_existing_failed_job(s3: S3TestServer, s3_cfg: AstrobioConfig) -> None:
    with pytest.raises(RuntimeFailure, match="kubectl delete pytorchjob -n astrobio astrobio-graph-vae-r1"):
        kubeflow_step(s3_cfg, s3.env(), FakeTrainingClient(["Failed"], exists=True), [])


def test_kubeflow_mode_needs_an_s3_store(tmp_path: Path) -> None:
    cfg = load_config(DEFAULT_CONFIG, [f"store.uri={tmp_path}"])
    with pytest.raises(UsageError, match="kubeflow mode needs an s3:// artifact store"):
        kubeflow_step(cfg, {}, FakeTrainingClient(["Succeeded"]), [])


def test_a_complete_artifact_is_reused_without_a_job(s3: S3TestServer, s3_cfg: AstrobioConfig) -> None:
    publish_fake_artifact(s3_cfg, "graph_vae", s3.env())
    client = FakeTrainingClient(["Failed"])
    result = kubeflow_step(s3_cfg, s3.env(), client, [])
    assert result.reused and client.created == [] and result.metrics == METRICS


def test_wait_streams_each_new_status_once() -> None:
    client = FakeTrainingClient([None, "Created", "Running", "Running", "Succeeded"])
    client.created.append((None, "astrobio"))
    logs: list[str] = []
    sleeps = RecordingSleep()
    wait_for_job(client, "j", "astrobio", logs.append, poll_s=2.0, sleep=sleeps)
    assert [line.split(": ", 1)[1].split(" (")[0] for line in logs] == ["Pending", "Created", "Running", "Succeeded"]
    assert "Master 1 active" in logs[2]
    assert sleeps.calls == [2.0] * 4


def test_wait_gives_up_at_the_deadline() -> None:
    client = FakeTrainingClient(["Running"])
    client.created.append((None, "astrobio"))
    ticks = iter(range(0, 1000, 10))
    with pytest.raises(RuntimeFailure, match="did not finish within 25 s"):
        wait_for_job(client, "j", "astrobio", lambda _: None, timeout_s=25, sleep=lambda _: None,
                     clock=lambda: float(next(ticks)))


def test_a_field_the_sdk_model_would_drop_is_an_error(default_cfg: AstrobioConfig) -> None:
    rendered = render_pytorchjob(default_cfg, "graph_vae", run_id="r1")
    rendered["spec"]["madeUpField"] = 1
    with pytest.raises(RuntimeFailure, match="field spec.madeUpField would change"):
        job_model(rendered)


def local_step(tmp_path: Path, component: str = "graph_vae", upstream: str = "{}", **env: str) -> Any:
    cfg = load_config(DEFAULT_CONFIG, [f"store.uri={tmp_path / 'store'}", "run.run_id=r1"])
    return run_train_step(component=component, run_id="r1", config_yaml=to_yaml(cfg), store_uri=cfg.store.uri,
                          mode="local", upstream=upstream, env={TRAIN_COMMAND_ENV: fake_train_command(), **env},
                          log=lambda _: None)


def test_local_mode_trains_through_the_train_command_and_then_reuses(tmp_path: Path) -> None:
    result = local_step(tmp_path)
    assert result.artifact_uri == str(tmp_path / "store" / "runs" / "r1" / "pretrain" / "graph_vae")
    assert result.metrics["val_auc"] == 0.9 and not result.reused
    assert "fake_train.py --component graph_vae --config" in result.details["command"]
    again = local_step(tmp_path, FAKE_TRAIN_FAIL="graph_vae")  # would fail if it trained again
    assert again.reused and again.artifact_uri == result.artifact_uri


def test_local_mode_reports_the_failed_command(tmp_path: Path) -> None:
    with pytest.raises(RuntimeFailure, match=r"graph_vae: `.*fake_train.py --component graph_vae .*` exited with code 3"):
        local_step(tmp_path, FAKE_TRAIN_FAIL="graph_vae")
    assert not is_complete(open_store(str(tmp_path / "store"), {}), "runs/r1/pretrain/graph_vae")


def test_upstream_must_be_exactly_what_phases_needs(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"upstream artifacts \['graph_vae'\] differ from what PHASES needs"):
        local_step(tmp_path, "fusion", json.dumps({"graph_vae": "/x"}))
    with pytest.raises(UsageError, match="upstream must be a JSON object"):
        local_step(tmp_path, "fusion", "not json")


def test_an_incomplete_upstream_artifact_stops_the_step(tmp_path: Path) -> None:
    upstream = {name: str(tmp_path / "store" / name) for name in ("graph_vae", "datacube", "spectra", "causal")}
    with pytest.raises(RuntimeFailure, match="upstream artifact of causal at .* is incomplete"):
        local_step(tmp_path, "fusion", json.dumps(upstream))


def test_unknown_mode_and_component_are_usage_errors(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="pipeline mode 'docker' is not one of: kubeflow, local"):
        run_train_step(component="graph_vae", run_id="r", config_yaml="{}", store_uri="", mode="docker",
                       upstream="{}", env={})
    with pytest.raises(UsageError, match="component 'nope' is in no phase"):
        run_train_step(component="nope", run_id="r", config_yaml="{}", store_uri="", mode="local",
                       upstream="{}", env={})


def test_step_failure_is_one_line_and_the_cli_exit_code(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        report_failure_and_exit(UsageError("bad thing"))
    assert info.value.code == 2
    assert capsys.readouterr().err == "error: bad thing\n"
