"""The cluster questions `astrobio doctor` asks, behind a small interface.

`ClusterProbe` is what the checks need; `KubeProbe` answers it with the kubernetes client and a
fake answers it in tests. Every method returns an answer or raises ProbeError with one line
(forbidden, unreachable), so a check can say "could not check" instead of guessing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Protocol


class ProbeError(Exception):
    """The question could not be answered (RBAC forbids it, the API server is unreachable)."""


class ClusterProbe(Protocol):
    def server_version(self) -> str: ...
    def crd_exists(self, name: str) -> bool: ...
    def service_account_exists(self, namespace: str, name: str) -> bool: ...
    def secret_keys(self, namespace: str, name: str) -> set[str] | None:
        """Key names of the Secret (never values), None when it does not exist."""
        ...
    def namespace_labels(self, namespace: str) -> dict[str, str] | None:
        """The namespace's labels, None when it does not exist."""
        ...
    def crd_served(self, name: str, version: str) -> bool | None:
        """None: no such CRD; else whether `version` is served and the CRD is Established."""
        ...
    def operator_presence(self) -> str | None:
        """Where the Training Operator was found (its webhook or Deployment), None when neither is."""
        ...
    def can_i(self, verb: str, group: str, resource: str, namespace: str, subresource: str = "") -> bool:
        """A SelfSubjectAccessReview: may this kubeconfig's identity do it?"""
        ...
    def katib_injects_security_context(self) -> bool | None:
        """Katib's `init.controller.injectSecurityContext` (ConfigMap kubeflow/katib-config), None
        when there is no such ConfigMap."""
        ...


def _reason(exc: Exception) -> str:
    status = getattr(exc, "status", None)
    if status == 403:
        return "forbidden for this kubeconfig's user"
    body = getattr(exc, "body", None)
    try:
        message = json.loads(body).get("message") if body else None
    except (ValueError, AttributeError):
        message = None
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
    text = message or first
    return f"{status} {text}" if status else text


def ask_api(call: Callable[[], Any], missing_ok: bool = True) -> Any:
    """One kubernetes client call: its answer, None for a 404 when `missing_ok`, else ProbeError
    with one line (every probe of doctor and submit asks through here)."""
    from kubernetes.client.exceptions import ApiException

    try:
        return call()
    except ApiException as exc:
        if exc.status == 404 and missing_ok:
            return None
        raise ProbeError(_reason(exc)) from None
    except Exception as exc:  # noqa: BLE001 - network errors of any kind: one line
        raise ProbeError(_reason(exc)) from None


OPERATOR_WEBHOOK = "validator.training-operator.kubeflow.org"
OPERATOR_DEPLOYMENT = ("kubeflow", "training-operator")
KATIB_CONFIG = ("kubeflow", "katib-config", "katib-config.yaml")
"""Where Katib v0.19 reads its controller config (`pkg/controller.v1beta1/consts/const.go`)."""
"""Names the Training Operator v1.9 manifests install (`manifests/base`: the validating webhook
configuration and the Deployment in namespace kubeflow)."""


class KubeProbe:
    """ClusterProbe over the kubernetes client, from a loaded client configuration."""

    def __init__(self, configuration: Any, timeout_s: float = 10.0):
        from kubernetes import client

        api = client.ApiClient(configuration)
        self._core = client.CoreV1Api(api)
        self._ext = client.ApiextensionsV1Api(api)
        self._version = client.VersionApi(api)
        self._admission = client.AdmissionregistrationV1Api(api)
        self._apps = client.AppsV1Api(api)
        self._authz = client.AuthorizationV1Api(api)
        self._timeout = timeout_s

    def server_version(self) -> str:
        info = ask_api(lambda: self._version.get_code(_request_timeout=self._timeout), missing_ok=False)
        return str(getattr(info, "git_version", "?"))

    def crd_exists(self, name: str) -> bool:
        return ask_api(lambda: self._ext.read_custom_resource_definition(name, _request_timeout=self._timeout)) is not None

    def service_account_exists(self, namespace: str, name: str) -> bool:
        found = ask_api(lambda: self._core.read_namespaced_service_account(name, namespace, _request_timeout=self._timeout))
        return found is not None

    def secret_keys(self, namespace: str, name: str) -> set[str] | None:
        secret = ask_api(lambda: self._core.read_namespaced_secret(name, namespace, _request_timeout=self._timeout))
        if secret is None:
            return None
        return set(secret.data or {}) | set(secret.string_data or {})

    def namespace_labels(self, namespace: str) -> dict[str, str] | None:
        found = ask_api(lambda: self._core.read_namespace(namespace, _request_timeout=self._timeout))
        return None if found is None else dict(found.metadata.labels or {})

    def crd_served(self, name: str, version: str) -> bool | None:
        crd = ask_api(lambda: self._ext.read_custom_resource_definition(name, _request_timeout=self._timeout))
        if crd is None:
            return None
        served = any(v.name == version and v.served for v in crd.spec.versions or [])
        conditions = (crd.status.conditions if crd.status else None) or []
        return served and any(c.type == "Established" and c.status == "True" for c in conditions)

    def operator_presence(self) -> str | None:
        webhook = ask_api(lambda: self._admission.read_validating_webhook_configuration(
            OPERATOR_WEBHOOK, _request_timeout=self._timeout))
        if webhook is not None:
            return f"webhook {OPERATOR_WEBHOOK}"
        ns, name = OPERATOR_DEPLOYMENT
        deployment = ask_api(lambda: self._apps.read_namespaced_deployment(name, ns, _request_timeout=self._timeout))
        if deployment is None:
            return None
        ready = (deployment.status.ready_replicas if deployment.status else None) or 0
        return f"deployment {ns}/{name} ({ready} ready)"

    def can_i(self, verb: str, group: str, resource: str, namespace: str, subresource: str = "") -> bool:
        from kubernetes import client

        review = client.V1SelfSubjectAccessReview(spec=client.V1SelfSubjectAccessReviewSpec(
            resource_attributes=client.V1ResourceAttributes(verb=verb, group=group, resource=resource,
                                                            subresource=subresource or None, namespace=namespace)))
        answer = ask_api(lambda: self._authz.create_self_subject_access_review(review, _request_timeout=self._timeout),
                           missing_ok=False)
        return bool(answer.status and answer.status.allowed)

    def katib_injects_security_context(self) -> bool | None:
        import yaml

        ns, name, key = KATIB_CONFIG
        found = ask_api(lambda: self._core.read_namespaced_config_map(name, ns, _request_timeout=self._timeout))
        if found is None:
            return None
        try:
            config = yaml.safe_load((found.data or {}).get(key) or "") or {}
        except yaml.YAMLError as exc:
            raise ProbeError(f"{ns}/{name} {key} is not YAML: {str(exc).splitlines()[0]}") from None
        controller = ((config.get("init") or {}).get("controller") or {}) if isinstance(config, dict) else {}
        return controller.get("injectSecurityContext") is True
