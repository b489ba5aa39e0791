"""Cancel means stop, on the real API server, Training Operator and garbage collector (#14).

KFP terminates a run by setting the Workflow's activeDeadlineSeconds to 0 (kubeflow/pipelines
backend/src/common/util/execution_spec.go) and Argo's emissary forwards SIGTERM to the step's command
(argoproj/argo-workflows cmd/argoexec/commands/emissary.go): the launcher step must then delete the
PyTorchJob it created. If the step dies without cleaning up (SIGKILL), the job's ownerReference to
the step pod lets the garbage collector in kube-controller-manager delete it with the pod.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from .jobs import ROOT

pytestmark = pytest.mark.cluster

STEP = textwrap.dedent("""
    from pathlib import Path
    from astrobio.config import load_config
    from astrobio.errors import AstrobioError
    from astrobio.pipeline.launcher import report_failure_and_exit
    from astrobio.pipeline.pod_identity import PodIdentity
    from astrobio.pipeline.pytorchjob_launch import launch_pytorchjob

    cfg = load_config(Path({config!r}), ["store.uri=s3://bucket/astro", "run.run_id={run_id}", "kube.workers=0"])
    try:
        launch_pytorchjob(cfg, "graph_vae", poll_s=0.2, identity=PodIdentity({ns!r}, {pod!r}, {uid!r}, "test"))
    except AstrobioError as exc:
        report_failure_and_exit(exc)
""")


def _step_pod(core: Any, ns: str, name: str) -> str:
    """A stand-in for the KFP step pod (restricted-compliant; no kubelet runs it): its uid owns the job."""
    pod = core.create_namespaced_pod(ns, {"metadata": {"name": name}, "spec": {
        "serviceAccountName": "astrobio-launcher", "automountServiceAccountToken": False, "securityContext": {
            "runAsNonRoot": True, "runAsUser": 1000, "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [{"name": "main", "image": "python:3.11-slim", "securityContext": {
            "allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}}]}})
    return pod.metadata.uid


def _start_step(ns: str, pod: str, uid: str, run_id: str, kubeconfig: Path) -> subprocess.Popen:
    script = STEP.format(config=str(ROOT / "configs" / "smoke.yaml"), run_id=run_id, ns=ns, pod=pod, uid=uid)
    env = {**os.environ, "KUBECONFIG": str(kubeconfig), "PYTHONPATH": str(ROOT / "src")}
    return subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)


def _job(custom: Any, ns: str, name: str) -> dict[str, Any] | None:
    from kubernetes.client.exceptions import ApiException

    try:
        return custom.get_namespaced_custom_object("kubeflow.org", "v1", ns, "pytorchjobs", name)
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise


def _wait(predicate: Any, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout_s:.0f}s waiting for {what}")


def _launched_step(admin: Any, restricted_ns: Any, kubeconfig: Path, tag: str,
                   run_id: str) -> tuple[Any, Any, str, str, subprocess.Popen, str]:
    """A step pod and its launcher process, once the launcher has created the PyTorchJob:
    (core API, custom-objects API, namespace, pod uid, process, job name)."""
    from kubernetes import client as k8s

    core, custom = k8s.CoreV1Api(admin), k8s.CustomObjectsApi(admin)
    ns = restricted_ns(f"cancel-{tag}")
    uid = _step_pod(core, ns, f"step-{tag}")
    proc = _start_step(ns, f"step-{tag}", uid, run_id, kubeconfig)
    job = f"astrobio-graph-vae-{run_id}"
    try:
        _wait(lambda: _job(custom, ns, job) is not None, 60, f"{ns}/{job} to be created")
    except AssertionError:
        proc.kill()
        raise
    return core, custom, ns, uid, proc, job


def test_sigterm_to_the_step_deletes_its_pytorchjob(admin, restricted_ns, code_kubeconfig):
    core, custom, ns, uid, proc, job = _launched_step(admin, restricted_ns, code_kubeconfig, "term", "cancel1")
    try:
        created = _job(custom, ns, job)
        assert created is not None
        assert created["metadata"]["ownerReferences"] == [
            {"apiVersion": "v1", "kind": "Pod", "name": "step-term", "uid": uid}]
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 143, err
    assert err.strip().splitlines()[-1] == f"error: run cancelled (SIGTERM): PyTorchJob {ns}/{job} deleted"
    _wait(lambda: _job(custom, ns, job) is None, 30, f"{ns}/{job} to be gone after the cancel")


def test_a_killed_step_leaves_its_job_to_the_garbage_collector(admin, restricted_ns, code_kubeconfig):
    """SIGKILL gives the step no chance to clean up; deleting the step pod (as Argo does when the
    run ends) must still remove the job: the ownerReference is the backstop."""
    core, custom, ns, _, proc, job = _launched_step(admin, restricted_ns, code_kubeconfig, "kill", "cancel2")
    proc.kill()
    proc.communicate(timeout=30)
    assert _job(custom, ns, job) is not None, "SIGKILL must not have deleted the job itself"
    core.delete_namespaced_pod("step-kill", ns, grace_period_seconds=0)
    _wait(lambda: _job(custom, ns, job) is None, 90, f"the garbage collector to delete {ns}/{job} with its owner pod")
