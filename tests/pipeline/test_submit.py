"""Submitting: a dry run compiles and summarises without network; credentials are taken the way
kfp.Client takes them; an unreachable host or an endpoint that asks for login is one line."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import pytest

from astrobio.config import AstrobioConfig
from astrobio.errors import RuntimeFailure, UsageError
from astrobio.pipeline import kfp_auth
from astrobio.pipeline.kfp_auth import KfpAuth, client_kwargs, probe_host, resolve_auth
from astrobio.pipeline.submit import create_run, normalise_host, submit_pipeline
from tests.pipeline.kfp_server import TOKEN, FakeKfp, kfp_host  # noqa: F401 - kfp_host is a fixture
from tests.s3server import closed_port


def test_unreachable_host_is_a_usage_error_naming_it(default_cfg: AstrobioConfig) -> None:
    host = f"http://127.0.0.1:{closed_port()}"
    with pytest.raises(UsageError) as info:
        submit_pipeline(default_cfg, host, None, dry_run=False, env={})
    assert str(info.value).startswith(f"KFP host {host} is unreachable")
    assert "\n" not in str(info.value)


def test_dry_run_compiles_and_summarises_without_network(default_cfg: AstrobioConfig, tmp_path: Path) -> None:
    summary = submit_pipeline(default_cfg, "kfp.example.invalid:80", "my run", dry_run=True, workdir=tmp_path,
                              namespace="team-a", env={kfp_auth.TOKEN_ENV: TOKEN})
    assert summary.splitlines()[0] == (f"dry run: would submit {tmp_path}/pipelines/astrobio-five-phase.yaml "
                                       "to http://kfp.example.invalid:80")
    assert "run 'my run'" in summary and "phase 1 pretrain: graph_vae" in summary
    assert "namespace team-a, service account (KFP default runner)" in summary
    assert "store_uri=s3://astrobio/artifacts " in summary and TOKEN not in summary
    assert (tmp_path / "pipelines" / "astrobio-five-phase.yaml").is_file()


def test_bad_names_are_usage_errors(default_cfg: AstrobioConfig) -> None:
    with pytest.raises(UsageError, match="--namespace 'Team_A' is not a valid Kubernetes name"):
        submit_pipeline(default_cfg, "http://kfp", None, dry_run=True, namespace="Team_A", env={})


def test_host_forms() -> None:
    assert normalise_host("localhost:8080/") == "http://localhost:8080"
    assert normalise_host("https://kfp.example.org") == "https://kfp.example.org"
    with pytest.raises(UsageError):
        normalise_host("  ")


def test_credentials_in_the_order_kfp_takes_them(tmp_path: Path) -> None:
    """kfp 2.13 `Client(host, namespace, existing_token, kube_context, credentials)`: an existing
    token wins, then the projected KFP token (KF_PIPELINES_SA_TOKEN_PATH, kfp.client), then with no
    host the kubeconfig (API server proxy to ml-pipeline in KFP's namespace)."""
    import kfp
    import kfp.client

    assert kfp_auth.SA_TOKEN_PATH_ENV == kfp.client.KF_PIPELINES_SA_TOKEN_ENV
    assert str(kfp_auth.SA_TOKEN_PATH) == kfp.client.KF_PIPELINES_SA_TOKEN_PATH
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    sa_env = {kfp_auth.SA_TOKEN_PATH_ENV: str(token_file)}
    no_file = {kfp_auth.SA_TOKEN_PATH_ENV: str(tmp_path / "absent")}
    assert resolve_auth("http://h", {**sa_env, kfp_auth.TOKEN_ENV: "t"}).kind == "token"
    assert resolve_auth("http://h", sa_env, token="t2").token == "t2"
    sa = resolve_auth("http://h", sa_env)
    assert sa.kind == "service-account-token" and sa.bearer() == TOKEN
    assert resolve_auth(None, no_file, kube_context="ctx") == KfpAuth("kubeconfig", kube_context="ctx")
    assert resolve_auth("http://h", no_file).kind == "none"

    signature = inspect.signature(kfp.Client)
    token_kwargs = client_kwargs(KfpAuth("token", token="t"), "http://h", "team-a")
    assert token_kwargs == {"host": "http://h", "namespace": "team-a", "existing_token": "t"}
    sa_kwargs = client_kwargs(sa, "http://h", "team-a")
    assert sa_kwargs["credentials"].__class__ is kfp.client.ServiceAccountTokenVolumeCredentials
    kube_kwargs = client_kwargs(KfpAuth("kubeconfig", kube_context="ctx"), None, "team-a")
    assert kube_kwargs == {"host": None, "kube_context": "ctx", "namespace": "kubeflow"}
    for kwargs in (token_kwargs, sa_kwargs, kube_kwargs):
        signature.bind(**kwargs)  # every keyword exists in kfp.Client


@pytest.mark.parametrize("mode, why", [("dex", "HTTP 302 redirect to /dex/auth"), ("401", "HTTP 401"),
                                       ("html", "HTML page")])
def test_an_endpoint_that_asks_for_login_is_one_line(kfp_host: str, mode: str, why: str) -> None:
    FakeKfp.mode = mode
    with pytest.raises(UsageError) as info:
        probe_host(kfp_host, KfpAuth("none"), "team-a")
    message = str(info.value)
    assert message.startswith(f"KFP at {kfp_host} asks for login (") and why in message
    assert "--token" in message and "kubectl -n team-a create token default-editor" in message
    assert "\n" not in message
    probe_host(kfp_host, KfpAuth("token", token=TOKEN))  # the same endpoint with a token is fine


class RecordingClient:
    calls: list[tuple[str, dict[str, Any]]] = []
    error: Exception | None = None

    def __init__(self, **kwargs: Any) -> None:
        RecordingClient.calls.append(("Client", kwargs))

    def create_run_from_pipeline_package(self, path: str, **kwargs: Any) -> Any:
        if RecordingClient.error is not None:
            raise RecordingClient.error
        RecordingClient.calls.append(("create_run", {"path": path, **kwargs}))
        return type("Result", (), {"run_id": "run-42"})()


def test_multi_user_submit_passes_token_namespace_and_account(default_cfg: AstrobioConfig, kfp_host: str,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    import kfp

    RecordingClient.calls, RecordingClient.error = [], None
    monkeypatch.setattr(kfp, "Client", RecordingClient)
    run_id = submit_pipeline(default_cfg, kfp_host, "r", dry_run=False, namespace="team-a",
                             service_account="astrobio-pipeline-runner", env={kfp_auth.TOKEN_ENV: TOKEN})
    assert run_id == "run-42"
    (_, client), (_, run) = RecordingClient.calls
    assert client == {"host": kfp_host, "namespace": "team-a", "existing_token": TOKEN}
    assert run["namespace"] == "team-a" and run["service_account"] == "astrobio-pipeline-runner"
    assert run["experiment_name"] == "astrobio" and run["run_name"] == "r"


def test_refusals_from_the_api_are_one_line(default_cfg: AstrobioConfig, tmp_path: Path) -> None:
    import kfp_server_api

    RecordingClient.calls = []
    RecordingClient.error = kfp_server_api.ApiException(status=401, reason="Unauthorized")
    with pytest.raises(UsageError, match="asks for login"):
        create_run(default_cfg, tmp_path / "p.yaml", "r", {"host": "http://h"}, "team-a", None, RecordingClient)
    RecordingClient.error = kfp_server_api.ApiException(status=403, reason="Forbidden")
    with pytest.raises(RuntimeFailure, match=r"HTTP 403 Forbidden \(may this identity run pipelines in namespace team-a\?\)"):
        create_run(default_cfg, tmp_path / "p.yaml", "r", {"host": "http://h"}, "team-a", None, RecordingClient)
    RecordingClient.error = None
