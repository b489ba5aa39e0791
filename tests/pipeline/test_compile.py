"""The compiled pipeline: its DAG is PHASES, its Kubernetes settings come from `kube:`, and the
committed `pipelines/` and `components/` are exactly what `render_pipeline` writes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from kfp.components import load_component_from_file

from astrobio.config import AstrobioConfig, load_config
from astrobio.errors import UsageError
from astrobio.config.kube import CLUSTER_STORE
from astrobio.catalog import PHASES
from astrobio.pipeline.compile import render_pipeline
from astrobio.pipeline.kfp_components import DEFAULT_BASE_IMAGE, kfp_component_name
from astrobio.pipeline.kfp_pipeline import (
    PIPELINE_NAME,
    SECRET_ENV_KEYS,
    STEP_RESOURCES,
    build_pipeline,
    pipeline_root,
)
from astrobio.pipeline.pod_identity import POD_FIELD_ENV
from tests.pipeline.helpers import DEFAULT_CONFIG, ROOT

ALL_COMPONENTS = [name for phase in PHASES for name in phase.components]


def tasks(compiled: dict[str, Any]) -> dict[str, Any]:
    return compiled["pipeline"]["root"]["dag"]["tasks"]


def expected_dependencies(component: str) -> set[str]:
    phase = next(p for p in PHASES if component in p.components)
    return {kfp_component_name(c) for p in PHASES if p.name in phase.needs for c in p.components}


def test_one_task_per_phases_component(compiled: dict[str, Any]) -> None:
    assert set(tasks(compiled)) == {kfp_component_name(c) for c in ALL_COMPONENTS}
    assert compiled["pipeline"]["pipelineInfo"]["name"] == PIPELINE_NAME


def test_phase_one_tasks_are_independent(compiled: dict[str, Any]) -> None:
    phase_one = {kfp_component_name(c) for c in PHASES[0].components}
    assert len(phase_one) == 4
    for name in phase_one:
        assert not tasks(compiled)[name].get("dependentTasks"), name


def test_later_tasks_depend_exactly_on_the_phases_they_need(compiled: dict[str, Any]) -> None:
    for phase in PHASES[1:]:
        for component in phase.components:
            task = tasks(compiled)[kfp_component_name(component)]
            assert set(task["dependentTasks"]) == expected_dependencies(component), component


def test_upstream_parameter_carries_each_needed_artifact_uri(compiled: dict[str, Any]) -> None:
    fusion = tasks(compiled)["train-fusion"]["inputs"]["parameters"]
    upstream = json.loads(fusion["upstream"]["runtimeValue"]["constant"])
    assert sorted(upstream) == sorted(PHASES[0].components)
    assert upstream["graph_vae"] == "{{$.inputs.parameters['pipelinechannel--train-graph-vae-artifact_uri']}}"
    channel = fusion["pipelinechannel--train-graph-vae-artifact_uri"]["taskOutputParameter"]
    assert channel == {"outputParameterKey": "artifact_uri", "producerTask": "train-graph-vae"}
    first = tasks(compiled)["train-graph-vae"]["inputs"]["parameters"]
    assert first["upstream"]["runtimeValue"]["constant"] == "{}"
    assert first["component"]["runtimeValue"]["constant"] == "graph_vae"


def test_display_names_name_the_phase(compiled: dict[str, Any]) -> None:
    assert tasks(compiled)["train-graph-vae"]["taskInfo"]["name"] == "phase 1 pretrain: graph_vae"
    assert tasks(compiled)["production"]["taskInfo"]["name"] == "phase 5 production: production"


def test_caching_flag_is_set_on_every_task(compiled: dict[str, Any], gpu_cfg: AstrobioConfig) -> None:
    for name, task in tasks(compiled).items():
        assert "cachingOptions" in task, name
        assert task["cachingOptions"].get("enableCache", False) is gpu_cfg.kube.kfp_caching, name


def test_caching_on_when_the_config_says_so(tmp_path: Path) -> None:
    from kfp import compiler

    cfg = load_config(DEFAULT_CONFIG, ["kube.kfp_caching=true"])
    compiler.Compiler().compile(build_pipeline(cfg), str(tmp_path / "p.yaml"))
    doc = next(yaml.safe_load_all((tmp_path / "p.yaml").read_text()))
    assert all(t["cachingOptions"] == {"enableCache": True} for t in doc["root"]["dag"]["tasks"].values())


def test_kubernetes_platform_spec_from_the_kube_section(compiled: dict[str, Any], gpu_cfg: AstrobioConfig) -> None:
    executors = compiled["platform"]["platforms"]["kubernetes"]["deploymentSpec"]["executors"]
    assert set(executors) == {f"exec-{kfp_component_name(c)}" for c in ALL_COMPONENTS}
    for name, spec in executors.items():
        (secret,) = spec["secretAsEnv"]
        assert secret["secretName"] == "my-minio-creds", name
        assert {(m["secretKey"], m["envVar"]) for m in secret["keyToEnv"]} == {(k, k) for k in SECRET_ENV_KEYS}
        assert spec["imagePullPolicy"] == gpu_cfg.kube.image_pull_policy


def test_steps_know_their_own_pod_through_the_downward_api(compiled: dict[str, Any]) -> None:
    """Item 1/4 of the KFP issue: the launcher creates its PyTorchJob in the step pod's namespace and
    owns it by the pod, so every step maps metadata.namespace/name/uid to env (kfp-kubernetes
    `use_field_path_as_env`; the KFP driver turns fieldPathAsEnv into a downward-API env var:
    kubeflow/pipelines backend/src/v2/driver/k8s.go)."""
    executors = compiled["platform"]["platforms"]["kubernetes"]["deploymentSpec"]["executors"]
    for name, spec in executors.items():
        found = {e["name"]: e["fieldPath"] for e in spec["fieldPathAsEnv"]}
        assert found == POD_FIELD_ENV, name
        assert found["ASTROBIO_POD_NAMESPACE"] == "metadata.namespace"


def test_launcher_steps_hold_no_gpu_and_ask_for_little(compiled: dict[str, Any], gpu_cfg: AstrobioConfig) -> None:
    """A step only waits for its PyTorchJob: the GPU profile (accelerator, GPU node selector and
    tolerations) is on the job's pods, never on the step's, which gets small CPU/memory requests."""
    assert gpu_cfg.kube.gpu.per_node == 2 and gpu_cfg.kube.gpu.node_selector  # a GPU profile is configured
    executors = compiled["pipeline"]["deploymentSpec"]["executors"]
    for name, executor in executors.items():
        container = executor["container"]
        assert container["image"] == DEFAULT_BASE_IMAGE, name
        assert "pip install" not in " ".join(container["command"]), name  # nothing installed at start
        resources = container["resources"]
        assert "accelerator" not in resources, name
        kind = "production" if name == "exec-production" else "train"
        cpu, memory = STEP_RESOURCES[kind]["cpu"], STEP_RESOURCES[kind]["memory"]
        assert (resources["resourceCpuRequest"], resources["resourceCpuLimit"]) == cpu, name
        assert (resources["resourceMemoryRequest"], resources["resourceMemoryLimit"]) == memory, name
    assert STEP_RESOURCES["train"] == {"cpu": ("100m", "1"), "memory": ("256Mi", "1Gi")}
    platform = compiled["platform"]["platforms"]["kubernetes"]["deploymentSpec"]["executors"]
    for name, spec in platform.items():
        assert "nodeSelector" not in spec and "tolerations" not in spec, name


def test_pipeline_root_under_an_s3_store(compiled: dict[str, Any], default_cfg: AstrobioConfig, tmp_path: Path) -> None:
    assert compiled["pipeline"]["defaultPipelineRoot"] == "s3://astrobio-bucket/team/kfp"
    assert pipeline_root("s3://b/") == "s3://b/kfp"
    with pytest.raises(UsageError, match="s3:// store"):
        pipeline_root("artifacts")


def test_a_local_config_store_still_compiles_to_an_s3_default(default_cfg: AstrobioConfig, tmp_path: Path) -> None:
    """configs/default.yaml stores locally; the compiled pipeline (what the chart uploads and the KFP
    UI runs) must default to an s3:// store and pipeline root, or phase 1 stops at once."""
    from kfp import compiler

    assert not default_cfg.store.uri.startswith("s3://")
    compiler.Compiler().compile(build_pipeline(default_cfg), str(tmp_path / "p.yaml"))
    doc = next(yaml.safe_load_all((tmp_path / "p.yaml").read_text()))
    assert doc["root"]["inputDefinitions"]["parameters"]["store_uri"]["defaultValue"] == CLUSTER_STORE
    assert doc["defaultPipelineRoot"] == "s3://astrobio/artifacts/kfp"


def test_pipeline_parameters_default_to_the_config(compiled: dict[str, Any], gpu_cfg: AstrobioConfig) -> None:
    params = compiled["pipeline"]["root"]["inputDefinitions"]["parameters"]
    assert params["mode"]["defaultValue"] == "kubeflow"
    assert params["store_uri"]["defaultValue"] == "s3://astrobio-bucket/team"
    assert params["run_id"]["defaultValue"] == gpu_cfg.run.effective_run_id
    restored = AstrobioConfig.model_validate(yaml.safe_load(params["config_yaml"]["defaultValue"]))
    assert restored == gpu_cfg


def test_files_load_back_with_the_kfp_sdk(compiled: dict[str, Any]) -> None:
    pipeline = load_component_from_file(str(compiled["paths"][0]))
    assert pipeline.name == PIPELINE_NAME
    assert set(pipeline.component_spec.inputs) == {"run_id", "config_yaml", "store_uri", "mode"}
    names = []
    for path in compiled["paths"][1:]:
        component = load_component_from_file(str(path))
        names.append(component.name)
        assert path.name == f"{component.name}.yaml"
        assert set(component.component_spec.outputs) == {"artifact_uri", "metrics", "report"}
    assert names == [kfp_component_name(c) for c in ALL_COMPONENTS]


def test_default_image_matches_the_built_base_image(default_cfg: AstrobioConfig) -> None:
    from astrobio.kube.render.images import base_ref

    assert base_ref(default_cfg.kube) == DEFAULT_BASE_IMAGE


def test_committed_files_match_a_fresh_render(default_cfg: AstrobioConfig, tmp_path: Path) -> None:
    """Drift: `pipelines/` and `components/` are regenerated byte for byte from configs/default.yaml."""
    written = render_pipeline(default_cfg, tmp_path)
    fresh = {p.relative_to(tmp_path).as_posix(): p.read_bytes() for p in written}
    committed = {p.relative_to(ROOT).as_posix(): p.read_bytes()
                 for folder in ("pipelines", "components") for p in sorted((ROOT / folder).glob("*.yaml"))}
    assert sorted(fresh) == sorted(committed), "run render_pipeline(load_config(configs/default.yaml), repo root)"
    for rel, data in fresh.items():
        assert committed[rel] == data, f"{rel} differs from a fresh render; regenerate it"
