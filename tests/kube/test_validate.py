"""Validation catches broken objects, and says clearly when the schemas are missing."""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import pytest

from astrobio.kube.render.pytorchjob import render_pytorchjob
from astrobio.kube.render.trainjob import render_trainjob
from astrobio.kube.validate import (
    ManifestInvalid,
    SchemaUnavailable,
    check_object,
    pod_template_errors,
    validate_object,
)

from .conftest import variant


@pytest.fixture(scope="module")
def job():
    return render_pytorchjob(variant("gpu", "kube.layout=master-worker"), "graph_vae")  # has a Master to break


def test_replicas_as_a_string_fails(job):
    broken = copy.deepcopy(job)
    broken["spec"]["pytorchReplicaSpecs"]["Worker"]["replicas"] = "1"
    with pytest.raises(ManifestInvalid) as info:
        validate_object(broken)
    assert any("Worker.replicas" in e and "integer" in e for e in info.value.errors)
    assert "\n" not in str(info.value)


def test_missing_container_fails(job):
    broken = copy.deepcopy(job)
    del broken["spec"]["pytorchReplicaSpecs"]["Master"]["template"]["spec"]["containers"]
    errors = check_object(broken)
    assert any("'containers' is a required property" in e for e in errors)
    assert any("container named pytorch" in e for e in errors)


def test_wrong_container_name_and_two_masters_fail(job):
    broken = copy.deepcopy(job)
    broken["spec"]["pytorchReplicaSpecs"]["Master"]["template"]["spec"]["containers"][0]["name"] = "main"
    broken["spec"]["pytorchReplicaSpecs"]["Master"]["replicas"] = 2
    errors = check_object(broken)
    assert any("container named pytorch" in e for e in errors) and any("must be 1" in e for e in errors)


def test_unknown_fields_are_reported_not_pruned_silently():
    tj = render_trainjob(variant("gpu"), "graph_vae")
    tj["spec"]["podSpecOverrides"] = [{"targetJobs": [{"name": "node"}]}]  # the pre-2.2 API
    assert check_object(tj) == ["spec.podSpecOverrides: unknown field (the API server would prune it)"]


def test_pod_template_checked_strictly_against_kubernetes(job):
    pytest.importorskip("kubernetes_validate", reason="kubernetes-validate is not installed (strict check)")
    template = copy.deepcopy(job["spec"]["pytorchReplicaSpecs"]["Master"]["template"])
    assert pod_template_errors(template) == []
    template["spec"]["containers"][0]["resource"] = template["spec"]["containers"][0].pop("resources")
    (error,) = pod_template_errors(template)
    assert "resource" in error


def test_pod_template_wrong_type_fails(job):
    pytest.importorskip("kubernetes_validate", reason="kubernetes-validate is not installed (strict check)")
    template = copy.deepcopy(job["spec"]["pytorchReplicaSpecs"]["Master"]["template"])
    template["spec"]["terminationGracePeriodSeconds"] = "soon"
    assert pod_template_errors(template)


def test_broken_job_fails_without_schemas_too(job, tmp_path):
    """Without a schema folder the webhook rules and pod-template checks still run."""
    broken = copy.deepcopy(job)
    broken["spec"]["pytorchReplicaSpecs"]["Master"]["template"]["spec"]["containers"] = []
    with pytest.raises(SchemaUnavailable, match="not found"):
        validate_object(broken, schema_dir=tmp_path)
    with pytest.raises(ManifestInvalid, match="container named pytorch"):
        validate_object(broken, schema_dir=tmp_path, require_schema=False)


def test_missing_schema_folder_is_one_clear_line(tmp_path):
    with pytest.raises(SchemaUnavailable) as info:
        check_object(render_pytorchjob(variant("cpu"), "graph_vae"), schema_dir=tmp_path / "nowhere")
    assert "upstream CRD schemas not found" in str(info.value) and "\n" not in str(info.value)


def test_without_kubernetes_validate_client_models_still_check(monkeypatch, job):
    monkeypatch.setitem(sys.modules, "kubernetes_validate", None)  # import now raises ImportError
    template = copy.deepcopy(job["spec"]["pytorchReplicaSpecs"]["Master"]["template"])
    assert pod_template_errors(template) == []
    del template["spec"]["containers"][0]["name"]
    assert pod_template_errors(template) == ["template: Invalid value for `name`, must not be `None`"]


def test_everything_still_renders_when_shared_is_absent(monkeypatch, tmp_path):
    from astrobio.kube import validate
    from astrobio.deploy.manifests import render_manifest_files
    from astrobio.kube.submission.submit import submit_train

    monkeypatch.setattr(validate, "default_schema_dir", lambda: tmp_path / "no-shared")
    notes: list[str] = []
    assert submit_train(variant("cpu"), "graph_vae", dry_run=True, env={}, note=notes.append).startswith("apiVersion")
    assert len(notes) == 1 and "schemas not found" in notes[0]
    assert render_manifest_files(variant("gpu"))


def test_katib_experiment_fields_are_checked_through_allof_and_refs():
    """Katib's typed schema roots at allOf/$ref: metadata and spec are declared there, a typo below is not."""
    import yaml

    exp = yaml.safe_load((Path(__file__).resolve().parents[2] / "manifests" / "katib" / "graph-vae.yaml").read_text())
    assert check_object(exp) == []
    exp["spec"]["objective"]["goall"] = 0.9
    exp["metadata"]["labelz"] = {}
    assert check_object(exp) == ["metadata.labelz: unknown field (the API server would prune it)",
                                 "spec.objective.goall: unknown field (the API server would prune it)"]
