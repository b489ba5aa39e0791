"""Kubeflow Training Operator v1 PyTorchJob for one component, built with the SDK's own models.

Layout (DESIGN.md "Kubernetes shape"), chosen so Pod Security `restricted` admits every pod the
operator creates, the ones it adds to included. v1.9 injects an `init-pytorch` container without
a securityContext into every Worker whenever a Master replica exists
(`pkg/controller.v1/pytorch/initcontainer.go`, `setInitContainer`), which `restricted` refuses. So:

- one node: a single Master. No Worker, nothing injected; the operator sets MASTER_ADDR, RANK,
  PET_NNODES=1 and PET_NODE_RANK=0 (`envvar.go`), torchrun runs a static rendezvous on the pod.
- several nodes (or `kube.elastic`): Workers only, with `elasticPolicy` (c10d). Nothing injected;
  the operator sets PET_RDZV_ENDPOINT=<job>-worker-0:<pytorchjob-port>, PET_RDZV_BACKEND=c10d,
  PET_NNODES=min:max, PET_MAX_RESTARTS and PET_RDZV_CONF (`elastic.go`) and a headless Service per
  pod, so torchrun on worker-0 (hostname = pod name) hosts the rendezvous store.
- `kube.layout: master-worker`: Master + Workers, for clusters whose operator has a compliant
  `--pytorch-init-container-template-file` or namespaces that do not enforce `restricted`.

Container `pytorch`, `nprocPerNode` = GPUs per node (1 on CPU), restartPolicy ExitCode: a preempted
pod (the trainer exits 143 after checkpointing) or a store outage (200) restarts and resumes from
the checkpoints mirrored to the store, a config error (2) fails the job. Multi-node jobs carry
`runPolicy.schedulingPolicy` (gang scheduling) and optionally a Kueue queue label.
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
    KubeflowOrgV1SchedulingPolicy,
)
from kubernetes.client import V1ObjectMeta, V1PodSpec, V1PodTemplateSpec

from astrobio.config import AstrobioConfig
from astrobio.config.kube import ElasticSettings, KubeSection
from astrobio.kube.render.job_description import JobDescription, describe_job, pod_security

API_VERSION = "kubeflow.org/v1"
KIND = "PyTorchJob"
CONTAINER = "pytorch"
RESTART_POLICY = "ExitCode"
"""Exit codes 128-255 restart the pod (preemption 143, store outage 200), 1-127 fail the job (a config
error, 2, would fail again): `IsRetryableExitCode` in pkg/util/train/train_util.go and the
`RestartPolicyExitCode` branch of pkg/controller.v1/common/pod.go (Training Operator v1.9.0). The
pod itself runs with restartPolicy Never (pkg/core/pod.go `SetRestartPolicy`), so a restart is a
new pod with an empty disk: the trainer resumes from the checkpoints mirrored to the store."""
KUEUE_QUEUE_LABEL = "kueue.x-k8s.io/queue-name"


def layout(desc: JobDescription, kube: KubeSection) -> ElasticSettings | None:
    """The Workers' elastic settings (a Worker-only job), or None for a Master-led job. Several
    nodes without `kube.elastic` are a fixed-size elastic job (min = max = nodes)."""
    if desc.elastic is not None:
        return desc.elastic
    if desc.num_nodes == 1 or kube.layout == "master-worker":
        return None
    return ElasticSettings(min_replicas=desc.num_nodes, max_replicas=desc.num_nodes)


def pod_template(desc: JobDescription, static: bool) -> V1PodTemplateSpec:
    """The pod every replica runs; Master and Worker differ only in the operator-set env.
    `static`: torchrun's rendezvous is static (Master-led), so the pod carries its timeout."""
    return V1PodTemplateSpec(
        metadata=V1ObjectMeta(labels=dict(desc.labels), annotations=dict(desc.pod_annotations) or None),
        spec=V1PodSpec(
            containers=[desc.container(CONTAINER, desc.static_env() if static else None)],
            volumes=list(desc.volumes),
            service_account_name=desc.service_account,
            automount_service_account_token=False,
            node_selector=dict(desc.node_selector) or None,
            tolerations=list(desc.tolerations) or None,
            security_context=pod_security(),
            termination_grace_period_seconds=desc.termination_grace_s,
            priority_class_name=desc.priority_class,
        ),
    )


def _replicas(desc: JobDescription, elastic: ElasticSettings | None) -> dict[str, KubeflowOrgV1ReplicaSpec]:
    def spec(count: int) -> KubeflowOrgV1ReplicaSpec:
        return KubeflowOrgV1ReplicaSpec(replicas=count, restart_policy=RESTART_POLICY,
                                        template=pod_template(desc, static=elastic is None))

    if elastic is not None:
        return {"Worker": spec(min(max(desc.num_nodes, elastic.min_replicas), elastic.max_replicas))}
    replicas = {"Master": spec(1)}
    if desc.num_nodes > 1:
        replicas["Worker"] = spec(desc.num_nodes - 1)
    return replicas


def _elastic_policy(desc: JobDescription, elastic: ElasticSettings | None) -> KubeflowOrgV1ElasticPolicy | None:
    if elastic is None:
        return None
    return KubeflowOrgV1ElasticPolicy(
        min_replicas=elastic.min_replicas,
        max_replicas=elastic.max_replicas,
        max_restarts=elastic.max_restarts,
        rdzv_backend="c10d",
        rdzv_conf=[KubeflowOrgV1RDZVConf(key="join_timeout", value=str(desc.rendezvous_timeout_s))],
    )


def scheduling_policy(kube: KubeSection, pods: int, elastic: ElasticSettings | None) -> KubeflowOrgV1SchedulingPolicy | None:
    """Gang scheduling for a job of several pods: all of them (an elastic job: its minimum) or
    none, so a half-placed job does not hold GPUs. None for one pod unless a queue, priority
    or timeout is asked for; `kube.scheduling.gang: false` leaves it out entirely."""
    sched = kube.scheduling
    wanted = sched.queue or sched.priority_class or sched.schedule_timeout_s or sched.min_available
    if not sched.gang or (pods <= 1 and not wanted):
        return None
    floor = elastic.min_replicas if elastic is not None else pods
    return KubeflowOrgV1SchedulingPolicy(
        min_available=min(sched.min_available or floor, pods),
        queue=sched.queue,
        priority_class=sched.priority_class,
        schedule_timeout_seconds=sched.schedule_timeout_s,
    )


def build_pytorchjob(cfg: AstrobioConfig, component: str, *, run_id: str | None = None,
                     config_ref: str | None = None) -> KubeflowOrgV1PyTorchJob:
    """The SDK object (what `TrainingClient.create_job` takes)."""
    desc = describe_job(cfg, component, run_id=run_id, config_ref=config_ref)
    kube = cfg.kube
    elastic = layout(desc, kube)
    replicas = _replicas(desc, elastic)
    labels = dict(desc.labels)
    if kube.scheduling.kueue_queue:
        labels[KUEUE_QUEUE_LABEL] = kube.scheduling.kueue_queue
    return KubeflowOrgV1PyTorchJob(
        api_version=API_VERSION,
        kind=KIND,
        metadata=V1ObjectMeta(name=desc.name, namespace=desc.namespace, labels=labels,
                              annotations=dict(desc.annotations)),
        spec=KubeflowOrgV1PyTorchJobSpec(
            nproc_per_node=str(desc.nproc_per_node),
            elastic_policy=_elastic_policy(desc, elastic),
            pytorch_replica_specs=replicas,
            run_policy=KubeflowOrgV1RunPolicy(
                backoff_limit=kube.backoff_limit,
                clean_pod_policy=kube.clean_pod_policy,
                ttl_seconds_after_finished=kube.ttl_seconds_after_finished,
                scheduling_policy=scheduling_policy(kube, sum(r.replicas for r in replicas.values()), elastic),
            ),
        ),
    )


def render_pytorchjob(cfg: AstrobioConfig, component: str, *, run_id: str | None = None,
                      config_ref: str | None = None) -> dict[str, Any]:
    """The PyTorchJob as a plain camelCase dict, exactly what `kubectl apply` and the API receive."""
    job = build_pytorchjob(cfg, component, run_id=run_id, config_ref=config_ref)
    return ApiClient().sanitize_for_serialization(job)
