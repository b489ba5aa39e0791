"""Kubeflow Training Operator v1 PyTorchJob for one component, built with the SDK's own models.

Shape (DESIGN.md "Kubernetes shape"): Master + `kube.workers` Workers, container `pytorch`,
`nprocPerNode` = GPUs per node (1 on CPU), restartPolicy ExitCode so a preempted pod (the trainer
exits 143 after checkpointing) restarts and resumes while a config error fails the job. With `kube.elastic` the job is Worker-only:
the operator's elastic mode hosts the c10d rendezvous on worker-0 and scales Workers between
min and max. A component that cannot run DDP gets a single Master with one process.
"""

from __future__ import annotations

from typing import Any

from kubeflow.training import (
    ApiClient,
    KubeflowOrgV1ElasticPolicy,
    KubeflowOrgV1PyTorchJob,
    KubeflowOrgV1PyTorchJobSpec,
    KubeflowOrgV1RDZVConf,
    KubeflowOrgV1ReplicaSpec,
    KubeflowOrgV1RunPolicy,
)
from kubernetes.client import V1ObjectMeta, V1PodSpec, V1PodTemplateSpec

from astrobio.config import AstrobioConfig
from astrobio.kube.job_description import JobDescription, describe_job, pod_security

API_VERSION = "kubeflow.org/v1"
KIND = "PyTorchJob"
CONTAINER = "pytorch"
RESTART_POLICY = "ExitCode"
"""Exit codes 128-255 restart the pod (preemption 143, store outage 200), 1-127 fail the job (a config
error, 2, would fail again): `IsRetryableExitCode` in pkg/util/train/train_util.go and the
`RestartPolicyExitCode` branch of pkg/controller.v1/common/pod.go (Training Operator v1.9.0). The
pod itself runs with restartPolicy Never (pkg/core/pod.go `SetRestartPolicy`), so a restart is a
new pod with an empty disk: the trainer resumes from the checkpoints mirrored to the store."""


def pod_template(desc: JobDescription) -> V1PodTemplateSpec:
    """The pod every replica runs; Master and Worker differ only in the operator-set env."""
    return V1PodTemplateSpec(
        metadata=V1ObjectMeta(labels=dict(desc.labels), annotations=dict(desc.pod_annotations) or None),
        spec=V1PodSpec(
            containers=[desc.container(CONTAINER)],
            volumes=list(desc.volumes),
            service_account_name=desc.service_account,
            automount_service_account_token=False,
            node_selector=dict(desc.node_selector) or None,
            tolerations=list(desc.tolerations) or None,
            security_context=pod_security(),
            termination_grace_period_seconds=desc.termination_grace_s,
        ),
    )


def _replicas(desc: JobDescription) -> dict[str, KubeflowOrgV1ReplicaSpec]:
    def spec(count: int) -> KubeflowOrgV1ReplicaSpec:
        return KubeflowOrgV1ReplicaSpec(replicas=count, restart_policy=RESTART_POLICY, template=pod_template(desc))

    if desc.elastic is not None:
        workers = min(max(desc.num_nodes, desc.elastic.min_replicas), desc.elastic.max_replicas)
        return {"Worker": spec(workers)}
    replicas = {"Master": spec(1)}
    if desc.num_nodes > 1:
        replicas["Worker"] = spec(desc.num_nodes - 1)
    return replicas


def _elastic_policy(desc: JobDescription) -> KubeflowOrgV1ElasticPolicy | None:
    if desc.elastic is None:
        return None
    return KubeflowOrgV1ElasticPolicy(
        min_replicas=desc.elastic.min_replicas,
        max_replicas=desc.elastic.max_replicas,
        max_restarts=desc.elastic.max_restarts,
        rdzv_backend="c10d",
        rdzv_conf=[KubeflowOrgV1RDZVConf(key="join_timeout", value=str(desc.rendezvous_timeout_s))],
    )


def build_pytorchjob(cfg: AstrobioConfig, component: str, *, run_id: str | None = None,
                     config_ref: str | None = None) -> KubeflowOrgV1PyTorchJob:
    """The SDK object (what `TrainingClient.create_job` takes)."""
    desc = describe_job(cfg, component, run_id=run_id, config_ref=config_ref)
    kube = cfg.kube
    return KubeflowOrgV1PyTorchJob(
        api_version=API_VERSION,
        kind=KIND,
        metadata=V1ObjectMeta(name=desc.name, namespace=desc.namespace, labels=dict(desc.labels),
                              annotations=dict(desc.annotations)),
        spec=KubeflowOrgV1PyTorchJobSpec(
            nproc_per_node=str(desc.nproc_per_node),
            elastic_policy=_elastic_policy(desc),
            pytorch_replica_specs=_replicas(desc),
            run_policy=KubeflowOrgV1RunPolicy(
                backoff_limit=kube.backoff_limit,
                clean_pod_policy=kube.clean_pod_policy,
                ttl_seconds_after_finished=kube.ttl_seconds_after_finished,
            ),
        ),
    )


def render_pytorchjob(cfg: AstrobioConfig, component: str, *, run_id: str | None = None,
                      config_ref: str | None = None) -> dict[str, Any]:
    """The PyTorchJob as a plain camelCase dict, exactly what `kubectl apply` and the API receive."""
    job = build_pytorchjob(cfg, component, run_id=run_id, config_ref=config_ref)
    return ApiClient().sanitize_for_serialization(job)
