"""The pods the Kubeflow Training Operator v1.9 creates from a PyTorchJob, modelled for tests.

What a PyTorchJob's pod templates do not show is what the operator adds when it makes the pods;
a real API server refused astrobio's Workers for exactly that (docs/CONTROL_PLANE.md). The rules
below follow kubeflow/training-operator at tag v1.9.0 (read, not copied):

- `pkg/controller.v1/pytorch/initcontainer.go`, `setInitContainer`: when the job has a Master
  replica, every Worker pod gets the containers of `initContainerTemplate` appended to its
  initContainers: one container `init-pytorch`, image `alpine:3.10` (`pkg/config/config.go`
  PyTorchInitContainerImageDefault), 50m/10Mi requests, 100m/20Mi limits, an `nslookup <job>-master-0`
  loop, and no securityContext. Without a Master it adds nothing ("No master is specified, skip
  setting init container").
- `pkg/controller.v1/pytorch/envvar.go`, `setPodEnv`, for every container of every pod: PYTHONUNBUFFERED=1;
  with a Master, MASTER_PORT/PET_MASTER_PORT (the `pytorchjob-port` of the Master's `pytorch`
  container, `master.go`), MASTER_ADDR/PET_MASTER_ADDR=<job>-master-0, WORLD_SIZE = replicas x
  nprocPerNode, RANK = PET_NODE_RANK = index (+1 on Workers); PET_NPROC_PER_NODE = spec.nprocPerNode;
  then the elastic variables, or PET_NNODES = total replicas without an elasticPolicy.
- `pkg/controller.v1/pytorch/elastic.go`, `ElasticEnvVarGenerator.Generate`: PET_RDZV_ENDPOINT =
  rdzvHost or <job>-worker-0, with rdzvPort or the Worker's `pytorchjob-port`; PET_RDZV_BACKEND
  (default c10d); PET_NNODES = min:max (Worker replicas when neither is set); PET_MAX_RESTARTS,
  PET_RDZV_ID, PET_RDZV_CONF (key=value joined by commas) when set.
- Pod names (and so hostnames) are `replicaName` = <job>-<replica type lower case>-<index>; labels
  (`pkg/controller.v1/common/pod.go` createNewPod, `job_controller.go` GenLabels): operator-name,
  job-name, replica-type, replica-index, and job-role=master on the pod `IsMasterRole` picks
  (`pytorchjob_controller.go`: the Master, or worker 0 of a job without one).

Katib v0.19 then mutates a trial's primary pod (the one matching `primaryPodLabels`): its webhook
appends a metrics-collector sidecar whose securityContext is a copy of containers[0]'s only when
the Katib controller runs with `injectSecurityContext: true`, else none
(kubeflow/katib v0.19.0 `pkg/webhook/v1beta1/pod/inject_webhook.go` getMetricsCollectorContainer;
`pkg/apis/config/v1beta1/types.go`: off unless set).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

INIT_IMAGE = "alpine:3.10"
INIT_MAX_TRIES = 100
PORT_NAME = "pytorchjob-port"


@dataclass(frozen=True)
class OperatorPod:
    name: str
    role: str  # "master" | "worker"
    index: int
    spec: dict[str, Any]
    labels: dict[str, str]

    def env(self, container: str = "pytorch") -> dict[str, str]:
        """The container's literal env as the kubelet sets it (a later entry of the same name wins);
        Secret references are left out (their values are the cluster's)."""
        found = next(c for c in self.spec["containers"] if c["name"] == container)
        return {e["name"]: e.get("value", "") for e in found.get("env", []) if "valueFrom" not in e}


def replica_name(job: str, role: str, index: int) -> str:
    return f"{job}-{role.lower()}-{index}".replace("/", "-")


def _port(job: dict[str, Any], role: str) -> int:
    for container in job["spec"]["pytorchReplicaSpecs"][role]["template"]["spec"]["containers"]:
        if container["name"] == "pytorch":
            for port in container.get("ports", []):
                if port.get("name") == PORT_NAME:
                    return int(port["containerPort"])
    raise AssertionError(f"{role}: no {PORT_NAME} on the pytorch container (the operator errors: port not found)")


def init_container(job_name: str) -> dict[str, Any]:
    """initcontainer.go's default template, filled in as GetInitContainer does."""
    master = replica_name(job_name, "Master", 0)
    return {
        "name": "init-pytorch", "image": INIT_IMAGE, "imagePullPolicy": "IfNotPresent",
        "resources": {"limits": {"cpu": "100m", "memory": "20Mi"}, "requests": {"cpu": "50m", "memory": "10Mi"}},
        "command": ["sh", "-c", f"err=1;for i in $(seq {INIT_MAX_TRIES}); do if nslookup {master}; then err=0 && break; "
                                "fi;echo waiting for master; sleep 2; done; exit $err"],
    }


def _elastic_env(job: dict[str, Any]) -> list[dict[str, str]]:
    policy, name = job["spec"]["elasticPolicy"], job["metadata"]["name"]
    host = policy.get("rdzvHost") or replica_name(name, "Worker", 0)
    port = policy.get("rdzvPort") or _port(job, "Worker")
    env = [{"name": "PET_RDZV_ENDPOINT", "value": f"{host}:{port}"},
           {"name": "PET_RDZV_BACKEND", "value": policy.get("rdzvBackend") or "c10d"}]
    low, high = policy.get("minReplicas"), policy.get("maxReplicas")
    if low is None and high is None:
        nnodes = str(job["spec"]["pytorchReplicaSpecs"]["Worker"]["replicas"])
    else:
        nnodes = f"{low}:{high}"  # Go's %d of a nil pointer is never reached: the CRD defaults both together
    env.append({"name": "PET_NNODES", "value": nnodes})
    for key, var in (("maxRestarts", "PET_MAX_RESTARTS"), ("nProcPerNode", "PET_NPROC_PER_NODE"), ("rdzvId", "PET_RDZV_ID")):
        if policy.get(key) is not None:
            env.append({"name": var, "value": str(policy[key])})
    if policy.get("rdzvConf"):
        env.append({"name": "PET_RDZV_CONF", "value": ",".join(f"{c['key']}={c['value']}" for c in policy["rdzvConf"])})
    if policy.get("standalone"):
        env.append({"name": "PET_STANDALONE", "value": ""})
    return env


def _pod_env(job: dict[str, Any], role: str, index: int) -> list[dict[str, str]]:
    spec, name = job["spec"], job["metadata"]["name"]
    replicas = spec["pytorchReplicaSpecs"]
    total = sum(int(r.get("replicas", 1)) for r in replicas.values())
    nproc = spec.get("nprocPerNode")
    nproc_int = int(nproc) if nproc is not None and str(nproc).isdigit() else 1
    env = [{"name": "PYTHONUNBUFFERED", "value": "1"}]
    if "Master" in replicas:
        port, addr = str(_port(job, "Master")), replica_name(name, "Master", 0)
        rank = index + 1 if role == "Worker" else index
        env += [{"name": "MASTER_PORT", "value": port}, {"name": "PET_MASTER_PORT", "value": port},
                {"name": "MASTER_ADDR", "value": addr}, {"name": "PET_MASTER_ADDR", "value": addr},
                {"name": "WORLD_SIZE", "value": str(total * nproc_int)}, {"name": "RANK", "value": str(rank)},
                {"name": "PET_NODE_RANK", "value": str(rank)}]
    if nproc is not None:
        env.append({"name": "PET_NPROC_PER_NODE", "value": str(nproc)})
    if spec.get("elasticPolicy") is not None:
        env += _elastic_env(job)
    else:
        env.append({"name": "PET_NNODES", "value": str(total)})
    return env


def operator_pods(job: dict[str, Any]) -> list[OperatorPod]:
    """Every pod the operator would create for `job` (a PyTorchJob dict), as it would create it."""
    assert job["kind"] == "PyTorchJob", job["kind"]
    name, replicas = job["metadata"]["name"], job["spec"]["pytorchReplicaSpecs"]
    pods = []
    for role, replica in replicas.items():
        for index in range(int(replica.get("replicas", 1))):
            spec = copy.deepcopy(replica["template"]["spec"])
            added = _pod_env(job, role, index)
            for container in spec["containers"]:
                container["env"] = [*container.get("env", []), *added]
            if "Master" in replicas and role == "Worker":
                spec["initContainers"] = [*spec.get("initContainers", []), init_container(name)]
            master_role = role == "Master" or ("Master" not in replicas and index == 0)
            labels = {**replica["template"].get("metadata", {}).get("labels", {}),
                      "training.kubeflow.org/operator-name": "pytorchjob-controller",
                      "training.kubeflow.org/job-name": name, "training.kubeflow.org/replica-type": role.lower(),
                      "training.kubeflow.org/replica-index": str(index),
                      **({"training.kubeflow.org/job-role": "master"} if master_role else {})}
            pods.append(OperatorPod(replica_name(name, role, index), role.lower(), index, spec, labels))
    return pods


def katib_trial_pods(experiment: dict[str, Any], inject_security_context: bool) -> list[OperatorPod]:
    """The pods of one trial: the operator's, with Katib's collector sidecar in the primary pod."""
    template = experiment["spec"]["trialTemplate"]
    trial = template["trialSpec"]
    job = {**trial, "metadata": {**trial.get("metadata", {}), "name": f"{experiment['metadata']['name']}-trial"}}
    pods = operator_pods(job)
    wanted = template.get("primaryPodLabels") or {}
    primary = [p for p in pods if all(p.labels.get(k) == v for k, v in wanted.items())]
    assert len(primary) == 1, f"primaryPodLabels {wanted} match {len(primary)} pods"
    sidecar: dict[str, Any] = {"name": "metrics-logger-and-collector", "image": "kubeflowkatib/file-metrics-collector"}
    if inject_security_context and primary[0].spec["containers"][0].get("securityContext") is not None:
        sidecar["securityContext"] = copy.deepcopy(primary[0].spec["containers"][0]["securityContext"])
    primary[0].spec["containers"].append(sidecar)
    return pods
