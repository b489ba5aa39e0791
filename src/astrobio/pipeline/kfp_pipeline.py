"""The `astrobio-five-phase` KFP pipeline, generated from `astrobio.phases.graph.PHASES`.

Nothing about the graph is written here: phase-1 components become independent tasks (no
dsl.ParallelFor, which kfp.local 2.13 cannot run, so the same pipeline also runs locally), and
every later task consumes the `artifact_uri` outputs of exactly the phases its phase `needs`.
Those URIs travel as one JSON string parameter (`upstream`), built with KFP's f-string channel
substitution, which also gives the compiler the task dependencies.

Kubernetes settings come from the config's single `kube` section, the same one the PyTorchJob
renderer reads: storage secret as env, the GPU profile's node selector, tolerations and
accelerator, image pull policy, and an explicit caching flag on every task.

Pipeline root: when the store is `s3://bucket/prefix`, KFP's own artifacts (metrics, HTML) go to
`s3://bucket/prefix/kfp`. We keep the `s3://` scheme rather than KFP's `minio://`: `minio://`
always means "the MinIO that KFP ships, with KFP's own credentials" (kubeflow/pipelines launcher),
whereas `s3://` honours the endpoint and secret configured per bucket/prefix in the `kfp-launcher`
ConfigMap (`providers.s3`, KFP backend >= 2.2), which is where a cluster points it at astrobio's
MinIO. With a local store the pipeline root is left to the cluster default.

No `from __future__ import annotations`: KFP reads the pipeline function's annotations as types.
"""

import json
from typing import Any

from kfp import dsl, kubernetes

from astrobio.config import AstrobioConfig
from astrobio.errors import UsageError
from astrobio.kube.config import GpuProfile
from astrobio.phases.graph import PHASES
from astrobio.pipeline.kfp_components import PRODUCTION, build_components, launcher_image

PIPELINE_NAME = "astrobio-five-phase"
SECRET_ENV_KEYS = ("ASTROBIO_S3_ENDPOINT", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
"""Secret keys mapped to env of the same name. AWS_REGION is optional in the Secret and
kfp-kubernetes 1.5 cannot mark a key optional (a missing key would block the pod), so it is left out."""
ACCELERATOR_LIMITS = (1, 2, 4, 8, 16)


def pipeline_root(store_uri: str) -> str | None:
    """`<store>/kfp` for an s3:// store, else None (the cluster's default pipeline root)."""
    if store_uri.lower().startswith("s3://"):
        return store_uri.rstrip("/") + "/kfp"
    return None


def display_name(component: str) -> str:
    """What the KFP UI shows for a step, e.g. 'phase 1 pretrain: graph_vae'."""
    phase = next(p for p in PHASES if component in p.components)
    return f"phase {phase.number} {phase.name}: {component}"


def apply_gpu_profile(task: dsl.PipelineTask, gpu: GpuProfile) -> None:
    """Node selector, tolerations and accelerator of the one GPU profile (also used by PyTorchJobs)."""
    for key, value in sorted(gpu.node_selector.items()):
        kubernetes.add_node_selector(task, label_key=key, label_value=value)
    for tol in gpu.tolerations:
        kubernetes.add_toleration(task, key=tol.key, operator=tol.operator, value=tol.value, effect=tol.effect)
    if gpu.per_node > 0:
        if gpu.per_node not in ACCELERATOR_LIMITS:
            raise UsageError(f"kube.gpu.per_node={gpu.per_node}: a KFP step accepts an accelerator limit of "
                             f"{', '.join(map(str, ACCELERATOR_LIMITS))}")
        task.set_accelerator_type(gpu.resource)
        task.set_accelerator_limit(gpu.per_node)


def configure_task(task: dsl.PipelineTask, cfg: AstrobioConfig, component: str) -> None:
    """Everything cluster-side a step needs, applied identically to every step."""
    task.set_display_name(display_name(component))
    task.set_caching_options(cfg.kube.kfp_caching)
    kubernetes.use_secret_as_env(task, secret_name=cfg.kube.storage_secret,
                                 secret_key_to_env={key: key for key in SECRET_ENV_KEYS})
    kubernetes.set_image_pull_policy(task, cfg.kube.image_pull_policy)
    apply_gpu_profile(task, cfg.kube.gpu)


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
    default_run_id, default_store = cfg.run.effective_run_id, cfg.store.uri
    default_config = config_default(cfg)

    @dsl.pipeline(name=PIPELINE_NAME, pipeline_root=pipeline_root(cfg.store.uri),
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
