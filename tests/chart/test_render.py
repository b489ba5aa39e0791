"""The chart lints, renders and validates on default values and every example; values are checked."""

from __future__ import annotations

import pytest
import yaml

import astrobio
from astrobio.config.kube import KubeSection
from astrobio.kube.render.images import base_ref
from astrobio.kube.validate import K8S_VERSION, check_object

from .helpers import CHART, NAMESPACE, VALUE_SETS, all_enabled, chart, helm, of_kind, pod_specs, render, render_files

kubernetes_validate = pytest.importorskip("kubernetes_validate", reason="kubernetes-validate is not installed")
CRD_KINDS = {"PyTorchJob", "Experiment"}
LABELS = ("name", "instance", "version", "component", "managed-by", "part-of")


@pytest.mark.parametrize("which", sorted(VALUE_SETS))
def test_lint_strict_passes(which):
    report = helm.lint(str(CHART), VALUE_SETS[which], strict=True, namespace=NAMESPACE)
    assert report["errors"] == []
    assert [m for m in report["messages"] if m["severity"] >= 2] == []


@pytest.mark.parametrize("which", sorted(VALUE_SETS))
def test_every_core_object_passes_the_kubernetes_schema_strictly(which):
    docs = render(VALUE_SETS[which])
    core = [d for d in docs if d["kind"] not in CRD_KINDS]
    assert {"ServiceAccount", "Role", "RoleBinding", "ConfigMap"} <= {d["kind"] for d in core}
    for obj in core:
        kubernetes_validate.validate(obj, K8S_VERSION, strict=True)
    for obj in docs:  # namespaced objects land in the release namespace
        if obj["kind"] not in ("ClusterRole", "ClusterRoleBinding"):
            assert obj["metadata"]["namespace"] == NAMESPACE, obj["metadata"]["name"]


def test_pytorchjobs_and_experiments_pass_the_upstream_crd_schemas():
    docs = render(all_enabled())
    jobs, exps = of_kind(docs, "PyTorchJob"), of_kind(docs, "Experiment")
    assert jobs and exps
    for job in jobs:
        assert check_object(job) == [], job["metadata"]["name"]
    for exp in exps:  # the full Experiment checks (trial parameters, substituted trial) run at render: tests/tune
        assert check_object(exp) == [], exp["metadata"]["name"]


def test_schema_rejects_a_wrong_type():
    with pytest.raises(helm.HelmValuesError, match="bucketInit/backoffLimit"):
        render({"bucketInit": {"backoffLimit": "three"}})
    with pytest.raises(helm.HelmValuesError, match="jobs/graph_vae/enabled"):
        render({"jobs": {"graph_vae": {"enabled": "yes"}}})


def test_schema_rejects_unknown_keys():
    with pytest.raises(helm.HelmValuesError, match="additional properties 'storag' not allowed"):
        render({"storag": {"bucket": "x"}})
    with pytest.raises(helm.HelmValuesError, match="additional properties 'secret_key' not allowed"):
        render({"storage": {"secret_key": "x"}})
    with pytest.raises(helm.HelmValuesError, match="additional properties 'quasar' not allowed"):
        render({"jobs": {"quasar": {"enabled": True}}})


def _config_map(values):
    (cm,) = [d for d in render(values) if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "astrobio-config"]
    return cm


def test_config_is_free_form_and_defaults_to_configs_default(tmp_path):
    """values.config replaces the shipped config whole; either way its store is the release's
    (storage.bucket/prefix), never the local `store.uri: artifacts` of configs/default.yaml."""
    default = yaml.safe_load((CHART.parents[1] / "configs" / "default.yaml").read_text())
    store = "s3://astrobio/artifacts"
    expected = {**default, "store": {"uri": store}, "kube": {"store_uri": store}}
    assert yaml.safe_load(_config_map({})["data"]["config.yaml"]) == expected
    cm = _config_map({"config": {"run": {"name": "x"}, "anything": [1], "store": {"uri": "artifacts"}}})
    assert yaml.safe_load(cm["data"]["config.yaml"]) == {"run": {"name": "x"}, "anything": [1],
                                                         "store": {"uri": store}, "kube": {"store_uri": store}}
    assert cm["data"]["STORE_BUCKET"] == "astrobio" and cm["data"]["STORE_URI"] == store
    moved = _config_map({"storage": {"bucket": "team-data", "prefix": "/exp/1/"}})
    assert moved["data"]["STORE_URI"] == "s3://team-data/exp/1"
    tree = yaml.safe_load(moved["data"]["config.yaml"])
    assert tree["store"]["uri"] == tree["kube"]["store_uri"] == "s3://team-data/exp/1"


def test_jobs_refuse_a_store_they_were_not_rendered_for():
    """The shipped jobs name kube.store_uri in their arguments; a release whose bucket/prefix differ
    fails the install with the setting to change, instead of jobs writing where nobody reads."""
    render({"jobs": {"graph_vae": {"enabled": True}}})
    with pytest.raises(Exception, match="kube.store_uri"):
        render({"jobs": {"graph_vae": {"enabled": True}}, "storage": {"prefix": "other"}})


@pytest.mark.parametrize("which", sorted(VALUE_SETS))
def test_every_object_carries_the_standard_labels(which):
    """Templated objects and the shipped PyTorchJobs/Experiments alike (the renderer's own labels
    kept, the release's added)."""
    for obj in render({**VALUE_SETS[which], **all_enabled()}):
        labels = obj["metadata"].get("labels", {})
        assert {f"app.kubernetes.io/{k}" for k in LABELS} <= set(labels), obj["metadata"]["name"]
        assert labels["app.kubernetes.io/instance"] == "astrobio" and labels["app.kubernetes.io/version"] == astrobio.__version__
        assert labels["app.kubernetes.io/managed-by"] == "Helm" and labels["app.kubernetes.io/part-of"] == "astrobio"


@pytest.mark.parametrize("which", sorted(VALUE_SETS))
def test_own_pods_are_locked_down_with_resources(which):
    specs = [s for obj in render(VALUE_SETS[which]) for s in pod_specs(obj)]
    assert specs
    for spec in specs:
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        assert spec["automountServiceAccountToken"] is False
        for container in spec["containers"]:
            sc = container["securityContext"]
            assert sc["allowPrivilegeEscalation"] is False and sc["readOnlyRootFilesystem"] is True
            assert sc["capabilities"] == {"drop": ["ALL"]} and sc["runAsNonRoot"] is True
            assert container["resources"]["requests"] and container["resources"]["limits"]


def test_image_tag_defaults_to_the_app_version():
    app_version = chart().metadata["appVersion"]
    assert app_version == astrobio.__version__ == KubeSection().image_tag
    images = {c["image"] for obj in of_kind(render(), "Job") for c in obj["spec"]["template"]["spec"]["containers"]}
    assert images == {base_ref(KubeSection())} == {f"ghcr.io/astrobio/base:{app_version}"}
    images = {c["image"] for obj in of_kind(render({"image": {"tag": "9.9.9"}}), "Job")
              for c in obj["spec"]["template"]["spec"]["containers"]}
    assert images == {"ghcr.io/astrobio/base:9.9.9"}


def test_notes_give_next_steps():
    notes = render_files(all_enabled())["astrobio/templates/NOTES.txt"]
    assert "kubectl -n astrobio logs job/astrobio-bucket-init" in notes
    assert "kubectl -n astrobio logs job/astrobio-pipeline-upload" in notes
    assert "get pytorchjobs" in notes and "get experiments" in notes
    assert "kubectl label namespace astrobio katib.kubeflow.org/metrics-collector-injection=enabled" in notes
