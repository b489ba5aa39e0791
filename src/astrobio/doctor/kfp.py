"""`astrobio doctor`, Kubeflow Pipelines part: can the five-phase pipeline run in this namespace?

Three questions, each one line with its fix:
- `kfp-launcher`: KFP v2's launcher reads this ConfigMap in the step pods' namespace
  (kubeflow/pipelines backend/src/v2/config/env.go); without `providers.s3` naming the storage
  Secret, steps cannot upload their Metrics/HTML to the s3:// pipeline root (backend/src/v2/config/s3.go).
- the runner service account: KFP runs steps as its default runner, default-editor in a multi-user
  profile namespace, pipeline-runner in standalone KFP (manifests/kustomize/base/installs/multi-user/
  api-service/params.env); it needs a mounted token and the right to create/get/watch/delete
  PyTorchJobs and read the storage Secret and kfp-launcher (asked with LocalSubjectAccessReviews).
- the pipeline itself in KFP (`astrobio-five-phase`, shared or in the namespace), when a KFP
  endpoint is given; credentials as `astrobio submit pipeline` takes them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

import yaml

from astrobio.config import AstrobioConfig
from astrobio.kube.checks.check import Check, existing_or_check
from astrobio.kube.checks.probe import ProbeError, _reason, ask_api

LAUNCHER_CONFIGMAP = "kfp-launcher"
RUNNERS = ("default-editor", "pipeline-runner")
"""KFP's default runner: multi-user profile first, then standalone."""
PIPELINE = "astrobio-five-phase"


def runner_rights(storage_secret: str) -> list[tuple[str, str, str, str | None]]:
    """(group, resource, verb, name) the runner needs: the launcher step's PyTorchJob calls, and
    KFP's launcher reading the store keys and its ConfigMap."""
    rights: list[tuple[str, str, str, str | None]] = [
        ("kubeflow.org", "pytorchjobs", verb, None) for verb in ("create", "get", "watch", "delete")]
    return rights + [("", "secrets", "get", storage_secret), ("", "configmaps", "get", LAUNCHER_CONFIGMAP)]


class KfpProbe(Protocol):
    def config_map(self, namespace: str, name: str) -> dict[str, str] | None: ...
    def service_account(self, namespace: str, name: str) -> dict[str, Any] | None:
        """{"automount": bool | None} or None when it does not exist."""
        ...
    def allowed(self, namespace: str, user: str, group: str, resource: str, verb: str, name: str | None) -> bool: ...


class KfpKubeProbe:
    """KfpProbe over the kubernetes client (ConfigMap/ServiceAccount reads, LocalSubjectAccessReview)."""

    def __init__(self, configuration: Any, timeout_s: float = 10.0):
        from kubernetes import client

        api = client.ApiClient(configuration)
        self._core, self._authz, self._timeout = client.CoreV1Api(api), client.AuthorizationV1Api(api), timeout_s

    def config_map(self, namespace: str, name: str) -> dict[str, str] | None:
        found = ask_api(lambda: self._core.read_namespaced_config_map(name, namespace, _request_timeout=self._timeout))
        return None if found is None else dict(found.data or {})

    def service_account(self, namespace: str, name: str) -> dict[str, Any] | None:
        found = ask_api(lambda: self._core.read_namespaced_service_account(name, namespace, _request_timeout=self._timeout))
        return None if found is None else {"automount": found.automount_service_account_token}

    def allowed(self, namespace: str, user: str, group: str, resource: str, verb: str, name: str | None) -> bool:
        from kubernetes import client

        attrs = client.V1ResourceAttributes(group=group, resource=resource, verb=verb, namespace=namespace, name=name)
        review = client.V1LocalSubjectAccessReview(
            metadata=client.V1ObjectMeta(namespace=namespace),
            spec=client.V1SubjectAccessReviewSpec(user=user, resource_attributes=attrs))
        answer = ask_api(lambda: self._authz.create_namespaced_local_subject_access_review(
            namespace, review, _request_timeout=self._timeout))
        return bool(answer is not None and answer.status.allowed)


def launcher_config_check(namespace: str, storage_secret: str, probe: KfpProbe) -> Check:
    fix = f"helm install the astrobio chart in {namespace} (kfpLauncher.create=true), or add its providers.s3 to {LAUNCHER_CONFIGMAP}"
    data = existing_or_check("kfp-launcher", lambda: probe.config_map(namespace, LAUNCHER_CONFIGMAP),
                             f"{namespace}/{LAUNCHER_CONFIGMAP}", fix)
    if isinstance(data, Check):
        return data
    try:
        providers = yaml.safe_load(data.get("providers") or "{}") or {}
        s3 = (providers.get("s3") or {}).get("default") or {}
    except (yaml.YAMLError, AttributeError):
        return Check("kfp-launcher", "fail", f"{namespace}/{LAUNCHER_CONFIGMAP}: providers is not a YAML mapping", fix)
    secret = ((s3.get("credentials") or {}).get("secretRef") or {}).get("secretName")
    if not s3.get("endpoint") or secret != storage_secret:
        found = f"endpoint {s3.get('endpoint') or 'none'}, secret {secret or 'none'}"
        return Check("kfp-launcher", "fail", f"{namespace}/{LAUNCHER_CONFIGMAP}: providers.s3.default has {found}, "
                     f"not the store's endpoint and Secret {storage_secret}", fix)
    root = data.get("defaultPipelineRoot") or "(KFP default)"
    return Check("kfp-launcher", "pass", f"{namespace}/{LAUNCHER_CONFIGMAP}: s3 endpoint {s3['endpoint']}, "
                 f"Secret {secret}, defaultPipelineRoot {root}")


def runner_check(namespace: str, storage_secret: str, probe: KfpProbe) -> Check:
    fix = (f"run where KFP runs steps (a profile namespace, or KFP's own), or helm install the chart with "
           f"pipelineRunner.create=true and choose that account for the run")
    try:
        accounts = {name: probe.service_account(namespace, name) for name in RUNNERS}
        name = next((n for n in RUNNERS if accounts[n] is not None), None)
        if name is None:
            return Check("kfp-runner", "fail", f"no {' or '.join(RUNNERS)} service account in {namespace}", fix)
        if (accounts[name] or {}).get("automount") is False:
            return Check("kfp-runner", "fail", f"{namespace}/{name} has automountServiceAccountToken: false; "
                         "its step pods cannot call the API server", f"kubectl -n {namespace} patch serviceaccount {name} "
                         "-p '{\"automountServiceAccountToken\": true}'")
        user = f"system:serviceaccount:{namespace}:{name}"
        missing = [f"{verb} {resource}" + (f"/{obj}" if obj else "")
                   for group, resource, verb, obj in runner_rights(storage_secret)
                   if not probe.allowed(namespace, user, group, resource, verb, obj)]
    except ProbeError as exc:
        return Check("kfp-runner", "warn", f"could not check: {exc}", fix)
    if missing:
        return Check("kfp-runner", "fail", f"{namespace}/{name} may not {', '.join(missing)}",
                     f"bind {name} to a Role with these rights (the chart's pipelineRunner Role has them)")
    return Check("kfp-runner", "pass", f"{namespace}/{name}: token mounted; may create/get/watch/delete PyTorchJobs "
                 f"and read {storage_secret}, {LAUNCHER_CONFIGMAP}")


def kfp_namespace_checks(cfg: AstrobioConfig, probe: KfpProbe) -> list[Check]:
    """The kfp-launcher ConfigMap and the runner account in `kube.namespace`."""
    ns, secret = cfg.kube.namespace, cfg.kube.storage_secret
    return [launcher_config_check(ns, secret, probe), runner_check(ns, secret, probe)]


def pipeline_presence_check(host: str, env: Mapping[str, str], namespace: str,
                            client_factory: Callable[..., Any] | None = None) -> Check:
    """Is `astrobio-five-phase` uploaded (shared, or in `namespace`)? Same credentials as submit."""
    import json

    from astrobio.errors import AstrobioError
    from astrobio.pipeline.kfp_auth import client_kwargs, probe_host, resolve_auth
    from astrobio.pipeline.submit import normalise_host

    fix = "helm install/upgrade the astrobio chart (pipelineUpload.enabled), or upload pipelines/astrobio-five-phase.yaml in the KFP UI"
    where = f"{PIPELINE} in KFP at {host}"
    wanted = json.dumps({"predicates": [{"operation": "EQUALS", "key": "display_name", "stringValue": PIPELINE}]})
    try:
        host = normalise_host(host)
        auth = resolve_auth(host, env)
        probe_host(host, auth, namespace)
        if client_factory is None:
            import kfp

            client_factory = kfp.Client
        client = client_factory(**client_kwargs(auth, host, namespace))
        found = [p for ns in (None, namespace)
                 for p in (client.list_pipelines(filter=wanted, namespace=ns).pipelines or [])]
    except AstrobioError as exc:
        return Check("kfp-pipeline", "fail", str(exc), fix)
    except Exception as exc:  # noqa: BLE001 - the KFP client raises many kinds; one line
        return Check("kfp-pipeline", "warn", f"could not check {where}: {_reason(exc)}", fix)
    if not found:
        return Check("kfp-pipeline", "fail", f"{where}: not uploaded (shared or in {namespace})", fix)
    return Check("kfp-pipeline", "pass", f"{where}: {found[0].pipeline_id}")
