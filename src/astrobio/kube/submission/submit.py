"""Submit one component's training to a Kubeflow cluster (PyTorchJob or Trainer v2 TrainJob).

Render -> validate -> (dry run: return the exact YAML) -> load credentials -> preflight (namespace,
Pod Security level, storage Secret: kube/submission/preflight.py) -> refuse to clobber an existing job ->
create -> wait, printing a line whenever the job's state changes -> return the artifact URI. Nothing reaches the cluster before the object has passed validation.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal

from astrobio.console import to_stderr
from astrobio.config import AstrobioConfig
from astrobio.errors import RuntimeFailure, UsageError
from astrobio.kube.render import pytorchjob, trainjob
from astrobio.kube.cluster import load_cluster_access
from astrobio.kube.checks.probe import ClusterProbe, KubeProbe
from astrobio.config.kube import K8S_NAME
from astrobio.kube.render.job_description import ARTIFACT_ANNOTATION
from astrobio.kube.submission.preflight import require_ready
from astrobio.kube.submission.status import status_line, wait_for_conditions
from astrobio.kube.validate import validate_or_note
from astrobio.kube.render.yamlio import dump_yaml

Api = Literal["pytorchjob", "trainjob"]
APIS: tuple[str, ...] = ("pytorchjob", "trainjob")
Echo = Callable[[str], None]


def with_namespace(cfg: AstrobioConfig, namespace: str | None) -> AstrobioConfig:
    """`cfg` with `kube.namespace` replaced (validated like the config field)."""
    if namespace is None or namespace == cfg.kube.namespace:
        return cfg
    if not re.fullmatch(K8S_NAME, namespace):
        raise UsageError(f"--namespace {namespace!r} is not a valid Kubernetes name (lower case, digits, '-')")
    return cfg.model_copy(update={"kube": cfg.kube.model_copy(update={"namespace": namespace})})


def render_for_submit(cfg: AstrobioConfig, component: str, api: str) -> tuple[Any, dict[str, Any]]:
    """(object to create, its plain dict). The run id comes from the config, so resubmitting the
    same run finds the existing job instead of starting a second one."""
    run_id = cfg.run.effective_run_id
    if api == "pytorchjob":
        model = pytorchjob.build_pytorchjob(cfg, component, run_id=run_id)
        from kubeflow.training import ApiClient

        return model, ApiClient().sanitize_for_serialization(model)
    if api == "trainjob":
        obj = trainjob.render_trainjob(cfg, component, run_id=run_id)
        return obj, obj
    raise UsageError(f"--api {api!r}: expected one of {', '.join(APIS)}")


def submit_train(cfg: AstrobioConfig, component: str, namespace: str | None = None, dry_run: bool = False,
                 api: str = "pytorchjob", wait: bool = True, *, env: Mapping[str, str] | None = None,
                 kubeconfig: Path | None = None, timeout_s: int = 7 * 24 * 3600, poll_s: float = 10.0,
                 note: Echo = to_stderr, probe_factory: Callable[[Any], ClusterProbe] = KubeProbe) -> str:
    """Dry run: the YAML that would be created. Otherwise check the namespace and storage Secret
    (preflight: one line and exit 2 when one is missing, nothing created), create the job (and,
    with `wait`, wait for it) and return the artifact URI it writes."""
    cfg = with_namespace(cfg, namespace)
    model, obj = render_for_submit(cfg, component, api)
    validate_or_note(obj, note)
    if dry_run:
        return dump_yaml(obj)
    access = load_cluster_access(os.environ if env is None else env, kubeconfig)
    require_ready(cfg, probe_factory(access.configuration), katib=False, note=note)
    name, ns = obj["metadata"]["name"], obj["metadata"]["namespace"]
    uri = obj["metadata"]["annotations"][ARTIFACT_ANNOTATION]
    if api == "pytorchjob":
        _submit_pytorchjob(access.configuration, model, name, ns, wait, timeout_s, poll_s, note)
    else:
        _submit_trainjob(access.configuration, obj, name, ns, wait, timeout_s, poll_s, note)
    return uri


def _api_failure(action: str, exc: Exception) -> RuntimeFailure:
    """One line from a kubernetes ApiException or connection error."""
    status = getattr(exc, "status", None)
    reason = getattr(exc, "reason", None) or exc.__class__.__name__
    body = getattr(exc, "body", None)
    try:
        message = json.loads(body).get("message") if body else None
    except (ValueError, AttributeError):
        message = None
    detail = message or (str(exc).strip().splitlines() or [reason])[0]
    return RuntimeFailure(f"{action}: {status or ''} {reason}: {detail}".replace("  ", " "))


def ensure_absent(get: Callable[[], Any], kind: str, crd: str, name: str, ns: str) -> None:
    """Fail before creating when the job exists already or the cluster lacks its CRD."""
    from kubernetes.client.exceptions import ApiException

    try:
        get()
    except ApiException as exc:
        if exc.status == 404 and '"kind":"Status"' in (exc.body or "").replace(" ", "") and "NotFound" in (exc.body or ""):
            return  # the API exists and the object does not
        if exc.status == 404:
            raise UsageError(f"the cluster has no {kind} API (CRD {crd}); install it or choose another --api") from None
        raise _api_failure(f"cannot read {kind} {ns}/{name}", exc) from None
    except Exception as exc:  # noqa: BLE001 - connection refused, DNS, TLS: one line
        raise _api_failure(f"cannot reach the Kubernetes API to check {kind} {ns}/{name}", exc) from None
    raise RuntimeFailure(f"{kind} {ns}/{name} already exists; delete it (kubectl -n {ns} delete {kind.lower()} {name}) "
                         "or choose another run id (--set run.run_id=...)")


def _submit_pytorchjob(configuration: Any, model: Any, name: str, ns: str, wait: bool, timeout_s: int,
                       poll_s: float, note: Echo) -> None:
    from kubeflow.training import ApiClient, TrainingClient

    client = TrainingClient(client_configuration=configuration, namespace=ns, job_kind="PyTorchJob")
    ensure_absent(lambda: client.custom_api.get_namespaced_custom_object("kubeflow.org", "v1", ns, "pytorchjobs", name),
                  "PyTorchJob", "pytorchjobs.kubeflow.org", name, ns)
    try:
        client.create_job(job=model, namespace=ns)
    except Exception as exc:  # noqa: BLE001 - the SDK wraps every API error in RuntimeError
        raise _api_failure(f"creating PyTorchJob {ns}/{name}", exc.__cause__ or exc) from None
    note(f"created PyTorchJob {ns}/{name}")
    if not wait:
        return
    last: list[str] = []

    def stream(job: Any) -> None:
        line = status_line("PyTorchJob", name, ApiClient().sanitize_for_serialization(job))
        if not last or line != last[-1]:
            last.append(line)
            note(line)

    try:
        client.wait_for_job_conditions(name, ns, expected_conditions={"Succeeded"}, wait_timeout=timeout_s,
                                       polling_interval=max(1, int(poll_s)), callback=stream)
    except TimeoutError:
        raise RuntimeFailure(f"PyTorchJob {ns}/{name} did not finish within {timeout_s}s; it keeps running "
                             f"(kubectl -n {ns} get pytorchjob {name})") from None
    except RuntimeError:
        state = last[-1] if last else "Failed"
        raise RuntimeFailure(f"{state}; logs: kubectl -n {ns} logs -l training.kubeflow.org/job-name={name}") from None


def _submit_trainjob(configuration: Any, obj: dict[str, Any], name: str, ns: str, wait: bool, timeout_s: int,
                     poll_s: float, note: Echo) -> None:
    from kubernetes.client import ApiClient, CustomObjectsApi

    api = CustomObjectsApi(ApiClient(configuration))
    group, version, plural = trainjob.GROUP, trainjob.VERSION, trainjob.PLURAL
    ensure_absent(lambda: api.get_namespaced_custom_object(group, version, ns, plural, name),
                  "TrainJob", f"{plural}.{group}", name, ns)
    try:
        api.create_namespaced_custom_object(group, version, ns, plural, obj)
    except Exception as exc:  # noqa: BLE001
        raise _api_failure(f"creating TrainJob {ns}/{name}", exc) from None
    note(f"created TrainJob {ns}/{name}")
    if wait:
        wait_for_conditions(lambda: api.get_namespaced_custom_object(group, version, ns, plural, name),
                            "TrainJob", name, ns, done={"Complete"}, failed={"Failed"},
                            timeout_s=timeout_s, poll_s=poll_s, note=note, sleep=time.sleep,
                            logs_hint=f"kubectl -n {ns} logs -l jobset.sigs.k8s.io/jobset-name={name}")
