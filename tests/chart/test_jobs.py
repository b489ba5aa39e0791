"""Shipped PyTorchJobs are exactly `astrobio render manifests`; generated chart files never drift."""

from __future__ import annotations

import pytest
import yaml

from astrobio.config import load_config
from astrobio.deploy.manifests import render_manifest_files
from astrobio.kube.render.pytorchjob import render_pytorchjob

from .helpers import ROOT, VALUE_SETS, all_enabled, helm, of_kind, render, render_files, rendered_for

DEFAULT = ROOT / "configs" / "default.yaml"


RELEASE_LABELS = {"app.kubernetes.io/instance": "astrobio", "app.kubernetes.io/managed-by": "Helm",
                  "helm.sh/chart": "astrobio-0.1.0"}


def _without_release_labels(obj: dict) -> dict:
    """`obj` less the labels the chart adds (checked to be exactly RELEASE_LABELS)."""
    labels = obj["metadata"]["labels"]
    assert {k: labels[k] for k in RELEASE_LABELS} == RELEASE_LABELS
    return {**obj, "metadata": {**obj["metadata"], "labels": {k: v for k, v in labels.items() if k not in RELEASE_LABELS}}}


def test_rendered_pytorchjobs_are_astrobio_render_manifests_with_release_labels_and_no_ttl():
    """The shipped jobs are manifests/ as rendered, plus the release's labels and without
    ttlSecondsAfterFinished: a finished job's object stays, so `helm upgrade` finds it and does not
    create (and run) it again; and none is a hook, so Helm tracks it as a release resource."""
    cfg = load_config(DEFAULT)
    manifests = render_manifest_files(cfg)
    names = rendered_for()["components"]  # = the registry (test_chart_files)
    files = render_files(all_enabled())
    jobs = {d["metadata"]["name"]: d for d in yaml.safe_load_all(files["astrobio/templates/pytorchjobs.yaml"]) if d}
    assert len(jobs) == len(names)
    for name in names:
        expected = render_pytorchjob(cfg, name)
        shipped = next(d for d in yaml.safe_load_all(manifests[f"manifests/pytorchjob-{name.replace('_', '-')}.yaml"]) if d)
        assert shipped == expected and expected["spec"]["runPolicy"]["ttlSecondsAfterFinished"] > 0
        del expected["spec"]["runPolicy"]["ttlSecondsAfterFinished"]
        job = jobs[expected["metadata"]["name"]]
        assert _without_release_labels(job) == expected
        assert "helm.sh/hook" not in job["metadata"].get("annotations", {})


def test_jobs_are_off_by_default_and_toggle_one_by_one():
    assert of_kind(render(), "PyTorchJob") == [] and of_kind(render(), "Experiment") == []
    for name in rendered_for()["components"]:
        (job,) = of_kind(render({"jobs": {name: {"enabled": True}}}), "PyTorchJob")
        assert job["metadata"]["labels"]["app.kubernetes.io/component"] == name


def test_default_configmap_config_is_the_one_the_jobs_were_rendered_from(tmp_path):
    (cm,) = [d for d in render() if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "astrobio-config"]
    path = tmp_path / "config.yaml"
    path.write_text(cm["data"]["config.yaml"])
    uri = rendered_for()["storeUri"]
    assert uri.startswith("s3://")
    assert load_config(path) == load_config(DEFAULT, [f"store.uri={uri}", f"kube.store_uri={uri}"])


def test_experiments_are_the_tuning_manifests_with_trial_budgets():
    docs = of_kind(render(VALUE_SETS["tuning-enabled"]), "Experiment")
    by_name = {d["metadata"]["name"]: d for d in docs}
    assert set(by_name) == {"tune-graph-vae", "tune-causal"}
    for name, exp in by_name.items():
        shipped = yaml.safe_load((ROOT / "manifests" / "katib" / f"{name.removeprefix('tune-')}.yaml").read_text())
        budget = VALUE_SETS["tuning-enabled"]["experiments"][exp["metadata"]["labels"]["app.kubernetes.io/component"]]
        for key in ("maxTrialCount", "parallelTrialCount", "maxFailedTrialCount"):
            assert exp["spec"][key] == budget.get(key, shipped["spec"][key])
            shipped["spec"][key] = exp["spec"][key]
        assert _without_release_labels(exp) == shipped
        assert "helm.sh/hook" not in exp["metadata"].get("annotations", {})
    assert (by_name["tune-graph-vae"]["spec"]["maxTrialCount"], by_name["tune-graph-vae"]["spec"]["parallelTrialCount"]) == (24, 4)


@pytest.mark.parametrize(("values", "message"), [
    ({"serviceAccount": {"name": "other-sa"}}, 'service account "astrobio-launcher"'),
    ({"storage": {"existingSecret": "my-store", "endpoint": "http://s3:9000"}}, 'read Secret "astrobio-storage"'),
    ({"image": {"tag": "9.9.9"}}, "use images ghcr.io/astrobio/...:0.1.0"),
])
def test_jobs_refuse_a_release_they_were_not_rendered_for(values, message):
    with pytest.raises(helm.HelmRenderError, match=message.replace(".", r"\.").replace("(", r"\(")):
        render({**values, **all_enabled()})


def test_jobs_refuse_another_namespace():
    with pytest.raises(helm.HelmRenderError, match='namespace "astrobio"'):
        render(all_enabled(), namespace="ml")
    assert of_kind(render({}, namespace="ml"), "PyTorchJob") == []  # without jobs any namespace is fine
