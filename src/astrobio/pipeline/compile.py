"""Compile the pipeline and its components to YAML, and submit a run to a KFP server.

`render_pipeline` is what `astrobio render` writes to `pipelines/` and `components/`; a test renders
again and compares byte for byte. The KFP 2.13 compiler output is already deterministic (no
timestamps; the only version stamp is `sdkVersion: kfp-2.13.0`, pinned in constraints.txt), so
nothing is normalised: the files are exactly what `kfp.compiler.Compiler` writes.
"""

from __future__ import annotations

import socket
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

from astrobio.config import AstrobioConfig
from astrobio.errors import RuntimeFailure, UsageError

PIPELINES_DIR = "pipelines"
COMPONENTS_DIR = "components"
EXPERIMENT = "astrobio"
PROBE_TIMEOUT_S = 5.0


def pipeline_file(root: Path) -> Path:
    from astrobio.pipeline.kfp_pipeline import PIPELINE_NAME

    return Path(root) / PIPELINES_DIR / f"{PIPELINE_NAME}.yaml"


def render_pipeline(cfg: AstrobioConfig, root: Path) -> list[Path]:
    """Write `root/pipelines/astrobio-five-phase.yaml` and `root/components/<step>.yaml`; return the paths.

    Components are compiled one by one with the same image as the pipeline, so each file can be
    loaded in the KFP UI or with `kfp.components.load_component_from_file` on its own.
    """
    from kfp import compiler

    from astrobio.pipeline.kfp_components import build_components, launcher_image
    from astrobio.pipeline.kfp_pipeline import build_pipeline

    target = pipeline_file(root)
    target.parent.mkdir(parents=True, exist_ok=True)
    compiler.Compiler().compile(build_pipeline(cfg), str(target))
    written = [target]
    components_dir = Path(root) / COMPONENTS_DIR
    components_dir.mkdir(parents=True, exist_ok=True)
    for component in build_components(launcher_image(cfg.kube)).values():
        path = components_dir / f"{component.name}.yaml"
        compiler.Compiler().compile(component, str(path))
        written.append(path)
    return written


def normalise_host(host: str) -> str:
    """`host:port` -> `http://host:port`; a URL is kept; no trailing slash."""
    host = host.strip()
    if not host:
        raise UsageError("empty KFP host; expected e.g. http://localhost:8080")
    return (host if "://" in host else f"http://{host}").rstrip("/")


def probe_host(host: str, timeout_s: float = PROBE_TIMEOUT_S) -> None:
    """Fail fast with one line if nothing answers at `host` (any HTTP answer, even 401/404, is fine).

    kfp.Client would otherwise retry its health check for ~25 s and end in a traceback.
    """
    url = f"{host}/apis/v2beta1/healthz"
    try:
        with urllib.request.urlopen(url, timeout=timeout_s):  # noqa: S310 - the user's own KFP endpoint
            return
    except urllib.error.HTTPError:
        return
    except (urllib.error.URLError, socket.timeout, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise UsageError(f"KFP host {host} is unreachable: {reason}") from None


def _summary(cfg: AstrobioConfig, path: Path, host: str, run_name: str) -> str:
    from astrobio.phases.graph import PHASES
    from astrobio.pipeline.kfp_pipeline import PIPELINE_NAME, display_name

    steps = ", ".join(display_name(name) for phase in PHASES for name in phase.components)
    return "\n".join([
        f"dry run: would submit {path} to {host}",
        f"  pipeline {PIPELINE_NAME}, run {run_name!r}, experiment {EXPERIMENT!r}, "
        f"service account {cfg.kube.service_account}, caching {'on' if cfg.kube.kfp_caching else 'off'}",
        f"  parameters: run_id={cfg.run.effective_run_id} store_uri={cfg.store.uri} mode=kubeflow",
        f"  steps: {steps}",
    ])


def submit_pipeline(cfg: AstrobioConfig, host: str, run_name: str | None, dry_run: bool,
                    *, workdir: Path | None = None) -> str:
    """Compile and start a run of the pipeline on the KFP server at `host`; return the KFP run id.

    dry_run: compile only (into `workdir`, default a new temp folder that is kept) and return a
    summary naming the YAML file; no network. An unreachable host is a UsageError naming it.
    """
    host = normalise_host(host)
    name = run_name or f"astrobio {cfg.run.effective_run_id}"
    if dry_run:
        root = Path(workdir) if workdir is not None else Path(tempfile.mkdtemp(prefix="astrobio-submit-"))
        path = render_pipeline(cfg, root)[0]
        return _summary(cfg, path, host, name)
    probe_host(host)
    with tempfile.TemporaryDirectory(prefix="astrobio-submit-") as tmp:
        path = render_pipeline(cfg, Path(workdir) if workdir is not None else Path(tmp))[0]
        return _create_run(cfg, host, name, path)


def _create_run(cfg: AstrobioConfig, host: str, name: str, path: Path) -> str:
    import kfp
    import kfp_server_api
    import urllib3.exceptions

    try:
        client = kfp.Client(host=host)
        result = client.create_run_from_pipeline_package(
            str(path), arguments={}, run_name=name, experiment_name=EXPERIMENT,
            enable_caching=cfg.kube.kfp_caching, service_account=cfg.kube.service_account)
    except TimeoutError:  # kfp.Client's health check failed 5 times: something answers, but not KFP
        raise UsageError(f"KFP host {host} answers but fails the KFP health check; is it the KFP API address?") from None
    except (urllib3.exceptions.HTTPError, ConnectionError) as exc:
        raise UsageError(f"KFP host {host} is unreachable: {exc.__class__.__name__}") from None
    except kfp_server_api.ApiException as exc:
        raise RuntimeFailure(f"KFP at {host} refused the run: HTTP {exc.status} {exc.reason}") from None
    return str(result.run_id)
