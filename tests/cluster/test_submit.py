"""`astrobio submit train --backend kubeflow` against the real API server and Training Operator.

The operator creates the job's Services and Pods (admitted, or refused, by the PodSecurity plugin
under `restricted`); no kubelet runs, so the test writes each pod's status through `pods/status` as
a kubelet would, and the operator turns that into the job's conditions
(training-operator pkg/controller.v1/pytorch/pytorchjob_controller.go UpdateJobStatus, backoff
counting in pkg/core/job.go PastBackoffLimit). This file holds the Master-only layout, which today's
operator admits; multi-replica layouts are in test_pending_restricted_layout.py, the failure line in
test_pending_failed_replica.py.
"""

from __future__ import annotations

import time

import pytest

from astrobio.config import load_config
from astrobio.errors import RuntimeFailure
from astrobio.kube.submission.submit import submit_train

from .jobs import ROOT, TINY, cli, finish_all, in_thread, job_selector, submit_and_run_locally
from .kubeapi import set_pod_phase, wait_pods

pytestmark = pytest.mark.cluster
SINGLE = [*TINY, "kube.workers=0"]


def sets(overrides: list[str]) -> list[str]:
    return [arg for o in overrides for arg in ("--set", o)]


def test_submit_follows_a_master_only_job_to_succeeded(admin, restricted_ns, code_kubeconfig, tmp_path):
    from kubernetes import client as k8s

    core = k8s.CoreV1Api(admin)
    ns = restricted_ns("submit-ok")
    proc = cli(["submit", "train", "--backend", "kubeflow", "-c", "graph_vae", "-n", ns,
                *sets([*SINGLE, "run.run_id=ok1", "store.uri=s3://bucket/astro"])], code_kubeconfig, tmp_path)
    job = "astrobio-graph-vae-ok1"
    try:
        pods = wait_pods(core, ns, job_selector(job), 1, timeout_s=120)
        assert [p.metadata.name for p in pods] == [f"{job}-master-0"]
        assert core.read_namespaced_service(f"{job}-master-0", ns).spec.cluster_ip == "None"
        finish_all(core, ns, job, 1)
        out, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert out.strip() == "artifact: s3://bucket/astro/runs/ok1/pretrain/graph_vae"
    lines = err.strip().splitlines()
    assert lines[0] == f"created PyTorchJob {ns}/{job}"
    assert lines[-1].startswith(f"PyTorchJob {job}: Succeeded (Master: succeeded=1)"), lines


def test_submit_refuses_an_existing_job(admin, restricted_ns, code_kubeconfig):
    ns = restricted_ns("submit-twice")
    cfg = load_config(ROOT / "configs" / "smoke.yaml", [*SINGLE, "run.run_id=twice", "store.uri=s3://bucket/astro"])
    env = {"KUBECONFIG": str(code_kubeconfig)}
    submit_train(cfg, "graph_vae", ns, wait=False, env=env, note=lambda _: None)
    with pytest.raises(RuntimeFailure, match=f"PyTorchJob {ns}/astrobio-graph-vae-twice already exists"):
        submit_train(cfg, "graph_vae", ns, wait=False, env=env, note=lambda _: None)


def test_trainjob_failure_is_one_runtime_line(admin, restricted_ns, code_kubeconfig):
    """No Trainer v2 controller runs here: the test writes the TrainJob's status as it would."""
    from kubernetes import client as k8s

    ns = restricted_ns("trainjob-fail")
    cfg = load_config(ROOT / "configs" / "smoke.yaml", [*SINGLE, "run.run_id=tj1", "store.uri=s3://bucket/astro"])
    thread, out = in_thread(submit_train, cfg, "graph_vae", ns, api="trainjob",
                            env={"KUBECONFIG": str(code_kubeconfig)}, poll_s=0.5, note=lambda _: None)
    custom = k8s.CustomObjectsApi(admin)
    deadline = time.monotonic() + 60
    while True:
        try:
            custom.get_namespaced_custom_object("trainer.kubeflow.org", "v1alpha1", ns, "trainjobs",
                                                "astrobio-graph-vae-tj1")
            break
        except k8s.exceptions.ApiException:
            assert time.monotonic() < deadline, "submit did not create the TrainJob"
            time.sleep(0.3)
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    custom.patch_namespaced_custom_object_status(
        "trainer.kubeflow.org", "v1alpha1", ns, "trainjobs", "astrobio-graph-vae-tj1",
        {"status": {"conditions": [{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded",
                                    "message": "BackoffLimitExceeded", "lastTransitionTime": now}]}})
    thread.join(60)
    assert "TrainJob astrobio-graph-vae-tj1: Failed - BackoffLimitExceeded" in str(out.get("error")), out


def test_master_replica_runs_locally_with_the_pods_command(admin, restricted_ns, code_kubeconfig, tmp_path):
    """The operator-made Master pod's exact command, args and env (MASTER_ADDR -> 127.0.0.1, volume
    mounts -> local folders, the storage Secret resolved) trains and stores the artifact."""
    from kubernetes import client as k8s

    core = k8s.CoreV1Api(admin)
    ns = restricted_ns("replica-local")
    pods, results, names = submit_and_run_locally(core, ns, SINGLE, "loc1", code_kubeconfig, tmp_path)
    env = {v.name: v.value for v in pods[0].spec.containers[0].env}
    assert env["RANK"] == "0" and env["WORLD_SIZE"] == "1" and env["MASTER_ADDR"] == "astrobio-graph-vae-loc1-master-0"
    assert results[0].returncode == 0, results[0].stdout[-3000:]
    assert any(n.endswith("COMPLETE") for n in names), names
