"""Kubeflow mode of a training step: create the component's PyTorchJob, stream its status, wait.

The job itself is rendered by `astrobio.kube.render.pytorchjob.render_pytorchjob` (a pure function of the
config), so the pipeline submits exactly what `astrobio render` writes to manifests/. It goes
through the kubeflow-training SDK model on its way to the API server; a rendered field that the
model would silently drop is an error here, not a surprise on the cluster.

A KFP retry of this step must not start a second copy of the job: if the job already exists the
step attaches to it and waits, and refuses (with the kubectl command to fix it) if it has failed.

The job goes to the step pod's own namespace and is owned by the step pod (`pod_identity`). A
cancelled run must not leave a GPU job running: KFP terminates a run by setting the Argo
Workflow's activeDeadlineSeconds to 0 (kubeflow/pipelines backend/src/common/util/execution_spec.go),
Argo then stops the step's main container and its emissary forwards SIGTERM to the command
(argoproj/argo-workflows cmd/argoexec/commands/emissary.go). While it waits, the launcher turns
SIGTERM into `StepCancelled`, deletes the job and exits 143; the ownerReference is the backstop
when the pod is killed before that (the garbage collector deletes the job with the pod).
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from astrobio.config import AstrobioConfig
from astrobio.errors import RuntimeFailure, UsageError
from astrobio.pipeline.pod_identity import PodIdentity, pod_identity

POLL_S = 15.0
WAIT_TIMEOUT_S = 7 * 24 * 3600.0
"""A week: long trainings are normal; KFP's own timeout (kfp.kubernetes.set_timeout) can cut earlier."""
MAX_POLL_ERRORS = 8
"""Consecutive failed status reads tolerated (API server restarts, leader election) before giving up."""
JOB_MODEL = "KubeflowOrgV1PyTorchJob"

Log = Callable[[str], None]


class StepCancelled(RuntimeFailure):
    """The step got SIGTERM (the run was terminated); its PyTorchJob has been deleted."""

    exit_code = 128 + signal.SIGTERM


class _Terminated(BaseException):
    """Raised by the SIGTERM handler; a BaseException so no `except Exception` swallows it."""


@contextmanager
def sigterm_raises() -> Iterator[None]:
    """Inside the block SIGTERM raises `_Terminated` (main thread only: Python delivers signals there)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    fired: list[int] = []

    def handler(signum: int, frame: Any) -> None:
        if not fired:  # once: a second SIGTERM must not interrupt the job's deletion
            fired.append(signum)
            raise _Terminated(signum)

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def delete_job(client: Any, name: str, namespace: str, log: Log) -> None:
    """Delete the job and, in the background, its pods; say so either way (the run is ending)."""
    from kubernetes.client import V1DeleteOptions

    try:
        client.delete_job(name=name, namespace=namespace,
                          delete_options=V1DeleteOptions(propagation_policy="Background"))
    except Exception as exc:  # noqa: BLE001 - the SDK wraps every API error in RuntimeError
        log(f"PyTorchJob {namespace}/{name}: could not delete it ({exc}); "
            f"its owner pod's deletion removes it, or: kubectl delete pytorchjob -n {namespace} {name}")
        return
    log(f"PyTorchJob {namespace}/{name}: deleted (run cancelled)")


def _first_difference(a: Any, b: Any, path: str = "") -> str:
    """A dotted path to the first place two JSON-like trees differ (for one-line errors)."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            if key not in a or key not in b or a[key] != b[key]:
                return _first_difference(a.get(key), b.get(key), f"{path}.{key}" if path else key)
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            if x != y:
                return _first_difference(x, y, f"{path}[{i}]")
    return path or "<root>"


def job_model(rendered: dict[str, Any]) -> Any:
    """The rendered camelCase dict as the SDK's PyTorchJob model, checked to round-trip exactly."""
    from kubeflow.training import ApiClient
    from kubeflow.training.utils.utils import FakeResponse

    api = ApiClient()
    model = api.deserialize(FakeResponse(rendered), JOB_MODEL)
    back = api.sanitize_for_serialization(model)
    if back != rendered:
        raise RuntimeFailure(f"rendered PyTorchJob does not survive the {JOB_MODEL} model: "
                             f"field {_first_difference(rendered, back)} would change")
    return model


def _has(conditions: list[Any], kind: str) -> bool:
    return any(getattr(c, "type", None) == kind and str(getattr(c, "status", "")) == "True" for c in conditions)


def _conditions(job: Any) -> list[Any]:
    status = getattr(job, "status", None)
    return list(getattr(status, "conditions", None) or [])


def status_line(job: Any) -> str:
    """Latest condition plus replica counts, e.g. 'Running (PyTorchJobRunning): ...; Master 1 active'."""
    conditions = _conditions(job)
    if conditions:
        last = conditions[-1]
        text = f"{last.type} ({getattr(last, 'reason', None) or '-'})"
        if getattr(last, "message", None):
            text += f": {last.message}"
    else:
        text = "Pending (no conditions yet)"
    replicas = getattr(getattr(job, "status", None), "replica_statuses", None) or {}
    for role in sorted(replicas):
        counts = replicas[role]
        parts = [f"{getattr(counts, k, None)} {k}" for k in ("active", "succeeded", "failed") if getattr(counts, k, None)]
        text += f"; {role} {', '.join(parts) or 'none started'}"
    return text


def _client(namespace: str) -> Any:
    from kubeflow.training import TrainingClient

    try:
        return TrainingClient(namespace=namespace)
    except Exception as exc:  # noqa: BLE001 - kubeconfig / in-cluster config errors come in many types
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
        raise UsageError(f"cannot reach Kubernetes to create a PyTorchJob: {first}") from None


def create_or_attach(client: Any, job: Any, name: str, namespace: str, log: Log) -> None:
    """Create the job; if that fails because it exists (a retried step), attach to it instead."""
    try:
        client.create_job(job=job, namespace=namespace)
        log(f"PyTorchJob {namespace}/{name}: created")
        return
    except Exception as exc:  # noqa: BLE001 - the SDK wraps every API error in RuntimeError
        create_error = exc
    try:
        existing = client.get_job(name=name, namespace=namespace)
    except Exception:  # noqa: BLE001 - it does not exist: the create error is the real one
        raise RuntimeFailure(f"cannot create PyTorchJob {namespace}/{name}: {create_error}") from None
    if _has(_conditions(existing), "Failed"):
        raise RuntimeFailure(f"PyTorchJob {namespace}/{name} already exists and has failed "
                             f"({status_line(existing)}); delete it with `kubectl delete pytorchjob -n "
                             f"{namespace} {name}` or use a new run id")
    log(f"PyTorchJob {namespace}/{name}: already exists; attaching to it")


def wait_for_job(client: Any, name: str, namespace: str, log: Log, *, poll_s: float = POLL_S,
                 timeout_s: float = WAIT_TIMEOUT_S, sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic) -> Any:
    """Poll until Succeeded (return the job) or Failed/timeout (RuntimeFailure); log each new status."""
    deadline = clock() + timeout_s
    last_line, errors = None, 0
    while True:
        try:
            job = client.get_job(name=name, namespace=namespace)
            errors = 0
        except Exception as exc:  # noqa: BLE001 - transient API errors are retried a few times
            errors += 1
            if errors >= MAX_POLL_ERRORS:
                raise RuntimeFailure(f"lost track of PyTorchJob {namespace}/{name}: {exc}") from None
            job = None
        if job is not None:
            line = status_line(job)
            if line != last_line:
                log(f"PyTorchJob {namespace}/{name}: {line}")
                last_line = line
            conditions = _conditions(job)
            if _has(conditions, "Succeeded"):
                return job
            if _has(conditions, "Failed"):
                raise RuntimeFailure(f"PyTorchJob {namespace}/{name} failed: {line}; logs: kubectl logs -n "
                                     f"{namespace} -l training.kubeflow.org/job-name={name} --tail=50")
        if clock() >= deadline:
            raise RuntimeFailure(f"PyTorchJob {namespace}/{name} did not finish within {timeout_s:.0f} s "
                                 f"(last status: {last_line or 'unknown'})")
        sleep(poll_s)


def render_for_pod(cfg: AstrobioConfig, component: str, pod: PodIdentity) -> dict[str, Any]:
    """The component's PyTorchJob rendered for the step pod's namespace and owned by the pod."""
    from astrobio.kube.render.pytorchjob import render_pytorchjob
    from astrobio.kube.submission.submit import with_namespace

    rendered = render_pytorchjob(with_namespace(cfg, pod.namespace), component, run_id=cfg.run.effective_run_id)
    owner = pod.owner_reference()
    if owner is not None:
        rendered["metadata"]["ownerReferences"] = [owner]
    return rendered


def launch_pytorchjob(cfg: AstrobioConfig, component: str, *, env: Mapping[str, str] | None = None,
                      training_client: Any = None, log: Log = print, poll_s: float = POLL_S,
                      timeout_s: float = WAIT_TIMEOUT_S, sleep: Callable[[float], None] = time.sleep,
                      identity: PodIdentity | None = None) -> dict[str, str]:
    """Render, create (or attach to) and wait for `component`'s PyTorchJob; return facts for the report.

    SIGTERM while creating or waiting deletes the job and raises StepCancelled (exit 143).
    """
    if not cfg.store.uri.lower().startswith("s3://"):
        raise UsageError(f"kubeflow mode needs an s3:// artifact store that the job's pods can reach; "
                         f"store.uri is {cfg.store.uri!r}")
    # the job's pods use the step's store (the pipeline parameter), not the config's kube.store_uri
    on_step_store = cfg.model_copy(update={"kube": cfg.kube.model_copy(update={"store_uri": cfg.store.uri})})
    pod = identity or pod_identity(env or {}, cfg.kube.namespace)
    rendered = render_for_pod(on_step_store, component, pod)
    name, namespace = rendered["metadata"]["name"], rendered["metadata"]["namespace"]
    log(f"PyTorchJob {namespace}/{name}: namespace from {pod.source}"
        + (f", owned by pod {pod.name}" if pod.owner_reference() else ", no owner pod (name/uid unknown)"))
    job = job_model(rendered)
    client = training_client if training_client is not None else _client(namespace)
    with sigterm_raises():
        try:
            create_or_attach(client, job, name, namespace, log)
            wait_for_job(client, name, namespace, log, poll_s=poll_s, timeout_s=timeout_s, sleep=sleep)
        except _Terminated:
            delete_job(client, name, namespace, log)
            raise StepCancelled(f"run cancelled (SIGTERM): PyTorchJob {namespace}/{name} deleted") from None
    return {"PyTorchJob": f"{namespace}/{name}"}
