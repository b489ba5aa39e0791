"""Kubeflow Trainer v2 TrainJob: schema-valid, and the same job as the PyTorchJob."""

from __future__ import annotations

import pytest

from astrobio.errors import UsageError
from astrobio.kube.render.pytorchjob import render_pytorchjob
from astrobio.kube.render.trainjob import effective_pod_template, render_trainjob
from astrobio.kube.validate import check_object
from astrobio.catalog import component_names

from .conftest import variant

SCALES = ["gpu", "cpu", "single-node", "multi-gpu"]


@pytest.mark.parametrize("component", component_names())
@pytest.mark.parametrize("name", SCALES)
def test_every_component_and_scale_validates(component, name):
    assert check_object(render_trainjob(variant(name), component)) == []


@pytest.mark.parametrize("name", SCALES)
def test_same_job_as_the_pytorchjob(name):
    cfg = variant(name, "kube.layout=master-worker")  # the static-rendezvous PyTorchJob: same env as the TrainJob
    tj = render_trainjob(cfg, "graph_vae", run_id="r7")
    pj = render_pytorchjob(cfg, "graph_vae", run_id="r7")
    master = pj["spec"]["pytorchReplicaSpecs"]["Master"]["template"]
    (c,) = master["spec"]["containers"]
    trainer = tj["spec"]["trainer"]
    assert (trainer["image"], trainer["command"], trainer["args"], trainer["env"]) == \
        (c["image"], c["command"], c["args"], c["env"])
    assert trainer["resourcesPerNode"] == c["resources"]
    assert trainer["numProcPerNode"] == int(pj["spec"]["nprocPerNode"])
    assert trainer["numNodes"] == sum(r["replicas"] for r in pj["spec"]["pytorchReplicaSpecs"].values())
    assert tj["metadata"]["name"] == pj["metadata"]["name"] and tj["metadata"]["labels"] == pj["metadata"]["labels"]
    pod = effective_pod_template(tj)
    assert pod["metadata"] == master["metadata"]
    for key in ("volumes", "securityContext", "serviceAccountName", "terminationGracePeriodSeconds"):
        assert pod["spec"][key] == master["spec"][key]
    assert pod["spec"].get("tolerations") == master["spec"].get("tolerations")
    assert pod["spec"]["containers"][0]["volumeMounts"] == c["volumeMounts"]


def test_references_the_torch_distributed_runtime():
    tj = render_trainjob(variant("gpu"), "graph_vae")
    assert tj["apiVersion"] == "trainer.kubeflow.org/v1alpha1" and tj["kind"] == "TrainJob"
    assert tj["spec"]["runtimeRef"] == {"apiGroup": "trainer.kubeflow.org", "kind": "ClusterTrainingRuntime",
                                        "name": "torch-distributed"}
    (patch,) = tj["spec"]["runtimePatches"]
    assert "/" in patch["manager"]  # the webhook requires a domain-prefixed manager
    (job,) = patch["trainingRuntimeSpec"]["template"]["spec"]["replicatedJobs"]
    assert job["name"] == "node"


def test_cpu_sets_one_process_per_node():
    # the runtime's default `auto` would start one process per CPU on CPU-only nodes
    assert render_trainjob(variant("cpu"), "graph_vae")["spec"]["trainer"]["numProcPerNode"] == 1


def test_elastic_is_refused():
    with pytest.raises(UsageError, match="kube.elastic"):
        render_trainjob(variant("elastic"), "graph_vae")
