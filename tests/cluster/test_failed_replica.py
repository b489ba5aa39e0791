"""A failed job reported in one line that names the failed replica, on the real Training Operator.

Replicas run with restartPolicy ExitCode: the pod itself never restarts (pkg/core/pod.go), and an
exit code in 1-127 is permanent (pkg/util/train/train_util.go IsRetryableExitCode), so the operator
fails the job and counts the replica as failed; submit's one line names it.
"""

from __future__ import annotations

import time

import pytest

from astrobio.config import load_config
from astrobio.errors import RuntimeFailure
from astrobio.kube.submission.submit import submit_train

from .jobs import ROOT, TINY, in_thread, job_selector
from .kubeapi import set_pod_phase, wait_pods

pytestmark = pytest.mark.cluster
SINGLE = [*TINY, "kube.workers=0"]


def test_submit_reports_a_failed_master_in_one_line(admin, restricted_ns, code_kubeconfig):
    """A container that keeps crashing (restartPolicy OnFailure: the kubelet restarts it in place)
    until the job's backoffLimit: the operator fails the job and submit says which replica failed."""
    from kubernetes import client as k8s

    core = k8s.CoreV1Api(admin)
    ns = restricted_ns("submit-fail")
    cfg = load_config(ROOT / "configs" / "smoke.yaml", [*SINGLE, "run.run_id=bad1", "store.uri=s3://bucket/astro"])
    thread, out = in_thread(submit_train, cfg, "graph_vae", ns, env={"KUBECONFIG": str(code_kubeconfig)},
                            poll_s=1, note=lambda _: None)
    job = "astrobio-graph-vae-bad1"
    pod = wait_pods(core, ns, job_selector(job), 1)[0]
    set_pod_phase(core, pod, "Running")
    time.sleep(1)
    set_pod_phase(core, pod, "Failed", exit_code=1)
    thread.join(120)
    assert not thread.is_alive(), "submit did not return after the job failed"
    error = out.get("error")
    assert isinstance(error, RuntimeFailure), out
    line = str(error)
    assert "\n" not in line and line.startswith(f"PyTorchJob {job}: Failed (Master: failed=1)"), line
