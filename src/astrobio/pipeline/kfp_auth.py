"""Credentials for the KFP API, taken the way KFP's own SDK takes them, and a login check.

kfp 2.13's `kfp.Client` accepts, in this order of precedence here:
1. an existing bearer token (`existing_token=`): `--token` / `$KFP_TOKEN`, e.g. from
   `kubectl -n NS create token default-editor --audience pipelines.kubeflow.org` (multi-user KFP
   authenticates such tokens with a TokenReview for audience pipelines.kubeflow.org:
   kubeflow/pipelines backend/src/apiserver/auth/authenticator_token_review.go);
2. the in-cluster projected service-account token (`credentials=ServiceAccountTokenVolumeCredentials`)
   at `$KF_PIPELINES_SA_TOKEN_PATH` or /var/run/secrets/kubeflow/pipelines/token, refreshed on each call;
3. no host: the kubeconfig (`kube_context=`), through the API server's service proxy to
   `ml-pipeline` in KFP's namespace (standalone KFP; the proxy carries no user identity).
Otherwise the host is called without credentials (a port-forward to a standalone KFP).

A multi-user KFP behind Istio/oauth2-proxy answers an unauthenticated call with a redirect to its
login page (Dex) or 401/403; `probe_host` turns that into one line saying how to pass a token.
"""

from __future__ import annotations

import socket
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from astrobio.errors import UsageError

TOKEN_ENV = "KFP_TOKEN"
SA_TOKEN_PATH_ENV = "KF_PIPELINES_SA_TOKEN_PATH"
"""kfp.client.KF_PIPELINES_SA_TOKEN_ENV (checked against the installed kfp by a test)."""
SA_TOKEN_PATH = Path("/var/run/secrets/kubeflow/pipelines/token")
"""kfp.client.KF_PIPELINES_SA_TOKEN_PATH."""
KFP_NAMESPACE = "kubeflow"
"""Where standalone KFP's `ml-pipeline` Service lives (the kubeconfig proxy path names it)."""
PROBE_TIMEOUT_S = 5.0
REDIRECTS = (301, 302, 303, 307, 308)

Kind = Literal["token", "service-account-token", "kubeconfig", "none"]


@dataclass(frozen=True)
class KfpAuth:
    """How to authenticate to KFP; `token` is never printed (see `describe`)."""

    kind: Kind
    token: str = ""
    token_path: str = ""
    kube_context: str | None = None

    def describe(self) -> str:
        return {"token": "a bearer token (--token/$KFP_TOKEN)",
                "service-account-token": f"the service-account token {self.token_path}",
                "kubeconfig": "the kubeconfig" + (f" context {self.kube_context}" if self.kube_context else ""),
                "none": "no credentials"}[self.kind]

    def bearer(self) -> str:
        """The token a probe sends: the given one, or the projected file's current content."""
        if self.kind == "token":
            return self.token
        if self.kind == "service-account-token":
            try:
                return Path(self.token_path).read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise UsageError(f"cannot read the KFP service-account token {self.token_path}: {exc.strerror}") from None
        return ""


def resolve_auth(host: str | None, env: Mapping[str, str], token: str | None = None,
                 kube_context: str | None = None) -> KfpAuth:
    """Pick the credentials (module docstring order); `env` is passed in, never read here."""
    token = (token or env.get(TOKEN_ENV, "")).strip()
    if token:
        return KfpAuth("token", token=token)
    path = env.get(SA_TOKEN_PATH_ENV, "").strip() or str(SA_TOKEN_PATH)
    if Path(path).is_file():
        return KfpAuth("service-account-token", token_path=path)
    if host is None:
        return KfpAuth("kubeconfig", kube_context=kube_context)
    return KfpAuth("none")


def client_kwargs(auth: KfpAuth, host: str | None, namespace: str | None) -> dict[str, Any]:
    """Keyword arguments for `kfp.Client` (kfp 2.13 signature)."""
    if auth.kind == "kubeconfig":  # Client's namespace is then KFP's own, for the proxy path
        return {"host": None, "kube_context": auth.kube_context, "namespace": KFP_NAMESPACE}
    kwargs: dict[str, Any] = {"host": host}
    if namespace:
        kwargs["namespace"] = namespace
    if auth.kind == "token":
        kwargs["existing_token"] = auth.token
    elif auth.kind == "service-account-token":
        from kfp.client import ServiceAccountTokenVolumeCredentials

        kwargs["credentials"] = ServiceAccountTokenVolumeCredentials(path=auth.token_path)
    return kwargs


def login_hint(host: str, namespace: str | None, why: str) -> str:
    """The one line for an endpoint that wants a login."""
    ns = namespace or "NAMESPACE"
    return (f"KFP at {host} asks for login ({why}); pass a token with --token or ${TOKEN_ENV}, e.g. "
            f"KFP_TOKEN=$(kubectl -n {ns} create token default-editor --audience pipelines.kubeflow.org), "
            f"or run inside the cluster with a projected token at {SA_TOKEN_PATH}")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # surface the 3xx as an HTTPError instead of following it to a login page


def probe_host(host: str, auth: KfpAuth, namespace: str | None = None, timeout_s: float = PROBE_TIMEOUT_S) -> None:
    """Fail fast with one line when nothing answers at `host`, or when it asks for a login.

    kfp.Client would otherwise retry its health check for ~25 s and end in a traceback. Any other
    HTTP answer (even 404) is left to the client.
    """
    url = f"{host}/apis/v2beta1/healthz"
    request = urllib.request.Request(url)
    bearer = auth.bearer()
    if bearer:
        request.add_header("Authorization", f"Bearer {bearer}")
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=timeout_s) as answer:
            kind = answer.headers.get("Content-Type", "")
    except urllib.error.HTTPError as exc:
        location = exc.headers.get("Location", "") if exc.headers else ""
        if exc.code in REDIRECTS:
            raise UsageError(login_hint(host, namespace, f"HTTP {exc.code} redirect to {location.split('?')[0] or '?'}")) from None
        if exc.code in (401, 403):
            raise UsageError(login_hint(host, namespace, f"HTTP {exc.code}")) from None
        return
    except (urllib.error.URLError, socket.timeout, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise UsageError(f"KFP host {host} is unreachable: {reason}") from None
    if kind.startswith("text/html"):  # a login page served with 200 (some oauth2-proxy setups)
        raise UsageError(login_hint(host, namespace, "it answers with an HTML page, not the KFP API"))
