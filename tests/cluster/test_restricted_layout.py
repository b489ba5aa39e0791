"""Multi-replica PyTorchJobs on the real Training Operator under Pod Security `restricted`.

Training Operator v1.9 injects an `init-pytorch` container (alpine, no securityContext) into every
Worker whenever a Master replica exists (pkg/controller.v1/pytorch/initcontainer.go), so the
PodSecurity plugin refused every Worker pod of astrobio's former Master+Worker layout. The default
layout is now Worker-only (c10d at worker-0) for several nodes and Master-only for one: every pod the
operator makes is admitted, the job runs to Succeeded, and every replica's command rendezvouses.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from astrobio.config import load_config
from astrobio.kube.submission.submit import submit_train

from .jobs import ROOT, TINY, expected_pods, finish_all, in_thread, job_selector, submit_and_run_locally
from .kubeapi import create, dynamic, refusals, wait_pods

pytestmark = pytest.mark.cluster
PYTORCHJOBS = sorted((ROOT / "manifests").glob("pytorchjob-*.yaml"))


@pytest.mark.parametrize("path", PYTORCHJOBS, ids=[p.stem for p in PYTORCHJOBS])
def test_every_pod_of_a_shipped_pytorchjob_is_admitted(path: Path, admin, restricted_ns):
    from kubernetes import client as k8s

    core = k8s.CoreV1Api(admin)
    ns = restricted_ns("pods-" + path.stem.removeprefix("pytorchjob-"))
    job = yaml.safe_load(path.read_text())
    create(dynamic(admin), job, ns)
    found = wait_pods(core, ns, job_selector(job["metadata"]["name"]), expected_pods(job))
    assert len(found) == expected_pods(job)
    assert not refusals(core, ns)


def test_submit_with_the_default_layout_runs_to_succeeded(admin, restricted_ns, code_kubeconfig):
    from kubernetes import client as k8s

    core = k8s.CoreV1Api(admin)
    ns = restricted_ns("submit-default")
    cfg = load_config(ROOT / "configs" / "smoke.yaml", [*TINY, "run.run_id=def1", "store.uri=s3://bucket/astro"])
    thread, out = in_thread(submit_train, cfg, "graph_vae", ns, env={"KUBECONFIG": str(code_kubeconfig)},
                            poll_s=1, note=lambda _: None)
    job = k8s.CustomObjectsApi(admin)
    body = None
    for _ in range(100):
        try:
            body = job.get_namespaced_custom_object("kubeflow.org", "v1", ns, "pytorchjobs", "astrobio-graph-vae-def1")
            break
        except k8s.exceptions.ApiException:
            thread.join(0.3)
    assert body is not None, out
    finish_all(core, ns, "astrobio-graph-vae-def1", expected_pods(body))
    thread.join(120)
    assert out.get("result") == "s3://bucket/astro/runs/def1/pretrain/graph_vae", out
    assert not refusals(core, ns)


def test_every_replica_of_the_default_layout_runs_locally(admin, restricted_ns, code_kubeconfig, tmp_path):
    """Two replicas, each the operator-made pod's exact command/args/env with MASTER_ADDR and
    PET_RDZV_ENDPOINT mapped to 127.0.0.1: they rendezvous, ranks 0 and 1, and store the artifact."""
    from kubernetes import client as k8s

    core = k8s.CoreV1Api(admin)
    ns = restricted_ns("replicas-local")
    overrides = [*TINY, "kube.workers=1", "kube.elastic.min_replicas=2", "kube.elastic.max_replicas=2"]
    pods, results, names = submit_and_run_locally(core, ns, overrides, "multi1", code_kubeconfig, tmp_path)
    assert len(pods) == 2
    for pod, result in zip(pods, results):
        assert result.returncode == 0, f"{pod.metadata.name}: {result.stdout[-3000:]}"
    assert any(n.endswith("COMPLETE") for n in names), names
