"""Small helpers over the kubernetes client for the cluster tests: create with a server-side dry
run first, wait for controller-made pods, and play the kubelet by writing `pods/status`."""

from __future__ import annotations

import copy
import time
from typing import Any

PSS_REFUSAL = "violates PodSecurity"


def dynamic(client: Any) -> Any:
    from kubernetes.dynamic import DynamicClient

    return DynamicClient(client)


def create(dyn: Any, doc: dict[str, Any], namespace: str) -> dict[str, Any]:
    """Server-side dry run, then the real create, of `doc` moved into `namespace`."""
    body = copy.deepcopy(doc)
    body["metadata"]["namespace"] = namespace
    resource = dyn.resources.get(api_version=body["apiVersion"], kind=body["kind"])
    resource.create(body=body, namespace=namespace, dry_run="All")
    return resource.create(body=body, namespace=namespace).to_dict()


def pods(core: Any, namespace: str, selector: str = "") -> list[Any]:
    return core.list_namespaced_pod(namespace, label_selector=selector).items


def refusals(core: Any, namespace: str) -> list[str]:
    """Messages of FailedCreate events: what admission refused a controller in `namespace`."""
    events = core.list_namespaced_event(namespace).items
    return sorted({e.message for e in events if "FailedCreate" in (e.reason or "") and e.message})


def wait_pods(core: Any, namespace: str, selector: str, count: int, timeout_s: float = 45) -> list[Any]:
    """Wait until `count` pods match; on timeout fail with the admission refusals seen."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = pods(core, namespace, selector)
        if len(found) >= count:
            return found
        time.sleep(0.5)
    raise AssertionError(f"{len(pods(core, namespace, selector))}/{count} pods for {selector!r} in {namespace} "
                         f"after {timeout_s:.0f}s; refusals: {refusals(core, namespace)}")


def _container_status(pod: Any, state: dict[str, Any], restarts: int = 0,
                      last: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    return [{"name": c.name, "image": c.image, "imageID": "", "ready": "running" in state,
             "restartCount": restarts, "state": state, "lastState": last or {}}
            for c in pod.spec.containers]


def set_pod_phase(core: Any, pod: Any, phase: str, exit_code: int = 0, restarts: int = 0) -> None:
    """Write the status a kubelet would: Running, Succeeded/Failed with an exit code, or a crash
    loop (Running, waiting in CrashLoopBackOff after `restarts` exits with `exit_code`)."""
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    terminated = {"terminated": {"exitCode": exit_code, "reason": "Completed" if exit_code == 0 else "Error",
                                 "startedAt": now, "finishedAt": now}}
    if phase == "Running" and restarts:
        statuses = _container_status(pod, {"waiting": {"reason": "CrashLoopBackOff"}}, restarts, terminated)
    elif phase == "Running":
        statuses = _container_status(pod, {"running": {"startedAt": now}})
    else:
        statuses = _container_status(pod, terminated)
    body = {"status": {"phase": phase, "startTime": now, "containerStatuses": statuses,
                       "conditions": [{"type": "Ready", "status": "True" if phase == "Running" and not restarts
                                       else "False", "lastTransitionTime": now}]}}
    core.patch_namespaced_pod_status(pod.metadata.name, pod.metadata.namespace, body)
