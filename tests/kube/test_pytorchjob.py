"""PyTorchJob rendering: schema-valid for every component and scale, and the shape DESIGN.md asks for."""

from __future__ import annotations

import dataclasses

import pytest

from astrobio.config import load_config
from astrobio.kube.render import job_description
from astrobio.config.kube import CLUSTER_STORE
from astrobio.kube.render.config_args import config_overrides
from astrobio.kube.render.naming import is_dns_1035, job_name
from astrobio.kube.render.pytorchjob import render_pytorchjob
from astrobio.kube.validate import check_object
from astrobio.catalog import component_names

from .conftest import VARIANTS, variant


def replicas(job):
    return job["spec"]["pytorchReplicaSpecs"]


def pod(job, role=None):
    return replicas(job)[role or next(iter(replicas(job)))]["template"]["spec"]


def pod_metadata(job):
    return next(iter(replicas(job).values()))["template"]["metadata"]


def container(job, role=None):
    (only,) = pod(job, role)["containers"]
    return only


@pytest.mark.parametrize("component", component_names())
@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_every_component_and_scale_validates(component, name):
    job = render_pytorchjob(variant(name), component)
    assert check_object(job) == []


def test_gpu_shape():
    """Two nodes: Workers only, a fixed-size c10d job (no Master, so the operator injects no
    init-pytorch container that Pod Security `restricted` refuses; see test_restricted_layout)."""
    job = render_pytorchjob(variant("gpu"), "graph_vae")
    assert set(replicas(job)) == {"Worker"} and replicas(job)["Worker"]["replicas"] == 2
    assert job["spec"]["elasticPolicy"] == {"minReplicas": 2, "maxReplicas": 2, "maxRestarts": 10, "rdzvBackend": "c10d",
                                            "rdzvConf": [{"key": "join_timeout", "value": "900"}]}
    assert all(r["restartPolicy"] == "ExitCode" for r in replicas(job).values())
    assert job["spec"]["nprocPerNode"] == "1"
    c = container(job)
    assert c["name"] == "pytorch" and c["image"] == "ghcr.io/astrobio/graph-vae:0.1.0"
    assert c["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert c["resources"]["requests"] == {"cpu": "4", "memory": "16Gi"}
    assert c["command"] == ["python", "-m", "astrobio.torchrun"] and c["args"][:5] == ["--module", "astrobio", "train", "--component", "graph_vae"]
    assert not any(e["name"] == "PET_RDZV_CONF" for e in c["env"])  # the operator sets it from rdzvConf
    spec = pod(job)
    assert spec["tolerations"] == [{"effect": "NoSchedule", "key": "nvidia.com/gpu", "operator": "Exists"}]
    shm = next(v for v in spec["volumes"] if v["name"] == "dshm")
    assert shm["emptyDir"] == {"medium": "Memory", "sizeLimit": "8Gi"}
    assert {"mountPath": "/dev/shm", "name": "dshm"} in c["volumeMounts"]
    assert job["spec"]["runPolicy"] == {"backoffLimit": 3, "cleanPodPolicy": "None", "ttlSecondsAfterFinished": 86400,
                                        "schedulingPolicy": {"minAvailable": 2}}
    assert spec["serviceAccountName"] == "astrobio-launcher"
    assert spec["terminationGracePeriodSeconds"] == 120


def test_security_context_is_locked_down():
    job = render_pytorchjob(variant("gpu"), "graph_vae")
    sc = container(job)["securityContext"]
    assert sc["allowPrivilegeEscalation"] is False and sc["capabilities"] == {"drop": ["ALL"]}
    assert sc["runAsNonRoot"] is True and sc["runAsUser"] != 0
    assert pod(job)["securityContext"]["runAsNonRoot"] is True
    assert pod(job)["automountServiceAccountToken"] is False


def test_cpu_profile_has_no_gpu_and_no_gpu_placement():
    job = render_pytorchjob(variant("cpu"), "graph_vae")
    c = container(job)
    assert "nvidia.com/gpu" not in c["resources"]["limits"]
    assert job["spec"]["nprocPerNode"] == "1"
    assert "tolerations" not in pod(job) and "nodeSelector" not in pod(job)
    assert {"name": "OMP_NUM_THREADS", "value": "4"} in c["env"]


def test_multi_gpu_scale_and_placement():
    job = render_pytorchjob(variant("multi-gpu"), "graph_vae")
    assert job["spec"]["nprocPerNode"] == "4" and replicas(job)["Worker"]["replicas"] == 4
    assert container(job, "Worker")["resources"]["limits"]["nvidia.com/gpu"] == "4"
    assert pod(job, "Worker")["nodeSelector"] == {"pool": "a100"}
    assert {"name": "OMP_NUM_THREADS", "value": "8"} in container(job)["env"]
    # istio_sidecar=true: no opt-out annotation, the namespace default applies
    assert "sidecar.istio.io/inject" not in (replicas(job)["Worker"]["template"]["metadata"].get("annotations") or {})


def test_istio_sidecar_off_by_default():
    job = render_pytorchjob(variant("gpu"), "graph_vae")
    for spec in replicas(job).values():
        assert spec["template"]["metadata"]["annotations"]["sidecar.istio.io/inject"] == "false"


def test_single_node_omits_worker():
    job = render_pytorchjob(variant("single-node"), "graph_vae")
    assert set(replicas(job)) == {"Master"} and "elasticPolicy" not in job["spec"]
    assert {"name": "PET_RDZV_CONF", "value": "timeout=900"} in container(job)["env"]  # static rendezvous
    assert "schedulingPolicy" not in job["spec"]["runPolicy"]  # one pod: nothing to gang


def test_master_worker_layout_on_request():
    """For clusters whose operator injects a compliant init container (an admin setting)."""
    job = render_pytorchjob(variant("gpu", "kube.layout=master-worker"), "graph_vae")
    assert {r: s["replicas"] for r, s in replicas(job).items()} == {"Master": 1, "Worker": 1}
    assert "elasticPolicy" not in job["spec"]
    assert {"name": "PET_RDZV_CONF", "value": "timeout=900"} in container(job, "Worker")["env"]


def test_master_worker_layout_refuses_an_elastic_range():
    from astrobio.errors import UsageError

    with pytest.raises((UsageError, ValueError), match="kube.layout"):
        variant("elastic", "kube.layout=master-worker")


def test_elastic_is_worker_only_with_policy():
    job = render_pytorchjob(variant("elastic", "kube.workers=5"), "graph_vae")
    assert set(replicas(job)) == {"Worker"} and replicas(job)["Worker"]["replicas"] == 3  # clamped to max
    policy = job["spec"]["elasticPolicy"]
    assert policy["minReplicas"] == 1 and policy["maxReplicas"] == 3 and policy["rdzvBackend"] == "c10d"
    assert policy["rdzvConf"] == [{"key": "join_timeout", "value": "900"}]
    assert not any(e["name"] == "PET_RDZV_CONF" for e in container(job, "Worker")["env"])
    assert container(job, "Worker")["ports"][0]["name"] == "pytorchjob-port"  # operator's rdzv endpoint port


def test_component_without_ddp_gets_one_master_one_process(monkeypatch):
    real = job_description.catalog_row  # the renderer reads the catalog row (no torch), not SPEC
    monkeypatch.setattr(job_description, "catalog_row", lambda name: dataclasses.replace(real(name), supports_ddp=False))
    job = render_pytorchjob(variant("multi-gpu", "kube.elastic.min_replicas=1"), "graph_vae")
    assert set(replicas(job)) == {"Master"} and job["spec"]["nprocPerNode"] == "1"
    assert "elasticPolicy" not in job["spec"]
    assert container(job)["resources"]["limits"]["nvidia.com/gpu"] == "1"


def test_labels_name_and_artifact_annotation():
    job = render_pytorchjob(variant("gpu"), "graph_vae", run_id="Exp_2024.10")
    meta = job["metadata"]
    assert meta["name"] == "astrobio-graph-vae-exp-2024-10" and is_dns_1035(meta["name"])
    assert meta["labels"] == {"app.kubernetes.io/name": "astrobio", "app.kubernetes.io/component": "graph_vae",
                              "app.kubernetes.io/part-of": "astrobio", "app.kubernetes.io/version": "0.1.0",
                              "astrobio.dev/run-id": "Exp_2024.10"}
    assert pod_metadata(job)["labels"] == meta["labels"]
    assert meta["annotations"]["astrobio.dev/artifact-uri"] == f"{CLUSTER_STORE}/runs/Exp_2024.10/pretrain/graph_vae"
    assert render_pytorchjob(variant("gpu"), "graph_vae")["metadata"]["name"] == "astrobio-graph-vae"


def test_long_run_ids_fold_to_distinct_valid_names():
    a, b = job_name("graph_vae", "x" * 120 + "a"), job_name("graph_vae", "x" * 120 + "b")
    assert a != b and is_dns_1035(a) and len(a) <= 46


def test_inline_config_round_trips():
    cfg = variant("gpu", "optim.betas=[0.8,0.9]", "run.name=my.run", "components.graph_vae.trainer.max_steps=200")
    args = container(render_pytorchjob(cfg, "graph_vae"))["args"]
    sets = [args[i + 1] for i, a in enumerate(args) if a == "--set"]
    assert sets == config_overrides(cfg, component="graph_vae")
    assert not any(s.startswith("components.") and not s.startswith("components.graph_vae.") for s in sets)
    back = load_config(None, sets).model_dump(mode="json")
    want = cfg.model_dump(mode="json")
    want["store"]["uri"] = CLUSTER_STORE  # pods write to the cluster store, not the local folder
    for tree in (back, want):
        tree.pop("kube")
        tree["components"] = {"graph_vae": tree["components"]["graph_vae"]}
    assert back == want
    whole = config_overrides(cfg)  # without a component: every section round-trips
    full_back, full_want = load_config(None, whole).model_dump(mode="json"), cfg.model_dump(mode="json")
    full_back.pop("kube"), full_want.pop("kube")
    full_want["store"]["uri"] = CLUSTER_STORE
    assert full_back == full_want


def test_config_ref_mounts_the_configmap():
    job = render_pytorchjob(variant("gpu"), "graph_vae", run_id="r1", config_ref="astrobio-run-config")
    c = container(job)
    assert c["args"][-4:] == ["--config", "/etc/astrobio/config.yaml", "--set", "run.run_id=r1"]
    assert {"name": "run-config", "configMap": {"name": "astrobio-run-config"}} in pod(job)["volumes"]


def test_rendering_is_pure_and_deterministic():
    cfg = variant("gpu")
    assert render_pytorchjob(cfg, "graph_vae") == render_pytorchjob(cfg, "graph_vae")


def test_config_map_holds_the_same_config(tmp_path):
    from astrobio.kube.render.config_args import render_config_map

    cfg = variant("gpu", "optim.lr=0.01")
    cm = render_config_map(cfg, "astrobio-run-config", run_id="r1")
    (tmp_path / "config.yaml").write_text(cm["data"]["config.yaml"])
    back = load_config(tmp_path / "config.yaml").model_dump(mode="json")
    want = cfg.model_dump(mode="json")
    back.pop("kube"), want.pop("kube")
    want["run"]["run_id"] = "r1"
    want["store"]["uri"] = CLUSTER_STORE
    assert back == want
    kubernetes_validate = pytest.importorskip("kubernetes_validate", reason="kubernetes-validate is not installed")
    kubernetes_validate.validate(cm, "1.30", strict=True)
