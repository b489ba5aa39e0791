"""Submitting: dry runs print exactly the object, missing credentials are one usage line, status streams."""

from __future__ import annotations

import pytest
import typer
import yaml
from typer.testing import CliRunner

from astrobio.config import load_config
from astrobio.errors import RuntimeFailure, UsageError
from astrobio.kube.render.pytorchjob import render_pytorchjob
from astrobio.kube.submission.status import status_line, wait_for_conditions
from astrobio.kube.submission.submit import ensure_absent, render_for_submit, submit_train
from astrobio.kube.render.trainjob import render_trainjob

from .conftest import variant

TINY = ["--set", "kube.gpu.per_node=0", "--set", "run.run_id=t1"]


def app() -> typer.Typer:
    """The real `astrobio` command tree."""
    from astrobio.cli import app as root

    return root


def no_cluster_env(tmp_path) -> dict[str, str]:
    return {"KUBECONFIG": str(tmp_path / "missing-kubeconfig"), "HOME": str(tmp_path)}


def test_no_kubeconfig_is_a_usage_error_naming_it(tmp_path):
    with pytest.raises(UsageError, match="KUBECONFIG=.*missing-kubeconfig"):
        submit_train(variant("cpu"), "graph_vae", env=no_cluster_env(tmp_path), note=lambda _: None)
    with pytest.raises(UsageError, match=r"\.kube/config does not exist"):
        submit_train(variant("cpu"), "graph_vae", env={"HOME": str(tmp_path)}, note=lambda _: None)


def test_cli_no_kubeconfig_exits_2_with_one_line(tmp_path, monkeypatch):
    for key, value in no_cluster_env(tmp_path).items():
        monkeypatch.setenv(key, value)
    result = CliRunner().invoke(app(), ["submit", "train", "--component", "graph_vae", *TINY])
    assert result.exit_code == 2
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "no kubeconfig" in errors[0] and "Traceback" not in result.output


@pytest.mark.parametrize("api", ["pytorchjob", "trainjob"])
def test_dry_run_yaml_round_trips(tmp_path, api):
    cfg = variant("cpu")
    text = submit_train(cfg, "graph_vae", dry_run=True, api=api, env=no_cluster_env(tmp_path), note=lambda _: None)
    assert yaml.safe_load(text) == render_for_submit(cfg, "graph_vae", api)[1]
    assert yaml.safe_load(text)["metadata"]["name"] == "astrobio-graph-vae-default"


def test_cli_dry_run_and_render_job_print_the_same_object(tmp_path, monkeypatch):
    for key, value in no_cluster_env(tmp_path).items():
        monkeypatch.setenv(key, value)
    runner = CliRunner()
    dry = runner.invoke(app(), ["submit", "train", "-c", "graph_vae", "--dry-run", "-n", "team-a", *TINY])
    assert dry.exit_code == 0, dry.output
    submitted = yaml.safe_load(dry.stdout)
    assert submitted["metadata"]["namespace"] == "team-a"
    rendered = runner.invoke(app(), ["render", "job", "-c", "graph_vae", "--run-id", "t1", *TINY])
    job = yaml.safe_load(rendered.stdout)
    assert job == render_pytorchjob(load_config(None, TINY[1::2]), "graph_vae", run_id="t1")
    assert submitted["spec"] == job["spec"]
    tj = yaml.safe_load(runner.invoke(app(), ["render", "job", "-c", "graph_vae", "--api", "trainjob", *TINY]).stdout)
    assert tj == render_trainjob(load_config(None, TINY[1::2]), "graph_vae")


@pytest.mark.parametrize("args, needle", [
    (["submit", "train", "-c", "graph_vae", "--backend", "local", "--dry-run"], "--backend"),
    (["submit", "train", "-c", "graph_vae", "--api", "tfjob", "--dry-run"], "--api"),
    (["submit", "train", "-c", "graph_vae", "-n", "Bad_NS", "--dry-run"], "--namespace"),
    (["render", "job", "-c", "graph_vea"], "did you mean 'graph_vae'"),
])
def test_cli_usage_errors(args, needle):
    result = CliRunner().invoke(app(), args)
    assert result.exit_code == 2 and needle in result.output


def test_unreachable_api_server_is_one_runtime_line(tmp_path):
    kubeconfig = tmp_path / "config"
    kubeconfig.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "dead",
        "clusters": [{"name": "dead", "cluster": {"server": "http://127.0.0.1:9"}}],
        "contexts": [{"name": "dead", "context": {"cluster": "dead", "user": "u"}}],
        "users": [{"name": "u", "user": {"token": "fake-token"}}],
    }))
    with pytest.raises(RuntimeFailure, match="cannot reach the Kubernetes API") as info:
        submit_train(variant("cpu"), "graph_vae", env={"KUBECONFIG": str(kubeconfig)}, note=lambda _: None)
    assert "\n" not in str(info.value) and "fake-token" not in str(info.value)


class FakeApiException(Exception):
    def __init__(self, status, body):
        self.status, self.body, self.reason = status, body, "x"


def test_ensure_absent_distinguishes_missing_job_missing_crd_and_existing(monkeypatch):
    import kubernetes.client.exceptions as exc_mod

    monkeypatch.setattr(exc_mod, "ApiException", FakeApiException)

    def raising(status, body):
        def get():
            raise FakeApiException(status, body)
        return get

    ensure_absent(raising(404, '{"kind":"Status","reason":"NotFound"}'), "PyTorchJob", "crd", "j", "ns")
    with pytest.raises(UsageError, match="no PyTorchJob API"):
        ensure_absent(raising(404, "404 page not found"), "PyTorchJob", "crd", "j", "ns")
    with pytest.raises(RuntimeFailure, match="already exists"):
        ensure_absent(lambda: {"metadata": {}}, "PyTorchJob", "crd", "j", "ns")


def test_status_streams_changes_until_done():
    states = iter([
        {},
        {"status": {"conditions": [{"type": "Created", "status": "True"}]}},
        {"status": {"conditions": [{"type": "Running", "status": "True"}],
                    "replicaStatuses": {"Master": {"active": 1}, "Worker": {"active": 1}}}},
        {"status": {"conditions": [{"type": "Running", "status": "True"}],
                    "replicaStatuses": {"Master": {"active": 1}, "Worker": {"active": 1}}}},
        {"status": {"conditions": [{"type": "Succeeded", "status": "True", "message": "done"}],
                    "replicaStatuses": {"Master": {"succeeded": 1}, "Worker": {"succeeded": 1}}}},
    ])
    lines: list[str] = []
    wait_for_conditions(lambda: next(states), "PyTorchJob", "j", "ns", done={"Succeeded"}, failed={"Failed"},
                        timeout_s=100, poll_s=1, note=lines.append, sleep=lambda _: None)
    assert lines == ["PyTorchJob j: Pending", "PyTorchJob j: Created",
                     "PyTorchJob j: Running (Master: active=1; Worker: active=1)",
                     "PyTorchJob j: Succeeded (Master: succeeded=1; Worker: succeeded=1) - done"]


def test_status_failure_and_timeout():
    failed = {"status": {"conditions": [{"type": "Failed", "status": "True", "message": "OOMKilled\nmore"}],
                         "jobsStatus": [{"name": "node", "failed": 1}]}}
    with pytest.raises(RuntimeFailure, match="TrainJob j: Failed \\(node: failed=1\\) - OOMKilled; logs: hint"):
        wait_for_conditions(lambda: failed, "TrainJob", "j", "ns", done={"Complete"}, failed={"Failed"},
                            timeout_s=10, poll_s=1, note=lambda _: None, logs_hint="hint", sleep=lambda _: None)
    ticks = iter(range(100))
    with pytest.raises(RuntimeFailure, match="did not finish within 3s"):
        wait_for_conditions(lambda: {}, "TrainJob", "j", "ns", done={"Complete"}, failed={"Failed"}, timeout_s=3,
                            poll_s=1, note=lambda _: None, sleep=lambda _: None, clock=lambda: next(ticks))
    assert status_line("TrainJob", "j", {}) == "TrainJob j: Pending"
