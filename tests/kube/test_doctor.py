"""astrobio doctor: local checks always, cluster checks through a probe, a one-line-per-check report."""

from __future__ import annotations

import urllib.error

from astrobio.kube.checks.cluster import cluster_checks
from astrobio.doctor.run import Check, failures, kfp_check, render_report, run_doctor, store_check
from .conftest import variant
from .fake_probe import FakeProbe


def by_name(checks):
    return {c.name: c for c in checks}


def test_healthy_cluster_passes_with_optional_trainer_v2_as_warning():
    checks = by_name(cluster_checks(variant("gpu", "store.uri=s3://b/p"), FakeProbe()))
    assert checks["api-server"].status == "pass"
    assert checks["training-operator"].status == "pass"
    assert checks["crd trainjobs.trainer.kubeflow.org"].status == "warn"
    assert checks["namespace"].status == checks["service-account"].status == checks["storage-secret"].status == "pass"
    assert not failures(list(checks.values()))


def test_missing_pieces_fail_with_their_fix():
    probe = FakeProbe(crds=(), namespaces={}, accounts=(), secrets={"astrobio-storage": {"AWS_ACCESS_KEY_ID"}})
    checks = by_name(cluster_checks(variant("gpu", "store.uri=s3://b/p"), probe))
    assert checks["training-operator"].status == "fail"
    assert "Training Operator" in checks["training-operator"].fix
    assert checks["crd experiments.kubeflow.org"].status == "fail" and "Katib" in checks["crd experiments.kubeflow.org"].fix
    assert checks["namespace"].fix == "kubectl create namespace astrobio"
    assert checks["storage-secret"].status == "fail" and "AWS_SECRET_ACCESS_KEY" in checks["storage-secret"].detail
    assert "create secret generic astrobio-storage" in checks["storage-secret"].fix


def test_forbidden_questions_are_warnings_not_guesses():
    checks = by_name(cluster_checks(variant("gpu"), FakeProbe(forbidden={"crd", "secret"})))
    assert checks["training-operator"].status == "warn"
    assert "could not check" in checks["storage-secret"].detail


def test_without_credentials_local_checks_run_and_cluster_is_skipped(tmp_path):
    env = {"HOME": str(tmp_path), "KUBECONFIG": ""}
    checks = run_doctor(variant("cpu", f"store.uri={tmp_path / 'store'}"), env)
    names = [c.name for c in checks]
    assert names[:4] == ["python", "torch", "torchrun", "store"]
    assert checks[-1].name == "cluster" and checks[-1].status == "skip" and "skipped" in checks[-1].detail
    assert not (tmp_path / "store").exists()  # doctor creates nothing
    assert not failures(checks)


def test_with_a_kubeconfig_the_probe_is_asked(tmp_path):
    (tmp_path / "kc").write_text("apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters: [{name: c, cluster: "
                                 "{server: 'http://127.0.0.1:9'}}]\ncontexts: [{name: c, context: {cluster: c, user: u}}]\n"
                                 "users: [{name: u, user: {}}]\n")
    checks = run_doctor(variant("cpu"), {"KUBECONFIG": str(tmp_path / "kc")}, probe_factory=lambda _: FakeProbe())
    assert by_name(checks)["kubeconfig"].status == "pass" and by_name(checks)["api-server"].detail == "Kubernetes v1.30.2"


def test_s3_store_unreachable_fails_with_fix():
    check = store_check("s3://bucket/p", {})
    assert check.status == "fail" and "ASTROBIO_S3_ENDPOINT" in check.detail


def test_kfp_endpoint():
    assert kfp_check("http://kfp", opener=lambda url, timeout: None).status == "pass"

    def refuse(url, timeout):
        raise urllib.error.URLError("Connection refused")

    failed = kfp_check("http://kfp/", opener=refuse)
    assert failed.status == "fail" and "http://kfp/apis/v2beta1/healthz" in failed.detail

    def auth(url, timeout):
        raise urllib.error.HTTPError(url, 403, "Forbidden", {}, None)

    assert kfp_check("http://kfp", opener=auth).status == "warn"


def test_report_is_one_line_per_check_plus_summary():
    report = render_report([Check("a", "pass", "ok"), Check("b", "fail", "missing", "do x"),
                            Check("c", "skip", "skipped", "ignored fix")])
    assert report.splitlines() == ["[PASS] a: ok", "[FAIL] b: missing -> do x", "[SKIP] c: skipped",
                                   "1 pass, 1 fail, 1 skip"]
