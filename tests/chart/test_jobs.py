"""Shipped PyTorchJobs are exactly `astrobio render manifests`; generated chart files never drift."""

from __future__ import annotations

import pytest
import yaml

from astrobio.config import load_config
from astrobio.kube.chart_values import render_experiment, trial_job
from astrobio.kube.manifests import render_manifest_files
from astrobio.kube.pytorchjob import render_pytorchjob

from .helpers import ROOT, VALUE_SETS, all_enabled, helm, of_kind, render, render_files, rendered_for

DEFAULT = ROOT / "configs" / "default.yaml"


def test_rendered_pytorchjobs_equal_astrobio_render_manifests():
    cfg = load_config(DEFAULT)
    manifests = render_manifest_files(cfg)
    names = rendered_for()["components"]  # = the registry (test_chart_files)
    files = render_files(all_enabled())
    jobs = {d["metadata"]["name"]: d for d in yaml.safe_load_all(files["astrobio/templates/pytorchjobs.yaml"]) if d}
    assert len(jobs) == len(names)
    for name in names:
        expected = render_pytorchjob(cfg, name)
        assert jobs[expected["metadata"]["name"]] == expected
        text = manifests[f"manifests/pytorchjob-{name.replace('_', '-')}.yaml"]
        assert text in files["astrobio/templates/pytorchjobs.yaml"]  # byte for byte, header included


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


def test_experiments_wrap_the_same_pytorchjob_and_take_trial_budgets():
    cfg = load_config(DEFAULT)
    docs = of_kind(render(VALUE_SETS["tuning-enabled"]), "Experiment")
    by_name = {d["metadata"]["name"]: d for d in docs}
    assert set(by_name) == {"astrobio-graph-vae-tune", "astrobio-causal-tune"}
    graph = by_name["astrobio-graph-vae-tune"]
    assert (graph["spec"]["maxTrialCount"], graph["spec"]["parallelTrialCount"]) == (24, 4)
    assert graph["spec"]["maxFailedTrialCount"] == render_experiment(cfg, "graph_vae")["spec"]["maxFailedTrialCount"]
    spec = graph["spec"]
    assert spec["trialTemplate"]["trialSpec"] == trial_job(cfg, "graph_vae")
    assert spec["objective"] == {"type": "maximize", "objectiveMetricName": "val_auc"}
    assert spec["metricsCollectorSpec"] == {"collector": {"kind": "StdOut"}}
    assert spec["earlyStopping"]["algorithmName"] == "medianstop"
    assert spec["trialTemplate"]["primaryContainerName"] == "pytorch"
    # the trial job is the manifests/ job plus the tried values, appended so they win
    base = render_pytorchjob(cfg, "graph_vae")["spec"]["pytorchReplicaSpecs"]["Master"]["template"]["spec"]["containers"][0]["args"]
    trial = spec["trialTemplate"]["trialSpec"]["spec"]["pytorchReplicaSpecs"]["Master"]["template"]["spec"]["containers"][0]["args"]
    assert trial[: len(base)] == base
    assert trial[len(base):] == ["--set", "run.run_id=${trialParameters.trialName}",
                                 "--set", "components.graph_vae.optim.lr=${trialParameters.lr}",
                                 "--set", "components.graph_vae.model.latent_dim=${trialParameters.latentDim}"]


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
