"""The chart mounts an existing PVC with the user's data into every shipped training container."""

from __future__ import annotations

import pytest

from astrobio.kube.validate import check_object, pod_template_errors

from .helpers import all_enabled, helm, of_kind, render


def replicas(doc):
    spec = doc["spec"]["trialTemplate"]["trialSpec"]["spec"] if doc["kind"] == "Experiment" else doc["spec"]
    return spec["pytorchReplicaSpecs"].values()


def test_existing_claim_is_mounted_read_only_in_every_replica():
    values = {**all_enabled(), "dataVolume": {"existingClaim": "team-data", "mountPath": "/data"}}
    docs = of_kind(render(values), "PyTorchJob") + of_kind(render(values), "Experiment")
    assert {d["kind"] for d in docs} == {"PyTorchJob", "Experiment"}
    for doc in docs:
        for replica in replicas(doc):
            pod = replica["template"]["spec"]
            assert {"name": "user-data", "persistentVolumeClaim": {"claimName": "team-data", "readOnly": True}} in pod["volumes"]
            for container in pod["containers"]:
                assert {"name": "user-data", "mountPath": "/data", "readOnly": True} in container["volumeMounts"]
            assert pod_template_errors(replica["template"]) == []
        if doc["kind"] == "PyTorchJob":
            assert check_object(doc) == []


def test_without_a_claim_nothing_is_mounted():
    for doc in of_kind(render(all_enabled()), "PyTorchJob"):
        for replica in replicas(doc):
            assert all("persistentVolumeClaim" not in v for v in replica["template"]["spec"]["volumes"])


def test_a_bad_claim_name_fails_the_install():
    with pytest.raises(helm.HelmValuesError, match="existingClaim"):
        render({"dataVolume": {"existingClaim": "Team_Data"}})
