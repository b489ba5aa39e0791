"""The chart installed and upgraded for real through helm-python-sdk (Helm v4 as a library).

Helm waits for the post-install/upgrade hook Jobs (`bucket-init`, `pipeline-upload`); no kubelet runs
here, so a background thread plays it for every pod those Jobs make: Running, then Succeeded, after
which the real Job controller marks the Job Complete (docs/CONTROL_PLANE.md, "playing the kubelet").
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
import yaml

from .kubeapi import set_pod_phase

pytestmark = pytest.mark.cluster


def kubelet_for_jobs(core: Any, ns: str, stop: threading.Event, finished: list[str]) -> None:
    """Finish every pod a Job creates in `ns` with exit code 0, until `stop` is set."""
    while not stop.is_set():
        for pod in core.list_namespaced_pod(ns, label_selector="job-name").items:
            if pod.metadata.name not in finished and pod.status.phase not in ("Succeeded", "Failed"):
                set_pod_phase(core, pod, "Running")
                set_pod_phase(core, pod, "Succeeded")
                finished.append(pod.metadata.name)
        time.sleep(0.3)


def status(release: dict[str, Any]) -> str:
    """A release summary's status (helm-python-sdk returns it flat or under `info`)."""
    return release.get("status") or release.get("info", {}).get("status", "")


def revision(release: dict[str, Any]) -> int:
    return release.get("version") or release.get("revision") or 0


def test_chart_installs_and_upgrades(admin, restricted_ns, plane):
    import helm_python as helm
    from kubernetes import client as k8s

    from tests.chart.helpers import CHART, EXAMPLES

    # The chart's shipped jobs/experiments refuse any release namespace but kube.namespace.
    ns = restricted_ns("astrobio", launcher=False)
    core = k8s.CoreV1Api(admin)
    stop, finished = threading.Event(), []
    thread = threading.Thread(target=kubelet_for_jobs, args=(core, ns, stop, finished), daemon=True)
    thread.start()
    bundled = yaml.safe_load(next(p for p in EXAMPLES if p.stem == "bundled-minio").read_text())
    tuning = yaml.safe_load(next(p for p in EXAMPLES if p.stem == "tuning-enabled").read_text())
    try:
        with helm.Config(kubeconfig_path=str(plane.kubeconfig()), namespace=ns) as cfg:
            first = cfg.install(helm.Chart.load(str(CHART)), "astrobio", bundled, timeout=120)
            assert status(first) == "deployed", first
            upgraded = {**bundled, "experiments": tuning["experiments"]}
            second = cfg.upgrade(helm.Chart.load(str(CHART)), "astrobio", upgraded, timeout=120)
            assert status(second) == "deployed" and revision(second) == 2, second
            listed = cfg.list()
    finally:
        stop.set()
        thread.join(5)
    assert [(r["name"], revision(r)) for r in listed] == [("astrobio", 2)]
    assert finished, "no hook pod ran: the install did not wait for its hooks"
    custom = k8s.CustomObjectsApi(admin)
    experiments = custom.list_namespaced_custom_object("kubeflow.org", "v1beta1", ns, "experiments")["items"]
    assert experiments, "the upgrade to tuning-enabled values created no Experiment"
    assert k8s.AppsV1Api(admin).list_namespaced_deployment(ns).items, "bundled MinIO Deployment missing"
