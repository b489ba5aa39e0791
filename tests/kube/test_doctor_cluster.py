"""Issue #13 item 11: doctor's namespace (Pod Security level, Katib label), Training Operator and
RBAC lines, and the pre-submit refusals built from the same verdicts.

Katib v0.19 injects its metrics collector only into pods of namespaces labelled
`katib.kubeflow.org/metrics-collector-injection: enabled` (the mutating webhook's
namespaceSelector in kubeflow/katib `manifests/v1beta1/components/webhook/webhooks.yaml`);
Training Operator v1.9 adds a non-compliant `init-pytorch` container to Workers whenever a Master
exists (`pkg/controller.v1/pytorch/initcontainer.go`), which a `restricted` namespace refuses.
"""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from astrobio.errors import UsageError
from astrobio.kube.doctor import cluster_checks, failures
from astrobio.kube.doctor_cluster import ACCESS, KATIB_LABEL, PSA_ENFORCE
from astrobio.kube.preflight import require_ready
from astrobio.kube.submit import submit_train

from .conftest import variant
from .fake_apiserver import FakeApiServer
from .fake_probe import READY_LABELS, FakeProbe

S3 = "store.uri=s3://bucket/astro"
RUNNING = {"conditions": [{"type": "Running", "status": "True"}]}


def checks_of(cfg, probe):
    return {c.name: c for c in cluster_checks(cfg, probe)}


def test_ready_cluster_has_one_passing_line_for_each_new_check():
    checks = checks_of(variant("gpu", S3), FakeProbe())
    for name in ("namespace", "pod-security", "katib-metrics", "training-operator", "rbac", "storage-secret"):
        assert checks[name].status == "pass", checks[name]
    assert "enforce=restricted" in checks["pod-security"].detail
    assert f"all {len(ACCESS)} calls" in checks["rbac"].detail


def test_missing_katib_label_fails_with_the_label_command():
    probe = FakeProbe(namespaces={"astrobio": {PSA_ENFORCE: "restricted"}})
    check = checks_of(variant("gpu"), probe)["katib-metrics"]
    assert check.status == "fail" and "unset" in check.detail
    assert check.fix == f"kubectl label namespace astrobio {KATIB_LABEL}=enabled"


def test_restricted_namespace_fails_only_the_master_worker_layout():
    probe = FakeProbe()
    assert checks_of(variant("gpu"), probe)["pod-security"].status == "pass"
    check = checks_of(variant("gpu", "kube.layout=master-worker"), probe)["pod-security"]
    assert check.status == "fail" and "init-pytorch" in check.detail and check.fix.startswith("set kube.layout=auto")
    assert checks_of(variant("single-node", "kube.layout=master-worker"), probe)["pod-security"].status == "pass"
    baseline = FakeProbe(namespaces={"astrobio": {**READY_LABELS, PSA_ENFORCE: "baseline"}})
    assert checks_of(variant("gpu", "kube.layout=master-worker"), baseline)["pod-security"].status == "pass"


@pytest.mark.parametrize(("probe", "needle"), [
    (FakeProbe(crds=()), "not installed"),
    (FakeProbe(served=False), "does not serve v1"),
    (FakeProbe(operator=None), "no operator runs"),
])
def test_operator_absent_or_idle_fails_with_the_install_command(probe, needle):
    check = checks_of(variant("gpu"), probe)["training-operator"]
    assert check.status == "fail" and needle in check.detail and "training-operator" in check.fix


def test_rbac_denials_name_each_call_and_its_user():
    check = checks_of(variant("gpu"), FakeProbe(denied={"create pytorchjobs", "get secrets"}))["rbac"]
    assert check.status == "fail"
    assert "create pytorchjobs.kubeflow.org (submit, KFP launcher)" in check.detail
    assert "get secrets" not in check.detail  # optional calls only warn, and required ones come first
    assert "rbac.create=true" in check.fix and "create pytorchjobs.kubeflow.org" in check.fix
    optional = checks_of(variant("gpu"), FakeProbe(denied={"create trainjobs"}))["rbac"]
    assert optional.status == "warn" and "submit --api trainjob" in optional.detail
    assert checks_of(variant("gpu"), FakeProbe(forbidden={"review"}))["rbac"].status == "warn"


def test_doctor_stays_one_line_per_check():
    checks = cluster_checks(variant("gpu", S3), FakeProbe(namespaces={"astrobio": {}}, secrets={}))
    assert all("\n" not in c.detail and "\n" not in c.fix for c in checks)
    assert {c.name for c in failures(checks)} == {"katib-metrics", "storage-secret"}


@pytest.mark.parametrize(("probe", "katib", "message"), [
    (FakeProbe(secrets={}), False, "kube.storage_secret: astrobio/astrobio-storage does not exist -> kubectl -n astrobio "
                                   "create secret generic astrobio-storage"),
    (FakeProbe(namespaces={}), False, "kube.namespace: astrobio does not exist -> kubectl create namespace astrobio"),
    (FakeProbe(namespaces={"astrobio": {}}), True, f"kube.namespace: astrobio: {KATIB_LABEL} unset"),
])
def test_require_ready_refuses_with_one_line_naming_the_setting(probe, katib, message):
    with pytest.raises(UsageError) as info:
        require_ready(variant("gpu", S3), probe, katib=katib, note=lambda _: None)
    assert str(info.value).startswith(message) and "\n" not in str(info.value)


def test_require_ready_notes_what_it_may_not_read_and_goes_on():
    notes = []
    require_ready(variant("gpu", S3), FakeProbe(namespaces={"astrobio": {}}, forbidden={"secret"}), katib=False,
                  note=notes.append)
    assert notes == ["note: storage-secret: could not check: forbidden for this kubeconfig's user"]


def test_submit_with_a_missing_secret_exits_2_and_creates_nothing(tmp_path):
    with FakeApiServer([RUNNING], secrets={}) as api:
        (tmp_path / "kc").write_text(api.kubeconfig())
        with pytest.raises(UsageError, match="^kube.storage_secret: .* -> kubectl -n astrobio create secret"):
            submit_train(variant("cpu", S3), "graph_vae", env={"KUBECONFIG": str(tmp_path / "kc")}, note=lambda _: None)
    assert api.created is None and not [r for r in api.requests if r[0] == "POST"]


def test_cli_submit_without_the_secret_is_one_line_exit_2(tmp_path, monkeypatch):
    from astrobio.cli import app

    with FakeApiServer([RUNNING], secrets={}) as api:
        (tmp_path / "kc").write_text(api.kubeconfig())
        monkeypatch.setenv("KUBECONFIG", str(tmp_path / "kc"))
        result = CliRunner().invoke(app, ["submit", "train", "-c", "graph_vae", "--set", S3, "--set", "kube.gpu.per_node=0"])
    assert result.exit_code == 2, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "kube.storage_secret" in errors[0] and "create secret generic" in errors[0]
    assert "Traceback" not in result.output
    assert api.created is None


def test_katib_submit_into_an_unlabelled_namespace_exits_2_and_creates_nothing(tmp_path):
    from astrobio.tune.katib_backend import submit_experiment
    from astrobio.tune.load import load_tune_config

    tc = load_tune_config(variant.__globals__["ROOT"] / "configs" / "tune-graph-vae.yaml")
    with FakeApiServer([{}], namespace_labels={PSA_ENFORCE: "restricted"}) as api:
        (tmp_path / "kc").write_text(api.kubeconfig())
        with pytest.raises(UsageError, match=f"^kube.namespace: .*{KATIB_LABEL}.* -> kubectl label namespace"):
            submit_experiment(tc, False, env={"KUBECONFIG": str(tmp_path / "kc")}, note=lambda _: None)
    assert api.created is None


def test_kube_probe_reads_the_real_objects_through_the_kubernetes_client():
    """KubeProbe against HTTP answers shaped like the API server's: the shipped PyTorchJob CRD
    (with an Established condition), the operator's webhook configuration and access reviews."""
    import yaml

    from astrobio.kube.cluster import load_cluster_access
    from astrobio.kube.doctor_probe import OPERATOR_WEBHOOK, KubeProbe
    from astrobio.kube.validate import default_schema_dir

    crd = yaml.safe_load((default_schema_dir() / "crds" / "kubeflow.org_pytorchjobs.yaml").read_text())
    crd["status"] = {"conditions": [{"type": "Established", "status": "True"}], "acceptedNames": crd["spec"]["names"],
                     "storedVersions": ["v1"]}
    webhook = {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingWebhookConfiguration",
               "metadata": {"name": OPERATOR_WEBHOOK}, "webhooks": []}
    version = {"major": "1", "minor": "36", "gitVersion": "v1.36.2", "gitCommit": "x", "gitTreeState": "clean",
               "buildDate": "2026-01-01T00:00:00Z", "goVersion": "go1.25", "compiler": "gc", "platform": "linux/amd64"}
    katib = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "katib-config", "namespace": "kubeflow"},
             "data": {"katib-config.yaml": "init:\n  controller:\n    injectSecurityContext: true\n"}}
    cluster = {"/version/": version, "/api/v1/namespaces/kubeflow/configmaps/katib-config": katib, "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/pytorchjobs.kubeflow.org": crd,
               f"/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/{OPERATOR_WEBHOOK}": webhook}
    with FakeApiServer([{}], cluster=cluster, allowed={("create", "pytorchjobs")}) as api:
        import tempfile
        from pathlib import Path

        with tempfile.TemporaryDirectory() as tmp:
            (Path(tmp) / "kc").write_text(api.kubeconfig())
            probe = KubeProbe(load_cluster_access({"KUBECONFIG": str(Path(tmp) / "kc")}).configuration)
            assert probe.crd_served("pytorchjobs.kubeflow.org", "v1") is True
            assert probe.crd_served("pytorchjobs.kubeflow.org", "v2") is False
            assert probe.crd_served("experiments.kubeflow.org", "v1beta1") is None
            assert probe.operator_presence() == f"webhook {OPERATOR_WEBHOOK}"
            assert probe.can_i("create", "kubeflow.org", "pytorchjobs", "astrobio") is True
            assert probe.can_i("create", "kubeflow.org", "experiments", "astrobio") is False
            assert probe.namespace_labels("astrobio") == READY_LABELS
            assert probe.katib_injects_security_context() is True
            check = checks_of(variant("gpu", S3), probe)
    assert check["api-server"].detail == "Kubernetes v1.36.2"
    assert check["training-operator"].status == "pass" and check["rbac"].status == "fail"
    asked = [r["spec"]["resourceAttributes"] for r in api.reviews]
    assert {"group": "kubeflow.org", "namespace": "astrobio", "resource": "pytorchjobs", "verb": "get"} in asked
    assert {(a["verb"], a["resource"]) for a in asked} == {(a.verb, a.resource) for a in ACCESS}


def test_restricted_namespace_needs_katib_to_secure_its_sidecar():
    """tests/kube/test_restricted_layout.py shows the trial's primary pod is refused without it."""
    assert checks_of(variant("gpu"), FakeProbe())["katib-security"].status == "pass"
    check = checks_of(variant("gpu"), FakeProbe(katib_sc=False))["katib-security"]
    assert check.status == "fail" and "injectSecurityContext: true" in check.fix
    assert checks_of(variant("gpu"), FakeProbe(katib_sc=None))["katib-security"].status == "warn"
    assert checks_of(variant("gpu"), FakeProbe(forbidden={"katib-config"}))["katib-security"].status == "warn"
    baseline = FakeProbe(namespaces={"astrobio": {KATIB_LABEL: "enabled"}}, katib_sc=False)
    assert "katib-security" not in checks_of(variant("gpu"), baseline)
    with pytest.raises(UsageError, match="^katib-config: .*injectSecurityContext"):
        require_ready(variant("gpu", S3), FakeProbe(katib_sc=False), katib=True, note=lambda _: None)
    require_ready(variant("gpu", S3), FakeProbe(katib_sc=False), katib=False, note=lambda _: None)
