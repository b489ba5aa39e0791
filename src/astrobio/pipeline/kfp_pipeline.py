"""The `astrobio-five-phase` KFP pipeline, generated from `astrobio.catalog.PHASES`.

Nothing about the graph is written here: phase-1 components become independent tasks (no
dsl.ParallelFor, which kfp.local 2.13 cannot run, so the same pipeline also runs locally), and
every later task consumes the `artifact_uri` outputs of exactly the phases its phase `needs`.
Those URIs travel as one JSON string parameter (`upstream`), built with KFP's f-string channel
substitution, which also gives the compiler the task dependencies.

Kubernetes settings: the storage secret as env, image pull policy, an explicit caching flag, the
step pod's own name, namespace and uid through the downward API (the launcher creates its
PyTorchJob there and owns it by that pod), and small CPU/memory requests. No GPU profile: a step
only waits for its PyTorchJob, whose pods carry the GPUs, node selector and tolerations (mode
`local` trains inside the step pod and is meant for kfp.local, which ignores resources).

Store and pipeline root: the compiled pipeline always defaults to an `s3://` store
(`config.kube.cluster_store_uri`: `kube.store_uri`, else the config's store when it is s3://, else
`s3://astrobio/artifacts`, the chart's default bucket and prefix — the same store the jobs write to), and KFP's own artifacts (metrics, HTML) go to `<store>/kfp`. We keep the `s3://` scheme
rather than KFP's `minio://`: `minio://` always means "the MinIO that KFP ships, with KFP's own
credentials" (kubeflow/pipelines backend/src/v2/config/env.go), whereas `s3://` honours the
`providers.s3` endpoint and secret of the `kfp-launcher` ConfigMap (backend/src/v2/config/s3.go),
which the chart renders for astrobio's MinIO.

No `from __future__ import annotations`: KFP reads the pipeline function's annotations as types.
"""

import json
from typing import Any

from kfp import dsl, kubernetes

from astrobio.config import AstrobioConfig
from astrobio.errors import UsageError
from astrobio.config.kube import cluster_store_uri as kube_cluster_store_uri
from astrobio.catalog import PHASES
from astrobio.pipeline.kfp_components import PRODUCTION, build_components, launcher_image
from astrobio.pipeline.pod_identity import POD_FIELD_ENV

PIPELINE_NAME = "astrobio-five-phase"
SECRET_ENV_KEYS = ("ASTROBIO_S3_ENDPOINT", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
"""Secret keys mapped to env of the same name. AWS_REGION is optional in the Secret and
kfp-kubernetes 1.5 cannot mark a key optional (a missing key would block the pod), so it is left out."""
STEP_RESOURCES = {"train": {"cpu": ("100m", "1"), "memory": ("256Mi", "1Gi")},
                  PRODUCTION: {"cpu": ("500m", "2"), "memory": ("2Gi", "8Gi")}}
"""(request, limit) per step kind: a training step only creates its PyTorchJob and polls it;
production exports and quantises the models in its own pod, so it gets more."""


def cluster_store_uri(cfg: AstrobioConfig) -> str:
    """The s3:// store the compiled pipeline defaults to: the one store of every cluster object
    (a step pod's folder is gone when the pod ends). A KFP run may override `store_uri`."""
    return kube_cluster_store_uri(cfg.kube, cfg.store.uri)


def pipeline_root(store_uri: str) -> str:
    """`<store>/kfp`: where KFP uploads the steps' Metrics and HTML (an s3:// store only)."""
    if not store_uri.lower().startswith("s3://"):
        raise UsageError(f"the KFP pipeline root must be under an s3:// store; got {store_uri!r}")
    return store_uri.rstrip("/") + "/kfp"


def display_name(component: str) -> str:
    """What the KFP UI shows for a step, e.g. 'phase 1 pretrain: graph_vae'."""
    phase = next(p for p in PHASES if component in p.components)
    return f"phase {phase.number} {phase.name}: {component}"


def set_step_resources(task: dsl.PipelineTask, component: str) -> None:
    """Small CPU/memory requests and limits (STEP_RESOURCES); never an accelerator."""
    kind = PRODUCTION if component == PRODUCTION else "train"
    cpu, memory = STEP_RESOURCES[kind]["cpu"], STEP_RESOURCES[kind]["memory"]
    task.set_cpu_request(cpu[0]).set_cpu_limit(cpu[1])
    task.set_memory_request(memory[0]).set_memory_limit(memory[1])


def configure_task(task: dsl.PipelineTask, cfg: AstrobioConfig, component: str) -> None:
    """Everything cluster-side a step needs, applied identically to every step."""
    task.set_display_name(display_name(component))
    task.set_caching_options(cfg.kube.kfp_caching)
    kubernetes.use_secret_as_env(task, secret_name=cfg.kube.storage_secret,
                                 secret_key_to_env={key: key for key in SECRET_ENV_KEYS})
    for env_name, field_path in POD_FIELD_ENV.items():
        kubernetes.use_field_path_as_env(task, env_name=env_name, field_path=field_path)
    kubernetes.set_image_pull_policy(task, cfg.kube.image_pull_policy)
    set_step_resources(task, component)


def upstream_of(phase_needs: tuple[str, ...], outputs: dict[str, Any]) -> str:
    """JSON object component -> artifact URI channel for every component of the needed phases."""
    names = [name for phase in PHASES if phase.name in phase_needs for name in phase.components]
    missing = [name for name in names if name not in outputs]
    if missing:
        raise UsageError(f"PHASES lists a phase before one it needs (no task yet for {', '.join(missing)})")
    return json.dumps({name: str(outputs[name]) for name in names}, sort_keys=True)


def config_default(cfg: AstrobioConfig) -> str:
    """The resolved config as one-line JSON (JSON is YAML, so steps parse it as YAML).

    One line because kfp 2.13 copies string defaults verbatim into the header comment of the
    compiled file; a multi-line YAML default ends the comment early and the file no longer parses.
    """
    return json.dumps(cfg.model_dump(mode="json"), separators=(",", ":"))


def build_pipeline(cfg: AstrobioConfig, last_phase: int | None = None) -> Any:
    """The `astrobio-five-phase` pipeline function for `cfg` (compile it, or call it under kfp.local).

    Its parameters default to the config's run id, resolved config and store URI, and mode
    `kubeflow`; a KFP run (or `run_pipeline_locally`, with mode `local`) may override each.
    `last_phase` cuts the graph after that phase (`astrobio run --phases 1-3`); the compiled
    pipeline always has all five.
    """
    components = build_components(launcher_image(cfg.kube))
    default_run_id, default_store = cfg.run.effective_run_id, cluster_store_uri(cfg)
    default_config = config_default(cfg)

    @dsl.pipeline(name=PIPELINE_NAME, pipeline_root=pipeline_root(default_store),
                  description="astrobio: five training phases (pretrain, integrate, llm_guided, galactic, "
                              "production) as a DAG; phase 1 in parallel; artifacts in the astrobio store.")
    def astrobio_five_phase(run_id: str = default_run_id, config_yaml: str = default_config,
                            store_uri: str = default_store, mode: str = "kubeflow") -> None:
        """Five phases from PHASES.

        Args:
            run_id: Artifacts go to runs/<run_id>/<phase>/<component>; complete ones are reused.
            config_yaml: The resolved astrobio config (YAML or JSON).
            store_uri: Artifact store, s3://bucket/prefix on a cluster.
            mode: kubeflow (each step creates a PyTorchJob) or local (each step trains in its pod).
        """
        outputs: dict[str, Any] = {}
        for phase in PHASES:
            if last_phase is not None and phase.number > last_phase:
                break
            upstream = upstream_of(phase.needs, outputs)
            for name in phase.components:
                args = {"run_id": run_id, "config_yaml": config_yaml, "store_uri": store_uri,
                        "mode": mode, "upstream": upstream}
                if name != PRODUCTION:
                    args["component"] = name
                task = components[name](**args)
                configure_task(task, cfg, name)
                outputs[name] = task.outputs["artifact_uri"]

    return astrobio_five_phase
