"""`kube:` config section: how a component's training becomes cluster objects.

One GPU profile, one storage secret and one cluster store (`store_uri`, which replaces `store.uri`
in everything pods read) feed every object astrobio renders (PyTorchJobs, TrainJobs, KFP steps,
Katib trials), so they cannot drift apart; `store.uri` stays the store of runs on this machine. No secret value lives here: only the name of
the Kubernetes Secret that holds the store endpoint and keys.
"""

from __future__ import annotations

import re
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator

from astrobio.sections import Strict

K8S_NAME = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
DIGEST = r"^sha256:[0-9a-f]{64}$"
CLUSTER_STORE = "s3://astrobio/artifacts"
"""The chart's default bucket (`storage.bucket`) and prefix (`storage.prefix`)."""


def cluster_store_problem(uri: str) -> str | None:
    """Why `uri` cannot be the store of cluster pods, or None. Pods have no shared disk and a
    rescheduled pod starts empty, so only an object store keeps artifacts and checkpoints."""
    parts = urlsplit(uri)
    if parts.scheme.lower() != "s3" or not parts.netloc:
        return (f"cluster pods need an object store every pod reaches, s3://bucket[/prefix], not a local folder "
                f"(e.g. --set kube.store_uri={CLUSTER_STORE})")
    if "@" in parts.netloc:
        return "user info is not allowed in the URI; keys come from the storage Secret (kube.storage_secret)"
    return None


def cluster_store_uri(kube: KubeSection, store_uri: str) -> str:
    """The store of cluster pods: `kube.store_uri`; unset, the config's `store.uri` when that is an
    object store, else CLUSTER_STORE (a config like configs/default.yaml, whose `store.uri` is a
    local folder for runs on this machine, still renders jobs that write to the bucket)."""
    if kube.store_uri is not None:
        return kube.store_uri
    return store_uri if cluster_store_problem(store_uri) is None else CLUSTER_STORE
QUANTITY = re.compile(r"^([0-9]+(\.[0-9]*)?|\.[0-9]+)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei|[eE][+-]?[0-9]+)?$")


class Toleration(Strict):
    key: str | None = None
    operator: Literal["Exists", "Equal"] = "Exists"
    value: str | None = None
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] | None = None


class GpuProfile(Strict):
    """Where GPU work lands; applies to PyTorchJob replicas and pipeline steps alike."""

    per_node: int = Field(1, ge=0, le=16, description="GPUs per node = nprocPerNode; 0 = CPU-only pods")
    resource: str = Field("nvidia.com/gpu", description="extended resource name of the accelerator")
    accelerator_type: str | None = Field(None, description="e.g. nvidia-tesla-a100 (KFP accelerator type / node label)")
    node_selector: dict[str, str] = Field(default_factory=dict)
    tolerations: list[Toleration] = Field(default_factory=lambda: [Toleration(key="nvidia.com/gpu", operator="Exists", effect="NoSchedule")])


class PodResources(Strict):
    cpu: str = Field("4", description="CPU request (and limit) per pod")
    memory: str = Field("16Gi", description="memory request (and limit) per pod")
    shm: str = Field("8Gi", description="size of the /dev/shm memory emptyDir (DataLoader workers)")

    @field_validator("cpu", "memory", "shm", mode="before")
    @classmethod
    def _quantity(cls, value: object) -> object:
        """`cpu: 4` in YAML is a number; a Kubernetes quantity is a string. Malformed ones fail here,
        as a config error, rather than as a rejected object on the cluster."""
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        if isinstance(value, str) and not QUANTITY.fullmatch(value):
            raise ValueError(f"{value!r} is not a Kubernetes quantity (e.g. 4, 500m, 16Gi)")
        return value


class ElasticSettings(Strict):
    min_replicas: int = Field(1, ge=1)
    max_replicas: int = Field(4, ge=1)
    max_restarts: int = Field(10, ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> ElasticSettings:
        """A range the operator can scale within; caught here, not as a stuck job."""
        if self.min_replicas > self.max_replicas:
            raise ValueError(f"min_replicas ({self.min_replicas}) must not exceed max_replicas ({self.max_replicas})")
        return self


class SchedulingSettings(Strict):
    """Gang scheduling, so a half-placed multi-node job does not sit on GPUs others wait for.

    `runPolicy.schedulingPolicy` is read by the Training Operator when it runs with a gang
    scheduler (Volcano or scheduler-plugins): it creates a PodGroup with `minMember` =
    min_available (`pkg/controller.v1/common/job.go`). `kueue_queue` sets the
    `kueue.x-k8s.io/queue-name` label, with which Kueue admits the whole job or none of it.
    """

    gang: bool = Field(True, description="multi-node jobs carry runPolicy.schedulingPolicy (all pods or none)")
    min_available: int | None = Field(None, ge=1, le=1025,
                                      description="pods that must be placed together; unset = every pod of the job")
    queue: str | None = Field(None, min_length=1, max_length=253, description="Volcano queue (schedulingPolicy.queue)")
    priority_class: str | None = Field(None, pattern=K8S_NAME,
                                       description="PriorityClass of the job's PodGroup and pods")
    schedule_timeout_s: int | None = Field(None, ge=1, le=86_400,
                                           description="how long a PodGroup may wait for all its pods (scheduler-plugins)")
    kueue_queue: str | None = Field(None, pattern=K8S_NAME, description="Kueue LocalQueue (label kueue.x-k8s.io/queue-name)")


class KubeSection(Strict):
    """Cluster-side settings for `astrobio render|submit` and the Helm chart."""

    namespace: str = Field("astrobio", pattern=K8S_NAME)
    image_registry: str = Field("ghcr.io/astrobio", min_length=1)
    image_tag: str = Field("0.1.0", min_length=1)
    image_pull_policy: Literal["Always", "IfNotPresent", "Never"] = "IfNotPresent"
    service_account: str = Field("astrobio-launcher", pattern=K8S_NAME)
    store_uri: str | None = Field(None, description="artifact store of every cluster object (jobs, Experiments, the "
                                  "chart's config), s3://bucket[/prefix]; null = store.uri when that is s3://, "
                                  f"else {CLUSTER_STORE}")
    storage_secret: str = Field("astrobio-storage", pattern=K8S_NAME,
                                description="Secret with ASTROBIO_S3_ENDPOINT, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY[, AWS_REGION]")
    workers: int = Field(1, ge=0, le=1024, description="nodes beside the first (nodes = workers + 1)")
    layout: Literal["auto", "master-worker"] = Field(
        "auto", description="auto: one node = a Master, several = Workers with c10d rendezvous on worker-0 "
                            "(Pod Security restricted admits every pod); master-worker: Master + Workers, whose "
                            "operator-injected init-pytorch container restricted refuses unless the operator's "
                            "--pytorch-init-container-template-file makes it compliant")
    gpu: GpuProfile = GpuProfile()
    resources: PodResources = PodResources()
    istio_sidecar: bool = Field(False, description="an Istio sidecar keeps finished job pods alive; off by default")
    backoff_limit: int = Field(3, ge=0, le=100)
    ttl_seconds_after_finished: int = Field(86_400, ge=0)
    clean_pod_policy: Literal["None", "Running", "All"] = "None"
    rendezvous_timeout_s: int = Field(900, ge=30, le=86_400, description="how long ranks wait for the master to resolve")
    termination_grace_s: int = Field(120, ge=10, le=3_600,
                                     description="time a pod gets after SIGTERM to write its checkpoint before SIGKILL")
    trainjob_runtime: str = Field("torch-distributed", pattern=K8S_NAME,
                                  description="ClusterTrainingRuntime a Kubeflow Trainer v2 TrainJob references")
    elastic: ElasticSettings | None = None
    scheduling: SchedulingSettings = SchedulingSettings()
    kfp_caching: bool = Field(False, description="KFP step caching; only safe where inputs fully determine a step")
    image_digests: dict[str, str] = Field(
        default_factory=dict,
        description="pin images by content: {'base' or a component: 'sha256:<64 hex>'}; rendered as "
                    "<registry>/<name>:<tag>@sha256:..., so a re-pushed tag cannot change what a pod runs")

    @field_validator("image_digests")
    @classmethod
    def _digests(cls, value: dict[str, str]) -> dict[str, str]:
        """A digest that pulls nothing would only fail at pod start (ErrImagePull): refuse it here
        (the root schema checks the names, which come from the catalog above this section)."""
        for name, digest in value.items():
            if not re.match(DIGEST, digest):
                raise ValueError(f"{name}: '{digest}' is not a digest; expected sha256: and 64 lowercase hex digits")
        return value

    @model_validator(mode="after")
    def _layout(self) -> KubeSection:
        """An elastic range needs the Worker-only layout; say so here rather than render a job the
        operator runs differently from what was asked."""
        if self.layout == "master-worker" and self.elastic is not None:
            raise ValueError("kube.layout 'master-worker' cannot be combined with kube.elastic "
                             "(elastic jobs are Worker-only); use kube.layout=auto")
        return self

    @field_validator("store_uri")
    @classmethod
    def _object_store(cls, value: str | None) -> str | None:
        """Refused at load, so no render or submit can put a local folder into a cluster object."""
        problem = None if value is None else cluster_store_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value
