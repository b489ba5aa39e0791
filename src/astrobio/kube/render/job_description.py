"""One description of a component's training job, read by every renderer (PyTorchJob, TrainJob).

Image, command, environment, resources, GPU placement, volumes and security settings are decided
here once, so a PyTorchJob and a Kubeflow Trainer v2 TrainJob of the same config cannot disagree.
Everything is a pure function of the config: no cluster, no environment variables, no clock.

The container runs `python -m astrobio.torchrun -m astrobio train ...` (torchrun with the failed
rank's exit code, see `astrobio/torchrun.py`): the training operator (v1) and Kubeflow Trainer (v2)
both hand torchrun its topology through `PET_*` variables (nodes, node rank, master address), and
torchrun gives each process the RANK/LOCAL_RANK/WORLD_SIZE/MASTER_* the trainer reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from kubernetes.client import (
    V1Capabilities,
    V1ConfigMapVolumeSource,
    V1Container,
    V1ContainerPort,
    V1EmptyDirVolumeSource,
    V1EnvVar,
    V1EnvVarSource,
    V1PodSecurityContext,
    V1ResourceRequirements,
    V1SeccompProfile,
    V1SecretKeySelector,
    V1SecurityContext,
    V1Toleration,
    V1Volume,
    V1VolumeMount,
)

from astrobio.config import AstrobioConfig
from astrobio.kube.render.config_args import config_overrides, set_args
from astrobio.config.kube import ElasticSettings, cluster_store_uri
from astrobio.kube.render.images import IMAGE_GID, IMAGE_HOME, IMAGE_UID, WORKDIR, image_ref
from astrobio.kube.render.naming import job_name, label_value, standard_labels
from astrobio.catalog import component as catalog_row
from astrobio.store.keys import artifact_prefix
from astrobio.store.settings import ACCESS_KEY_VARS, ENDPOINT_VARS, REGION_VARS, SECRET_KEY_VARS, SECURE_VAR

OUTPUT_DIR = f"{WORKDIR}/output"
"""--output in the pod: inside the `work` emptyDir, so a container restarted by restartPolicy
finds its checkpoints; a new pod (restartPolicy ExitCode, rescheduling) resumes from the checkpoints
mirrored to the artifact store."""
WRITABLE_DIRS = (("work", WORKDIR), ("tmp", "/tmp"), ("home", IMAGE_HOME))
"""The only writable places of a training container, each an emptyDir: the root filesystem is
read-only. `work` is the working directory (output dir, a relative local store), `tmp` holds
torchrun's error files and tempfile's scratch, `home` the torch/HF/Triton/matplotlib caches."""
CONFIG_DIR = "/etc/astrobio"
CONFIG_FILE = "config.yaml"
LAUNCHER = ("python", "-m", "astrobio.torchrun")
"""torchrun, keeping the failed rank's exit code (plain torchrun exits 1 for every failure, which
`restartPolicy: ExitCode` would treat as permanent)."""
MASTER_PORT = 23456
PORT_NAME = "pytorchjob-port"
ISTIO_INJECT = "sidecar.istio.io/inject"
ARTIFACT_ANNOTATION = "astrobio.dev/artifact-uri"


@dataclass(frozen=True)
class JobDescription:
    """Everything a renderer needs; built only by `describe_job`."""

    component: str
    name: str
    namespace: str
    run_id: str
    labels: dict[str, str]
    annotations: dict[str, str]
    pod_annotations: dict[str, str]
    image: str
    image_pull_policy: str
    command: list[str]
    args: list[str]
    env: list[V1EnvVar]
    resources: V1ResourceRequirements
    nproc_per_node: int
    num_nodes: int
    elastic: ElasticSettings | None
    rendezvous_timeout_s: int
    node_selector: dict[str, str]
    tolerations: list[V1Toleration]
    volumes: list[V1Volume]
    volume_mounts: list[V1VolumeMount]
    service_account: str
    termination_grace_s: int
    artifact_uri: str
    priority_class: str | None = None

    def static_env(self) -> list[V1EnvVar]:
        """The env of a static-rendezvous launch (a Master-led PyTorchJob, a TrainJob): the join
        timeout, which in elastic mode travels as `elasticPolicy.rdzvConf` instead (the operator
        writes PET_RDZV_CONF from it, `pkg/controller.v1/pytorch/elastic.go`)."""
        return [*self.env, V1EnvVar(name="PET_RDZV_CONF", value=f"timeout={self.rendezvous_timeout_s}")]

    def container(self, name: str, env: list[V1EnvVar] | None = None) -> V1Container:
        """The training container under `name` (`pytorch` for PyTorchJob, `node` for TrainJob)."""
        return V1Container(
            name=name,
            image=self.image,
            image_pull_policy=self.image_pull_policy,
            command=list(self.command),
            args=list(self.args),
            env=list(self.env if env is None else env),
            resources=self.resources,
            ports=[V1ContainerPort(name=PORT_NAME, container_port=MASTER_PORT, protocol="TCP")],
            volume_mounts=list(self.volume_mounts),
            security_context=container_security(),
        )


def container_security() -> V1SecurityContext:
    """Non-root, no privilege escalation, no Linux capabilities, read-only root filesystem:
    training needs none of them (it writes only to the WRITABLE_DIRS emptyDirs)."""
    return V1SecurityContext(
        allow_privilege_escalation=False,
        read_only_root_filesystem=True,
        capabilities=V1Capabilities(drop=["ALL"]),
        run_as_non_root=True,
        run_as_user=IMAGE_UID,
        run_as_group=IMAGE_GID,
    )


def pod_security() -> V1PodSecurityContext:
    """Pod-wide: the image's user, fsGroup so emptyDirs are writable, the runtime's seccomp profile."""
    return V1PodSecurityContext(
        run_as_non_root=True,
        run_as_user=IMAGE_UID,
        run_as_group=IMAGE_GID,
        fs_group=IMAGE_GID,
        seccomp_profile=V1SeccompProfile(type="RuntimeDefault"),
    )


def cpu_cores(quantity: str) -> Fraction:
    """'4' -> 4, '500m' -> 1/2, '2.5' -> 5/2 (the CPU quantity forms a config uses)."""
    text = quantity.strip()
    try:
        return Fraction(text[:-1]) / 1000 if text.endswith("m") else Fraction(text)
    except (ValueError, ZeroDivisionError):
        return Fraction(1)  # an unusual suffix: one thread is safe, the quantity itself stays as written


def _secret_env(cfg: AstrobioConfig) -> list[V1EnvVar]:
    """Store endpoint and keys by reference to the Secret: values never appear in a manifest. The
    cluster store is always s3:// (`cluster_store_uri`), so endpoint and keys are required."""
    wanted = [(ENDPOINT_VARS[0], True), (ACCESS_KEY_VARS[0], True), (SECRET_KEY_VARS[0], True),
              (REGION_VARS[0], False), (SECURE_VAR, False)]
    return [
        V1EnvVar(name=var, value_from=V1EnvVarSource(
            secret_key_ref=V1SecretKeySelector(name=cfg.kube.storage_secret, key=var, optional=not required)))
        for var, required in wanted
    ]


def _resources(cfg: AstrobioConfig, gpus: int) -> V1ResourceRequirements:
    """Requests equal limits (Guaranteed QoS: the scheduler's promise holds for a long run)."""
    res = cfg.kube.resources
    base = {"cpu": res.cpu, "memory": res.memory}
    limits = {**base, cfg.kube.gpu.resource: str(gpus)} if gpus else dict(base)
    return V1ResourceRequirements(requests=dict(base), limits=limits)


def _volumes(cfg: AstrobioConfig, config_ref: str | None) -> tuple[list[V1Volume], list[V1VolumeMount]]:
    volumes = [
        V1Volume(name="dshm", empty_dir=V1EmptyDirVolumeSource(medium="Memory", size_limit=cfg.kube.resources.shm)),
        *(V1Volume(name=name, empty_dir=V1EmptyDirVolumeSource()) for name, _ in WRITABLE_DIRS),
    ]
    mounts = [V1VolumeMount(name="dshm", mount_path="/dev/shm"),
              *(V1VolumeMount(name=name, mount_path=path) for name, path in WRITABLE_DIRS)]
    if config_ref is not None:
        volumes.append(V1Volume(name="run-config", config_map=V1ConfigMapVolumeSource(name=config_ref)))
        mounts.append(V1VolumeMount(name="run-config", mount_path=CONFIG_DIR, read_only=True))
    return volumes, mounts


def _train_args(cfg: AstrobioConfig, component: str, run_id: str | None, config_ref: str | None) -> list[str]:
    head = ["--module", "astrobio", "train", "--component", component, "--output", OUTPUT_DIR]
    if config_ref is None:
        return head + set_args(config_overrides(cfg, run_id, component))
    pinned = [f"run.run_id={run_id}"] if run_id is not None else []
    return head + ["--config", f"{CONFIG_DIR}/{CONFIG_FILE}"] + set_args(pinned)


def describe_job(cfg: AstrobioConfig, component: str, *, run_id: str | None = None,
                 config_ref: str | None = None) -> JobDescription:
    """The job that trains `component` under `cfg`.

    `run_id` names the run (object name suffix, label, artifact prefix) and overrides
    `run.run_id`; `config_ref` names an existing ConfigMap whose `config.yaml` key holds the run
    config (mounted and passed as --config) instead of the inline `--set` arguments.
    """
    spec = catalog_row(component)  # the row, not SPEC: rendering a job needs no torch or model library
    kube = cfg.kube
    effective_run = run_id if run_id is not None else cfg.run.effective_run_id
    ddp = spec.supports_ddp
    gpu = kube.gpu
    nproc = (gpu.per_node if ddp else 1) if gpu.per_node > 0 else 1
    gpus = (gpu.per_node if ddp else 1) if gpu.per_node > 0 else 0
    num_nodes = kube.workers + 1 if ddp else 1
    elastic = kube.elastic if ddp else None
    threads = max(1, int(cpu_cores(kube.resources.cpu) / nproc))
    env = _secret_env(cfg) + [V1EnvVar(name="OMP_NUM_THREADS", value=str(threads))]
    volumes, mounts = _volumes(cfg, config_ref)
    labels = standard_labels(component, effective_run)
    uri = f"{cluster_store_uri(kube, cfg.store.uri).rstrip('/')}/{artifact_prefix(effective_run, spec.phase, component)}"
    return JobDescription(
        component=component,
        name=job_name(component, run_id),
        namespace=kube.namespace,
        run_id=effective_run,
        labels=labels,
        annotations={ARTIFACT_ANNOTATION: uri, "astrobio.dev/phase": label_value(spec.phase)},
        pod_annotations={} if kube.istio_sidecar else {ISTIO_INJECT: "false"},
        image=image_ref(kube, component),
        image_pull_policy=kube.image_pull_policy,
        command=list(LAUNCHER),
        args=_train_args(cfg, component, run_id, config_ref),
        env=env,
        resources=_resources(cfg, gpus),
        nproc_per_node=nproc,
        num_nodes=num_nodes,
        elastic=elastic,
        rendezvous_timeout_s=kube.rendezvous_timeout_s,
        node_selector=dict(gpu.node_selector) if gpus else {},
        tolerations=[V1Toleration(key=t.key, operator=t.operator, value=t.value, effect=t.effect)
                     for t in gpu.tolerations] if gpus else [],
        volumes=volumes,
        volume_mounts=mounts,
        service_account=kube.service_account,
        termination_grace_s=kube.termination_grace_s,
        artifact_uri=uri,
        priority_class=kube.scheduling.priority_class,
    )
