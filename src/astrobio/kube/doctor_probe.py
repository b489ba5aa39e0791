"""The cluster questions `astrobio doctor` asks, behind a small interface.

`ClusterProbe` is what the checks need; `KubeProbe` answers it with the kubernetes client and a
fake answers it in tests. Every method returns an answer or raises ProbeError with one line
(forbidden, unreachable), so a check can say "could not check" instead of guessing.
"""

from __future__ import annotations

import json
from typing import Any, Protocol


class ProbeError(Exception):
    """The question could not be answered (RBAC forbids it, the API server is unreachable)."""


class ClusterProbe(Protocol):
    def server_version(self) -> str: ...
    def crd_exists(self, name: str) -> bool: ...
    def namespace_exists(self, namespace: str) -> bool: ...
    def service_account_exists(self, namespace: str, name: str) -> bool: ...
    def secret_keys(self, namespace: str, name: str) -> set[str] | None:
        """Key names of the Secret (never values), None when it does not exist."""
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


class KubeProbe:
    """ClusterProbe over the kubernetes client, from a loaded client configuration."""

    def __init__(self, configuration: Any, timeout_s: float = 10.0):
        from kubernetes import client

        api = client.ApiClient(configuration)
        self._core = client.CoreV1Api(api)
        self._ext = client.ApiextensionsV1Api(api)
        self._version = client.VersionApi(api)
        self._timeout = timeout_s

    def _ask(self, call: Any, missing_ok: bool = True) -> Any:
        from kubernetes.client.exceptions import ApiException

        try:
            return call()
        except ApiException as exc:
            if exc.status == 404 and missing_ok:
                return None
            raise ProbeError(_reason(exc)) from None
        except Exception as exc:  # noqa: BLE001 - network errors of any kind: one line
            raise ProbeError(_reason(exc)) from None

    def server_version(self) -> str:
        info = self._ask(lambda: self._version.get_code(_request_timeout=self._timeout), missing_ok=False)
        return str(getattr(info, "git_version", "?"))

    def crd_exists(self, name: str) -> bool:
        return self._ask(lambda: self._ext.read_custom_resource_definition(name, _request_timeout=self._timeout)) is not None

    def namespace_exists(self, namespace: str) -> bool:
        return self._ask(lambda: self._core.read_namespace(namespace, _request_timeout=self._timeout)) is not None

    def service_account_exists(self, namespace: str, name: str) -> bool:
        found = self._ask(lambda: self._core.read_namespaced_service_account(name, namespace, _request_timeout=self._timeout))
        return found is not None

    def secret_keys(self, namespace: str, name: str) -> set[str] | None:
        secret = self._ask(lambda: self._core.read_namespaced_secret(name, namespace, _request_timeout=self._timeout))
        if secret is None:
            return None
        return set(secret.data or {}) | set(secret.string_data or {})
