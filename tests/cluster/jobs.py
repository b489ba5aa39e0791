"""Driving a submitted PyTorchJob through the real Training Operator: its pods, the kubelet's part
(pod status written through the API), and each replica's command run as a local process."""

from __future__ import annotations

import base64
import os
import re
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from .kubeapi import set_pod_phase, wait_pods

ROOT = Path(__file__).resolve().parents[2]
TINY = ["kube.gpu.per_node=0", "trainer.max_steps=4", "trainer.eval_every=2", "trainer.log_every=2",
        "trainer.checkpoint.every=2", "components.graph_vae.trainer.max_steps=4"]


def job_selector(job: str, replica: str | None = None) -> str:
    """Labels training-operator v1.9 puts on a job's pods (pkg/controller.v1/common/pod.go)."""
    sel = f"training.kubeflow.org/job-name={job}"
    return sel + (f",training.kubeflow.org/replica-type={replica.lower()}" if replica else "")


def cli(args: list[str], kubeconfig: Path, cwd: Path) -> subprocess.Popen:
    """`astrobio ARGS` as a user runs it (own process, its own KUBECONFIG)."""
    env = {**os.environ, "KUBECONFIG": str(kubeconfig), "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}"}
    return subprocess.Popen([sys.executable, "-m", "astrobio", *args], cwd=cwd, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def in_thread(fn: Any, *args: Any, **kwargs: Any) -> tuple[threading.Thread, dict[str, Any]]:
    """Run fn in a thread; its result or exception lands in the returned dict."""
    out: dict[str, Any] = {}

    def run() -> None:
        try:
            out["result"] = fn(*args, **kwargs)
        except BaseException as exc:  # noqa: BLE001 - handed to the test, which asserts on it
            out["error"] = exc
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, out


def finish_all(core: Any, ns: str, job: str, count: int, exit_code: int = 0) -> list[Any]:
    """Play the kubelet: every pod of the job Running, then terminated with `exit_code`."""
    pods = wait_pods(core, ns, job_selector(job), count)
    for pod in pods:
        set_pod_phase(core, pod, "Running")
    for pod in pods:
        set_pod_phase(core, pod, "Succeeded" if exit_code == 0 else "Failed", exit_code)
    return pods


def _env_value(core: Any, ns: str, var: Any) -> str | None:
    if var.value is not None:
        return var.value
    ref = var.value_from.secret_key_ref if var.value_from else None
    if ref is None:
        raise AssertionError(f"env {var.name}: only value and secretKeyRef are resolved by this harness")
    from kubernetes.client.exceptions import ApiException

    try:
        data = core.read_namespaced_secret(ref.name, ns).data or {}
    except ApiException as exc:
        if exc.status == 404 and ref.optional:
            return None
        raise
    if ref.key not in data and ref.optional:
        return None
    return base64.b64decode(data[ref.key]).decode()


def local_command(core: Any, pod: Any, workdir: Path) -> tuple[list[str], dict[str, str]]:
    """The pod's container command, args and env, as a local process takes them: Service hosts
    (MASTER_ADDR, PET_MASTER_ADDR, PET_RDZV_ENDPOINT) mapped to 127.0.0.1 and volume mount paths to local folders."""
    container = next(c for c in pod.spec.containers if c.name == "pytorch")
    mounts = {m.mount_path: workdir / m.name for m in container.volume_mounts or []}

    def local(text: str) -> str:
        for path, folder in mounts.items():
            folder.mkdir(parents=True, exist_ok=True)
            text = text.replace(path, str(folder))
        return text
    env: dict[str, str] = {}
    for var in container.env or []:
        value = _env_value(core, pod.metadata.namespace, var)
        if value is not None:
            env[var.name] = local(value)
    for name in ("MASTER_ADDR", "PET_MASTER_ADDR"):  # the operator sets both to the master's Service
        if name in env:
            env[name] = "127.0.0.1"
    if "PET_RDZV_ENDPOINT" in env:
        env["PET_RDZV_ENDPOINT"] = re.sub(r"^[^:]+", "127.0.0.1", env["PET_RDZV_ENDPOINT"])
    command = [local(a) for a in [*(container.command or []), *(container.args or [])]]
    return command, env


def expected_pods(job: dict[str, Any]) -> int:
    """How many pods the operator makes for a PyTorchJob: the sum of its replica counts."""
    return sum(spec.get("replicas", 1) for spec in job["spec"]["pytorchReplicaSpecs"].values())


def run_replicas(core: Any, pods: list[Any], workdir: Path, extra_env: dict[str, str],
                 timeout_s: float = 900) -> list[subprocess.CompletedProcess]:
    """Every replica's command as its own local process, all at once (they rendezvous), each in
    its own folder; returns them in pod order."""
    procs = []
    for pod in pods:
        folder = workdir / pod.metadata.name
        folder.mkdir(parents=True)
        command, env = local_command(core, pod, folder)
        procs.append(subprocess.Popen(command, env={**extra_env, **env}, cwd=folder, text=True,
                                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT))
    results = []
    for proc in procs:
        out, _ = proc.communicate(timeout=timeout_s)
        results.append(subprocess.CompletedProcess(proc.args, proc.returncode, out, ""))
    return results


def put_secret(core: Any, ns: str, body: dict[str, Any]) -> None:
    """Create the Secret, or replace the placeholder the namespace fixture made."""
    from kubernetes.client.exceptions import ApiException

    try:
        core.create_namespaced_secret(ns, body)
    except ApiException as exc:
        if exc.status != 409:
            raise
        core.replace_namespaced_secret(body["metadata"]["name"], ns, body)


def submit_and_run_locally(core: Any, ns: str, overrides: list[str], run_id: str, kubeconfig: Path,
                           workdir: Path) -> tuple[list[Any], list[subprocess.CompletedProcess], list[str]]:
    """Submit graph_vae (no wait), then run every pod the operator made as a local process against a
    local S3 server whose address reaches the pods through the `astrobio-storage` Secret, as on a
    cluster. Returns (pods, processes, object names stored)."""
    from minio import Minio

    from astrobio.config import load_config
    from astrobio.kube.submission.submit import submit_train
    from tests.s3server import running_s3_server, unique_bucket

    bucket = unique_bucket()
    with running_s3_server() as s3:
        put_secret(core, ns, {"metadata": {"name": "astrobio-storage"},
                              "stringData": {**s3.env(), "ASTROBIO_S3_SECURE": "false"}})
        store = Minio(s3.endpoint, access_key=s3.env()["AWS_ACCESS_KEY_ID"],
                      secret_key=s3.env()["AWS_SECRET_ACCESS_KEY"], secure=False)
        store.make_bucket(bucket)
        cfg = load_config(ROOT / "configs" / "smoke.yaml", [*overrides, f"run.run_id={run_id}", f"store.uri=s3://{bucket}/a"])
        submit_train(cfg, "graph_vae", ns, wait=False, env={"KUBECONFIG": str(kubeconfig)}, note=lambda _: None)
        job = f"astrobio-graph-vae-{run_id}"
        from kubernetes import client as k8s

        body = k8s.CustomObjectsApi(core.api_client).get_namespaced_custom_object(
            "kubeflow.org", "v1", ns, "pytorchjobs", job)
        pods = sorted(wait_pods(core, ns, job_selector(job), expected_pods(body)), key=lambda p: p.metadata.name)
        base_env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": str(workdir),
                    "PYTHONPATH": str(ROOT / "src")}
        results = run_replicas(core, pods, workdir, base_env)
        names = [o.object_name for o in store.list_objects(bucket, recursive=True)]
    return pods, results, names
