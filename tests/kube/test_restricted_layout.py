"""Issue #13 item 4: every pod the Training Operator would create from a shipped job meets Pod
Security `restricted`, the containers the operator injects included.

The real kube-apiserver refused every Worker of the old Master + Worker layout in a `restricted`
namespace: `allowPrivilegeEscalation != false (container "init-pytorch" ...), unrestricted
capabilities (container "init-pytorch" ...)` (docs/CONTROL_PLANE.md). Training Operator v1.9 adds
that container to every Worker whenever a Master replica exists
(kubeflow/training-operator v1.9.0 `pkg/controller.v1/pytorch/initcontainer.go`, `setInitContainer`:
"There is no need to set init container if no master is specified"), and sets torchrun's topology
through PET_* variables (`envvar.go` `setPodEnv`, `elastic.go` `ElasticEnvVarGenerator`): the
operator's side is modelled in tests/kube/operator_pods.py, the profile in tests/kube/pod_standards.py.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from astrobio.kube.render.pytorchjob import render_pytorchjob
from astrobio.catalog import component_names, get_spec
from astrobio.tune.katib_backend import render_experiment
from astrobio.tune.load import load_tune_config

from .conftest import VARIANTS, variant
from .operator_pods import OperatorPod, katib_trial_pods, operator_pods, replica_name
from .pod_standards import restricted_problems

ROOT = Path(__file__).resolve().parents[2]
DDP = next(c for c in component_names() if get_spec(c).supports_ddp)
SINGLE = next((c for c in component_names() if not get_spec(c).supports_ddp), None)


def pytorchjobs_in(obj: dict[str, Any]) -> list[dict[str, Any]]:
    """The PyTorchJobs an object stands for: itself, or a Katib Experiment's trial job."""
    if obj.get("kind") == "PyTorchJob":
        return [obj]
    if obj.get("kind") == "Experiment":
        trial = obj["spec"]["trialTemplate"]["trialSpec"]
        return pytorchjobs_in({**trial, "metadata": {**trial.get("metadata", {}), "name": f"{obj['metadata']['name']}-trial"}})
    return []


def shipped_jobs() -> dict[str, dict[str, Any]]:
    """where -> PyTorchJob, for every job the repository ships or renders."""
    jobs: dict[str, dict[str, Any]] = {}
    files = [*sorted((ROOT / "manifests").rglob("*.yaml")), *sorted((ROOT / "charts" / "astrobio" / "files").rglob("*.yaml"))]
    for path in files:
        for i, doc in enumerate(d for d in yaml.safe_load_all(path.read_text()) if isinstance(d, dict)):
            for job in pytorchjobs_in(doc):
                jobs[f"{path.relative_to(ROOT)}#{i}"] = job
    for scale in VARIANTS:
        for component in component_names():
            jobs[f"render {scale}/{component}"] = render_pytorchjob(variant(scale), component)
    for path in sorted((ROOT / "configs").glob("tune-*.yaml")):
        for job in pytorchjobs_in(render_experiment(load_tune_config(path))):
            jobs[f"katib {path.name}"] = job
    return jobs


def test_every_pod_the_operator_creates_is_admitted_by_restricted():
    jobs = shipped_jobs()
    pods = {f"{where}: {pod.name}": pod for where, job in jobs.items() for pod in operator_pods(job)}
    bad = {where: problems for where, pod in pods.items() if (problems := restricted_problems(pod.spec))}
    assert len(jobs) > 30 and not bad, bad
    assert any(pod.role == "worker" for pod in pods.values())  # multi-pod jobs are among them


def test_chart_jobs_and_trials_are_admitted_with_every_value_set():
    helpers = pytest.importorskip("tests.chart.helpers")
    value_sets = {**helpers.VALUE_SETS, "all-enabled": helpers.all_enabled()}
    pods = [(name, pod) for name, values in value_sets.items() for obj in helpers.render(values)
            for job in pytorchjobs_in(obj) for pod in operator_pods(job)]
    bad = {f"{name}: {pod.name}": p for name, pod in pods if (p := restricted_problems(pod.spec))}
    assert pods and not bad, bad


def shipped_experiments() -> dict[str, dict[str, Any]]:
    found = {}
    files = [*sorted((ROOT / "manifests").rglob("*.yaml")), *sorted((ROOT / "charts" / "astrobio" / "files").rglob("*.yaml"))]
    for path in files:
        for i, doc in enumerate(d for d in yaml.safe_load_all(path.read_text()) if isinstance(d, dict)):
            if doc.get("kind") == "Experiment":
                found[f"{path.relative_to(ROOT)}#{i}"] = doc
    for path in sorted((ROOT / "configs").glob("tune-*.yaml")):
        found[f"katib {path.name}"] = render_experiment(load_tune_config(path))
    return found


def test_katib_trials_are_admitted_when_katib_copies_the_security_context():
    """With Katib's `injectSecurityContext: true` the collector sidecar copies the `pytorch`
    container's locked-down context and every trial pod is admitted; with Katib's default (off)
    the primary pod is refused, which `astrobio doctor` reports for restricted namespaces."""
    experiments = shipped_experiments()
    assert len(experiments) >= 2
    for where, exp in experiments.items():
        pods = katib_trial_pods(exp, inject_security_context=True)
        assert not {p.name: restricted_problems(p.spec) for p in pods if restricted_problems(p.spec)}, where
        refused = [p.name for p in katib_trial_pods(exp, inject_security_context=False) if restricted_problems(p.spec)]
        assert len(refused) == 1, where  # the primary pod only


def test_the_old_master_worker_layout_is_refused_as_the_real_api_server_refused_it():
    """The same two violations the real API server reported for init-pytorch, on every Worker."""
    job = render_pytorchjob(variant("gpu", "kube.layout=master-worker"), DDP)
    verdict = {pod.name: restricted_problems(pod.spec) for pod in operator_pods(job)}
    name = job["metadata"]["name"]
    assert verdict[f"{name}-master-0"] == []
    assert verdict[f"{name}-worker-0"] == [
        'allowPrivilegeEscalation != false (container "init-pytorch" must set securityContext.allowPrivilegeEscalation=false)',
        'unrestricted capabilities (container "init-pytorch" must set securityContext.capabilities.drop=["ALL"])',
    ]


@pytest.mark.parametrize(("scale", "roles", "elastic"), [
    ("gpu", {"Worker": 2}, (2, 2)),
    ("single-node", {"Master": 1}, None),
    ("elastic", {"Worker": 2}, (1, 3)),
    ("multi-gpu", {"Worker": 4}, (4, 4)),
])
def test_default_layout_has_no_master_beside_workers(scale, roles, elastic):
    job = render_pytorchjob(variant(scale), DDP)
    spec = job["spec"]
    assert {r: s["replicas"] for r, s in spec["pytorchReplicaSpecs"].items()} == roles
    policy = spec.get("elasticPolicy")
    assert (policy and (policy["minReplicas"], policy["maxReplicas"])) == (elastic or None)
    if policy:
        assert policy["rdzvBackend"] == "c10d"


def test_a_component_without_ddp_is_one_master():
    if SINGLE is None:
        pytest.skip("every component supports DDP")
    job = render_pytorchjob(variant("multi-gpu"), SINGLE)
    assert list(job["spec"]["pytorchReplicaSpecs"]) == ["Master"] and "elasticPolicy" not in job["spec"]


def torchrun_config(pod: OperatorPod, args: list[str], monkeypatch: pytest.MonkeyPatch) -> Any:
    """torchrun's own parse of the pod: its `env` actions read PET_* when the parser is built."""
    from torch.distributed.run import config_from_args, parse_args

    for key in [k for k in os.environ if k.startswith(("PET_", "TORCHELASTIC_"))]:
        monkeypatch.delenv(key)
    for key, value in pod.env().items():
        monkeypatch.setenv(key, value)
    parsed = parse_args(args)
    config, _, _ = config_from_args(parsed)
    assert parsed.module and parsed.training_script == "astrobio" and parsed.training_script_args[0] == "train"
    return config


@pytest.mark.parametrize("scale", list(VARIANTS))
def test_torchrun_gets_its_topology_from_what_the_operator_sets(scale, monkeypatch):
    """Every pod's torchrun agrees on the node count and rendezvous: Workers meet at worker-0's
    `pytorchjob-port` (its pod name is its hostname, so c10d hosts the store there); a lone Master
    runs a static rendezvous as node 0."""
    cfg = variant(scale)
    job = render_pytorchjob(cfg, DDP)
    container = job["spec"]["pytorchReplicaSpecs"][next(iter(job["spec"]["pytorchReplicaSpecs"]))]["template"]["spec"]["containers"][0]
    nproc = int(job["spec"]["nprocPerNode"])
    configs = [(pod, torchrun_config(pod, container["args"], monkeypatch)) for pod in operator_pods(job)]
    for pod, config in configs:
        assert config.nproc_per_node == nproc
        if "elasticPolicy" in job["spec"]:
            policy = job["spec"]["elasticPolicy"]
            assert (config.min_nodes, config.max_nodes) == (policy["minReplicas"], policy["maxReplicas"])
            assert config.rdzv_backend == "c10d"
            assert config.rdzv_endpoint == f"{replica_name(job['metadata']['name'], 'Worker', 0)}:23456"
            assert config.rdzv_configs["join_timeout"] == str(cfg.kube.rendezvous_timeout_s)
            assert config.max_restarts == policy["maxRestarts"]
        else:
            assert (config.min_nodes, config.max_nodes) == (1, 1) and pod.role == "master"
            assert config.rdzv_backend == "static" and config.rdzv_configs["rank"] == 0
            assert config.rdzv_configs["timeout"] == str(cfg.kube.rendezvous_timeout_s)
    assert len(configs) == sum(s["replicas"] for s in job["spec"]["pytorchReplicaSpecs"].values())


def test_the_restricted_check_itself_catches_each_weakening():
    """The checker fails a pod for each control it owns, so a pass above means something."""
    (pod, *_) = operator_pods(render_pytorchjob(variant("cpu"), DDP))
    assert restricted_problems(pod.spec) == []

    def weakened(change) -> list[str]:
        import copy

        spec = copy.deepcopy(pod.spec)
        change(spec, spec["containers"][0]["securityContext"])
        return restricted_problems(spec)

    assert weakened(lambda s, c: c.update(allowPrivilegeEscalation=True))
    assert weakened(lambda s, c: c["capabilities"].update(add=["SYS_ADMIN"]))
    assert weakened(lambda s, c: c.update(runAsUser=0))
    assert weakened(lambda s, c: s["securityContext"].pop("seccompProfile"))
    assert weakened(lambda s, c: (s["securityContext"].pop("runAsNonRoot"), c.pop("runAsNonRoot")))
    assert weakened(lambda s, c: s["volumes"].append({"name": "h", "hostPath": {"path": "/"}}))
    assert weakened(lambda s, c: s.update(hostNetwork=True))
    assert weakened(lambda s, c: c.update(privileged=True))
