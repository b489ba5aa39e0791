"""Pre-submit checks and doctor's cluster probe against the real API server (#13 item 11, #15).

`astrobio submit` and `astrobio tune --backend katib` read the namespace (Pod Security level, Katib's
collector label) and the storage Secret before they create anything: a missing one is one line naming
the setting and the fix, exit 2, and nothing is created. Katib v0.19 injects its metrics collector only
into pods of namespaces labelled `katib.kubeflow.org/metrics-collector-injection: enabled` (the mutating
webhook's namespaceSelector in kubeflow/katib manifests/v1beta1/components/webhook/webhooks.yaml).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from astrobio.config import load_config
from astrobio.errors import UsageError
from astrobio.kube.checks.cluster import KATIB_LABEL

from .conftest import STORAGE_SECRET
from .jobs import ROOT, TINY

pytestmark = pytest.mark.cluster
S3 = "store.uri=s3://bucket/astro"


def _objects(admin: Any, ns: str, plural: str) -> list[Any]:
    from kubernetes import client as k8s

    found = k8s.CustomObjectsApi(admin).list_namespaced_custom_object("kubeflow.org", "v1" if plural == "pytorchjobs"
                                                                       else "v1beta1", ns, plural)
    return found["items"]


def test_submit_with_a_missing_secret_exits_2_and_creates_nothing(admin, restricted_ns, code_kubeconfig):
    from kubernetes import client as k8s

    from astrobio.kube.submission.submit import submit_train

    ns = restricted_ns("pre-secret")
    k8s.CoreV1Api(admin).delete_namespaced_secret(STORAGE_SECRET, ns)
    cfg = load_config(ROOT / "configs" / "smoke.yaml", [*TINY, S3, "run.run_id=nosecret"])
    with pytest.raises(UsageError, match=f"^kube.storage_secret: .* -> kubectl -n {ns} create secret"):
        submit_train(cfg, "graph_vae", ns, env={"KUBECONFIG": str(code_kubeconfig)}, note=lambda _: None)
    assert _objects(admin, ns, "pytorchjobs") == []


def test_cli_submit_without_the_secret_is_one_line_exit_2(admin, restricted_ns, code_kubeconfig, monkeypatch):
    from kubernetes import client as k8s

    from astrobio.cli import app

    ns = restricted_ns("pre-cli")
    k8s.CoreV1Api(admin).delete_namespaced_secret(STORAGE_SECRET, ns)
    monkeypatch.setenv("KUBECONFIG", str(code_kubeconfig))
    result = CliRunner().invoke(app, ["submit", "train", "-c", "graph_vae", "--set", S3, "--set", "kube.gpu.per_node=0",
                                      "--set", f"kube.namespace={ns}"])
    assert result.exit_code == 2, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "kube.storage_secret" in errors[0] and "create secret generic" in errors[0]
    assert "Traceback" not in result.output
    assert _objects(admin, ns, "pytorchjobs") == []


def test_katib_submit_into_an_unlabelled_namespace_exits_2_and_creates_nothing(admin, restricted_ns, code_kubeconfig):
    from astrobio.tune.katib_backend import submit_experiment
    from astrobio.tune.load import load_tune_config

    ns = restricted_ns("pre-katib", katib=False)
    tc = load_tune_config(ROOT / "configs" / "tune-graph-vae.yaml", [f"kube.namespace={ns}"])
    with pytest.raises(UsageError, match=f"^kube.namespace: .*{KATIB_LABEL}.* -> kubectl label namespace {ns}"):
        submit_experiment(tc, False, env={"KUBECONFIG": str(code_kubeconfig)}, note=lambda _: None)
    assert _objects(admin, ns, "experiments") == []


def _service_account_kubeconfig(plane: Any, admin: Any, ns: str, sa: str, path: Path) -> Path:
    """A kubeconfig holding a bound token of `sa` (TokenRequest API), so access reviews are its own."""
    from kubernetes import client as k8s

    token = k8s.CoreV1Api(admin).create_namespaced_service_account_token(
        sa, ns, {"spec": {"audiences": [], "expirationSeconds": 3600}}).status.token
    return plane.kubeconfig(token, path)


def test_kube_probe_reads_the_real_objects(plane, admin, restricted_ns, code_kubeconfig, tmp_path):
    """KubeProbe through the kubernetes client against the real server: the shipped CRDs, the
    operator's webhook configuration, Katib's ConfigMap, namespace labels and access reviews (as a
    service account without the chart's Role, so some are denied)."""
    from kubernetes import client as k8s

    from astrobio.kube.cluster import load_cluster_access
    from astrobio.kube.checks.cluster import cluster_checks
    from astrobio.kube.checks.probe import OPERATOR_WEBHOOK, KubeProbe

    ns = restricted_ns("probe")
    core = k8s.CoreV1Api(admin)
    if "kubeflow" not in {n.metadata.name for n in core.list_namespace().items}:
        core.create_namespace({"metadata": {"name": "kubeflow"}})
    core.create_namespaced_config_map("kubeflow", {"metadata": {"name": "katib-config"}, "data": {
        "katib-config.yaml": "init:\n  controller:\n    injectSecurityContext: true\n"}})
    try:
        probe = KubeProbe(load_cluster_access({"KUBECONFIG": str(code_kubeconfig)}).configuration)
        assert probe.crd_served("pytorchjobs.kubeflow.org", "v1") is True
        assert probe.crd_served("pytorchjobs.kubeflow.org", "v2") is False
        assert probe.crd_served("notinstalled.kubeflow.org", "v1") is None
        assert probe.operator_presence() == f"webhook {OPERATOR_WEBHOOK}"
        assert probe.namespace_labels(ns)[KATIB_LABEL] == "enabled"
        assert probe.katib_injects_security_context() is True
        sa_config = _service_account_kubeconfig(plane, admin, ns, "astrobio-launcher", tmp_path / "kc-sa")
        as_sa = KubeProbe(load_cluster_access({"KUBECONFIG": str(sa_config)}).configuration)
        assert as_sa.can_i("create", "kubeflow.org", "pytorchjobs", ns) is False
        assert probe.can_i("create", "kubeflow.org", "pytorchjobs", ns) is True
        cfg = load_config(ROOT / "configs" / "smoke.yaml", [*TINY, S3, f"kube.namespace={ns}"])
        checks = {c.name: c for c in cluster_checks(cfg, probe)}
        assert checks["api-server"].detail.startswith("Kubernetes v1.36")
        assert checks["training-operator"].status == "pass"
        assert checks["pod-security"].status == "pass" and checks["katib-metrics"].status == "pass"
        assert checks["storage-secret"].status == "pass"
        denied = {c.name: c for c in cluster_checks(cfg, as_sa)}
        assert denied["rbac"].status == "fail"
    finally:
        core.delete_namespaced_config_map("katib-config", "kubeflow")
