"""Start a run of the five-phase pipeline on a KFP server, standalone or multi-user.

Compile -> (dry run: summary, no network) -> pick credentials (`kfp_auth`) -> probe the endpoint
(unreachable or asking for login: one line, exit 2) -> create the run in the user's namespace with
KFP's default runner account unless one is named (pipeline-runner in standalone KFP, default-editor
in a multi-user profile: kubeflow/pipelines manifests/kustomize/base/installs/multi-user/api-service/params.env).
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from astrobio.config import AstrobioConfig
from astrobio.errors import RuntimeFailure, UsageError
from astrobio.config.kube import K8S_NAME
from astrobio.pipeline.compile import render_pipeline
from astrobio.pipeline.kfp_auth import KfpAuth, client_kwargs, login_hint, probe_host, resolve_auth

EXPERIMENT = "astrobio"


def normalise_host(host: str) -> str:
    """`host:port` -> `http://host:port`; a URL is kept; no trailing slash."""
    host = host.strip()
    if not host:
        raise UsageError("empty KFP host; expected e.g. http://localhost:8080")
    return (host if "://" in host else f"http://{host}").rstrip("/")


def _check_name(option: str, value: str | None) -> None:
    if value is not None and not re.fullmatch(K8S_NAME, value):
        raise UsageError(f"{option} {value!r} is not a valid Kubernetes name (lower case, digits, '-')")


def _summary(cfg: AstrobioConfig, path: Path, host: str | None, run_name: str, namespace: str | None,
             service_account: str | None, auth: KfpAuth) -> str:
    from astrobio.catalog import PHASES
    from astrobio.pipeline.kfp_pipeline import PIPELINE_NAME, cluster_store_uri, display_name

    steps = ", ".join(display_name(name) for phase in PHASES for name in phase.components)
    return "\n".join([
        f"dry run: would submit {path} to {host or 'KFP through the kubeconfig'}",
        f"  pipeline {PIPELINE_NAME}, run {run_name!r}, experiment {EXPERIMENT!r}, "
        f"namespace {namespace or '(KFP default)'}, service account {service_account or '(KFP default runner)'}, "
        f"caching {'on' if cfg.kube.kfp_caching else 'off'}, credentials: {auth.describe()}",
        f"  parameters: run_id={cfg.run.effective_run_id} store_uri={cluster_store_uri(cfg)} mode=kubeflow",
        f"  steps: {steps}",
    ])


def submit_pipeline(cfg: AstrobioConfig, host: str | None, run_name: str | None, dry_run: bool, *,
                    namespace: str | None = None, service_account: str | None = None, token: str | None = None,
                    kube_context: str | None = None, env: Mapping[str, str] | None = None,
                    workdir: Path | None = None) -> str:
    """Compile and start a run; return the KFP run id (dry run: a summary naming the compiled file).

    host None: reach KFP through the kubeconfig. namespace: the multi-user profile to run in.
    service_account None: KFP's default runner. Bad input, an unreachable host or an endpoint that
    asks for login are UsageErrors (one line, exit 2).
    """
    host = normalise_host(host) if host is not None else None
    _check_name("--namespace", namespace)
    _check_name("--service-account", service_account)
    auth = resolve_auth(host, env or {}, token, kube_context)
    name = run_name or f"astrobio {cfg.run.effective_run_id}"
    if dry_run:
        root = Path(workdir) if workdir is not None else Path(tempfile.mkdtemp(prefix="astrobio-submit-"))
        return _summary(cfg, render_pipeline(cfg, root)[0], host, name, namespace, service_account, auth)
    if host is not None:
        probe_host(host, auth, namespace)
    with tempfile.TemporaryDirectory(prefix="astrobio-submit-") as tmp:
        path = render_pipeline(cfg, Path(workdir) if workdir is not None else Path(tmp))[0]
        return create_run(cfg, path, name, client_kwargs(auth, host, namespace), namespace, service_account)


def create_run(cfg: AstrobioConfig, path: Path, name: str, kwargs: dict[str, Any], namespace: str | None,
               service_account: str | None, client_factory: Any = None) -> str:
    """`kfp.Client(**kwargs).create_run_from_pipeline_package(...)`, its failures as one line."""
    import kfp_server_api
    import urllib3.exceptions

    where = kwargs.get("host") or "KFP (kubeconfig)"
    try:
        if client_factory is None:
            import kfp

            client_factory = kfp.Client
        client = client_factory(**kwargs)
        result = client.create_run_from_pipeline_package(
            str(path), arguments={}, run_name=name, experiment_name=EXPERIMENT, namespace=namespace,
            enable_caching=cfg.kube.kfp_caching, service_account=service_account)
    except TimeoutError:  # kfp.Client's health check failed 5 times: something answers, but not KFP
        raise UsageError(f"KFP host {where} answers but fails the KFP health check; is it the KFP API address?") from None
    except (urllib3.exceptions.HTTPError, ConnectionError) as exc:
        raise UsageError(f"KFP host {where} is unreachable: {exc.__class__.__name__}") from None
    except kfp_server_api.ApiException as exc:
        if exc.status in (401, 302):
            raise UsageError(login_hint(str(where), namespace, f"HTTP {exc.status}")) from None
        hint = f" (may this identity run pipelines in namespace {namespace}?)" if exc.status == 403 and namespace else ""
        raise RuntimeFailure(f"KFP at {where} refused the run: HTTP {exc.status} {exc.reason}{hint}") from None
    return str(result.run_id)
