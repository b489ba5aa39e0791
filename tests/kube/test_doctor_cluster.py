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

from astrobio.errors import UsageError
from astrobio.doctor.run import failures
from astrobio.kube.checks.cluster import cluster_checks
from astrobio.kube.checks.cluster import ACCESS, KATIB_LABEL, PSA_ENFORCE
from astrobio.kube.submission.preflight import require_ready

from .conftest import variant
from .fake_probe import READY_LABELS, FakeProbe

S3 = "store.uri=s3://bucket/astro"


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
