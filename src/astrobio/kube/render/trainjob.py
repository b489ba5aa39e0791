"""Kubeflow Trainer v2 TrainJob (`trainer.kubeflow.org/v1alpha1`) from the same job description.

The TrainJob references the `torch-distributed` ClusterTrainingRuntime, whose torch plugin sets
the same `PET_*` variables the v1 operator sets, so the container command is the PyTorchJob's.
Pod-level settings the `trainer` field cannot carry (service account, volumes, placement,
security context, labels) travel as a `runtimePatches` entry owned by astrobio: Trainer v2.2+
replaced `podTemplateOverrides` with that API. The kubeflow-training SDK in use (1.9) has no
v2 models, so the object is built as a plain dict and checked against the upstream CRD schema.
"""

from __future__ import annotations

from typing import Any

from kubernetes.client import ApiClient

from astrobio.config import AstrobioConfig
from astrobio.errors import UsageError
from astrobio.kube.render.job_description import JobDescription, container_security, describe_job, pod_security

GROUP = "trainer.kubeflow.org"
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"
KIND = "TrainJob"
PLURAL = "trainjobs"
REPLICATED_JOB = "node"
CONTAINER = "node"
PATCH_MANAGER = "astrobio.dev/render"


def _plain(obj: Any) -> Any:
    return ApiClient().sanitize_for_serialization(obj)


def _pod_patch(desc: JobDescription) -> dict[str, Any]:
    """The pod template patch for the runtime's `node` job (only fields RuntimePatches allows)."""
    spec: dict[str, Any] = {
        "serviceAccountName": desc.service_account,
        "securityContext": _plain(pod_security()),
        "terminationGracePeriodSeconds": desc.termination_grace_s,
        "volumes": _plain(list(desc.volumes)),
        "containers": [{
            "name": CONTAINER,
            "volumeMounts": _plain(list(desc.volume_mounts)),
            "securityContext": _plain(container_security()),
        }],
    }
    if desc.node_selector:
        spec["nodeSelector"] = dict(desc.node_selector)
    if desc.tolerations:
        spec["tolerations"] = _plain(list(desc.tolerations))
    metadata: dict[str, Any] = {"labels": dict(desc.labels)}
    if desc.pod_annotations:
        metadata["annotations"] = dict(desc.pod_annotations)
    return {"metadata": metadata, "spec": spec}


def render_trainjob(cfg: AstrobioConfig, component: str, *, run_id: str | None = None,
                    config_ref: str | None = None) -> dict[str, Any]:
    """The TrainJob as a camelCase dict; `run_id`/`config_ref` as for `render_pytorchjob`."""
    if cfg.kube.elastic is not None:
        raise UsageError("kube.elastic: Kubeflow Trainer v2 TrainJobs have no elastic mode; "
                         "unset kube.elastic or use --api pytorchjob")
    desc = describe_job(cfg, component, run_id=run_id, config_ref=config_ref)
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {"name": desc.name, "namespace": desc.namespace, "labels": dict(desc.labels),
                     "annotations": dict(desc.annotations)},
        "spec": {
            "runtimeRef": {"apiGroup": GROUP, "kind": "ClusterTrainingRuntime", "name": cfg.kube.trainjob_runtime},
            "trainer": {
                "image": desc.image,
                "command": list(desc.command),
                "args": list(desc.args),
                "env": _plain(desc.static_env()),
                "numNodes": desc.num_nodes,
                "numProcPerNode": desc.nproc_per_node,
                "resourcesPerNode": _plain(desc.resources),
            },
            "runtimePatches": [{
                "manager": PATCH_MANAGER,
                "trainingRuntimeSpec": {"template": {"spec": {"replicatedJobs": [{
                    "name": REPLICATED_JOB,
                    "template": {"spec": {"template": _pod_patch(desc)}},
                }]}}},
            }],
        },
    }


def effective_pod_template(trainjob: dict[str, Any]) -> dict[str, Any]:
    """The `node` pod template as Trainer would run it (runtime patch + trainer fields), for
    checking against the Kubernetes schema; the runtime's own defaults are not included."""
    trainer = trainjob["spec"].get("trainer", {})
    patches = trainjob["spec"].get("runtimePatches") or [{}]
    jobs = patches[0].get("trainingRuntimeSpec", {}).get("template", {}).get("spec", {}).get("replicatedJobs") or [{}]
    template = jobs[0].get("template", {}).get("spec", {}).get("template", {"spec": {}})
    spec = dict(template.get("spec", {}))
    containers = [dict(c) for c in spec.get("containers", [])] or [{"name": CONTAINER}]
    for container in containers:
        if container.get("name") == CONTAINER:
            container.update({k: v for k, v in (("image", trainer.get("image")), ("command", trainer.get("command")),
                                                 ("args", trainer.get("args")), ("env", trainer.get("env")),
                                                 ("resources", trainer.get("resourcesPerNode"))) if v is not None})
    spec["containers"] = containers
    return {"metadata": template.get("metadata", {}), "spec": spec}
