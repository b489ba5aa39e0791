"""astrobio doctor, KFP part: the kfp-launcher ConfigMap, the runner account's token and rights,
and the pipeline's presence in KFP, each one line with its fix."""

from __future__ import annotations

from typing import Any

import pytest

from astrobio.doctor.run import failures, run_doctor
from astrobio.doctor.kfp import (
    kfp_namespace_checks,
    launcher_config_check,
    pipeline_presence_check,
    runner_check,
    runner_rights,
)
from astrobio.kube.checks.probe import ProbeError
from astrobio.pipeline.kfp_auth import TOKEN_ENV
from tests.chart.helpers import of_kind, render
from tests.pipeline.kfp_server import TOKEN, FakeKfp, kfp_host  # noqa: F401 - kfp_host is a fixture

from .conftest import variant
from .test_doctor import FakeProbe, by_name

KFP_STOCK = {"defaultPipelineRoot": "minio://mlpipeline/v2/artifacts"}
"""KFP's own kfp-launcher (kubeflow/pipelines manifests/kustomize/base/pipeline/kfp-launcher-configmap.yaml): no providers."""


def chart_launcher_data() -> dict[str, str]:
    """The data of the kfp-launcher ConfigMap the chart renders by default."""
    (cm,) = [d for d in of_kind(render(), "ConfigMap") if d["metadata"]["name"] == "kfp-launcher"]
    return cm["data"]


class FakeKfpProbe:
    def __init__(self, configmap: dict[str, str] | None = None, accounts: dict[str, Any] | None = None,
                 denied: set[tuple[str, str]] = frozenset(), forbidden: bool = False) -> None:
        self.configmap, self.denied, self.forbidden = configmap, set(denied), forbidden
        self.accounts = {"default-editor": {"automount": None}} if accounts is None else accounts
        self.asked: list[tuple[str, ...]] = []

    def config_map(self, namespace: str, name: str) -> dict[str, str] | None:
        if self.forbidden:
            raise ProbeError("forbidden for this kubeconfig's user")
        return self.configmap if name == "kfp-launcher" else None

    def service_account(self, namespace: str, name: str) -> dict[str, Any] | None:
        return self.accounts.get(name)

    def allowed(self, namespace: str, user: str, group: str, resource: str, verb: str, name: str | None) -> bool:
        self.asked.append((namespace, user, resource, verb, name or ""))
        return (verb, resource) not in self.denied


def test_the_chart_rendered_configmap_passes() -> None:
    check = launcher_config_check("astrobio", "astrobio-storage", FakeKfpProbe(chart_launcher_data()))
    assert check.status == "pass", check
    assert "astrobio-minio.astrobio.svc.cluster.local:9000" in check.detail and "s3://astrobio/artifacts/kfp" in check.detail


@pytest.mark.parametrize("data, detail", [
    (None, "astrobio/kfp-launcher does not exist"),
    (KFP_STOCK, "providers.s3.default has endpoint none, secret none"),
    ({"providers": "s3: [unclosed"}, "providers is not a YAML mapping"),
])
def test_a_missing_or_stock_configmap_fails_with_the_fix(data: dict[str, str] | None, detail: str) -> None:
    check = launcher_config_check("astrobio", "astrobio-storage", FakeKfpProbe(data))
    assert check.status == "fail" and detail in check.detail
    assert "kfpLauncher.create=true" in check.fix


def test_a_configmap_naming_another_secret_fails() -> None:
    data = chart_launcher_data()
    check = launcher_config_check("astrobio", "team-s3", FakeKfpProbe(data))
    assert check.status == "fail" and "secret astrobio-storage" in check.detail and "Secret team-s3" in check.detail


def test_runner_rights_are_asked_for_kfps_default_runner() -> None:
    probe = FakeKfpProbe()
    check = runner_check("team-a", "astrobio-storage", probe)
    assert check.status == "pass" and check.detail.startswith("team-a/default-editor: token mounted")
    users = {a[1] for a in probe.asked}
    assert users == {"system:serviceaccount:team-a:default-editor"}
    asked = {(a[2], a[3], a[4]) for a in probe.asked}
    assert {("pytorchjobs", v, "") for v in ("create", "get", "watch", "delete")} <= asked
    assert ("secrets", "get", "astrobio-storage") in asked and ("configmaps", "get", "kfp-launcher") in asked
    assert len(probe.asked) == len(runner_rights("astrobio-storage"))


def test_standalone_runner_without_a_token_or_rights_fails() -> None:
    """astrobio-launcher's `automountServiceAccountToken: false` is what left step pods without
    credentials; a runner like that fails with the patch that fixes it."""
    no_token = FakeKfpProbe(accounts={"pipeline-runner": {"automount": False}})
    check = runner_check("kubeflow", "astrobio-storage", no_token)
    assert check.status == "fail" and "kubeflow/pipeline-runner has automountServiceAccountToken: false" in check.detail
    assert "patch serviceaccount pipeline-runner" in check.fix
    denied = FakeKfpProbe(accounts={"pipeline-runner": {"automount": True}},
                          denied={("delete", "pytorchjobs"), ("get", "secrets")})
    check = runner_check("kubeflow", "astrobio-storage", denied)
    assert check.status == "fail"
    assert check.detail == "kubeflow/pipeline-runner may not delete pytorchjobs, get secrets/astrobio-storage"
    none = runner_check("kubeflow", "s", FakeKfpProbe(accounts={}))
    assert none.status == "fail" and "no default-editor or pipeline-runner" in none.detail


def test_forbidden_questions_are_warnings() -> None:
    checks = kfp_namespace_checks(variant("cpu"), FakeKfpProbe(forbidden=True))
    assert by_name(checks)["kfp-launcher"].status == "warn"


class FakeClient:
    pipelines: list[Any] = []
    seen: list[Any] = []

    def __init__(self, **kwargs: Any) -> None:
        FakeClient.seen.append(kwargs)

    def list_pipelines(self, filter: str = "", namespace: str | None = None) -> Any:  # noqa: A002 - kfp's name
        FakeClient.seen.append((namespace, filter))
        found = [p for p in self.pipelines if p.namespace == namespace]
        return type("Answer", (), {"pipelines": found or None})()


def _pipeline(namespace: str | None) -> Any:
    return type("Pipeline", (), {"pipeline_id": "p-123", "namespace": namespace})()


def test_pipeline_presence_in_kfp(kfp_host: str) -> None:  # noqa: F811 - fixture
    env = {TOKEN_ENV: TOKEN}
    FakeClient.pipelines, FakeClient.seen = [_pipeline("team-a")], []
    check = pipeline_presence_check(kfp_host, env, "team-a", client_factory=FakeClient)
    assert check.status == "pass" and check.detail.endswith(": p-123")
    assert FakeClient.seen[0] == {"host": kfp_host, "namespace": "team-a", "existing_token": TOKEN}
    assert '"stringValue": "astrobio-five-phase"' in FakeClient.seen[1][1]
    FakeClient.pipelines = []
    missing = pipeline_presence_check(kfp_host, env, "team-a", client_factory=FakeClient)
    assert missing.status == "fail" and "not uploaded" in missing.detail and "pipelineUpload" in missing.fix
    login = pipeline_presence_check(kfp_host, {}, "team-a", client_factory=FakeClient)
    assert login.status == "fail" and "asks for login" in login.detail


def test_run_doctor_asks_the_kfp_questions_once_the_api_server_answers(tmp_path) -> None:
    (tmp_path / "kc").write_text("apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters: [{name: c, cluster: "
                                 "{server: 'http://127.0.0.1:9'}}]\ncontexts: [{name: c, context: {cluster: c, user: u}}]\n"
                                 "users: [{name: u, user: {}}]\n")
    checks = run_doctor(variant("cpu"), {"KUBECONFIG": str(tmp_path / "kc")}, probe_factory=lambda _: FakeProbe(),
                        kfp_probe_factory=lambda _: FakeKfpProbe(chart_launcher_data()))
    found = by_name(checks)
    assert found["kfp-launcher"].status == "pass" and found["kfp-runner"].status == "pass"
    assert "kfp-launcher" not in {c.name for c in failures(checks)}
