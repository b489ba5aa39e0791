"""`astrobio doctor`: is this machine, and the cluster it points at, ready to train?

Each check gives one line: pass/fail/warn/skip, what was found, and the fix. Local checks (Python,
torch, torchrun, artifact store) always run; cluster checks (credentials, API server, Training
Operator, CRDs, namespace with its Pod Security level and Katib label, service account, RBAC,
storage Secret; see kube.checks.cluster) run when a kubeconfig or in-cluster account exists
and are reported as skipped otherwise; the KFP endpoint is checked when one is given. Checks
return data; `render_report` turns them into text, so both are testable without a cluster.
Reliability and security checks of this machine (secrets in the config file, disk space, the
output folder's checkpoints, the last vulnerability audit) live in `doctor.local`.
"""

from __future__ import annotations

import os
import shutil
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path

from astrobio.config import AstrobioConfig
from astrobio.errors import AstrobioError
from astrobio.kube.checks.check import Check, Status
from astrobio.doctor.kfp import KfpKubeProbe, KfpProbe, kfp_namespace_checks, pipeline_presence_check
from astrobio.kube.checks.cluster import SECRET_KEYS, cluster_checks
from astrobio.doctor.local import audit_check, checkpoints_check, config_secrets_check, disk_check
from astrobio.kube.checks.probe import ClusterProbe, KubeProbe
from astrobio.store.settings import redact_userinfo

__all__ = ["Check", "Status", "run_doctor", "render_report", "failures"]


def local_checks(cfg: AstrobioConfig, env: Mapping[str, str],
                 which: Callable[[str], str | None] = shutil.which) -> list[Check]:
    """Python, torch, torchrun and the artifact store, as seen from this machine."""
    py = sys.version_info
    checks = [Check("python", "pass" if py >= (3, 11) else "fail", f"Python {py.major}.{py.minor}.{py.micro}",
                    "use Python 3.11")]
    try:
        import torch

        gpu = f"{torch.cuda.device_count()} CUDA device(s)" if torch.cuda.is_available() else "CPU only"
        checks.append(Check("torch", "pass", f"torch {torch.__version__}, {gpu}"))
    except ImportError as exc:
        checks.append(Check("torch", "fail", f"cannot import torch: {exc}", "pip install -c constraints.txt -e ."))
    checks.append(torchrun_check(which))
    checks.append(store_check(cfg.store.uri, env))
    return checks


def torchrun_check(which: Callable[[str], str | None] = shutil.which) -> Check:
    """torchrun launches every rank in the pods and for `astrobio train --nproc` here."""
    found = which("torchrun")
    if found:
        return Check("torchrun", "pass", found)
    sibling = Path(sys.executable).parent / "torchrun"
    if sibling.is_file():
        return Check("torchrun", "pass", f"{sibling} (its folder is not on PATH)")
    import importlib.util

    if importlib.util.find_spec("torch.distributed.run") is not None:
        return Check("torchrun", "warn", "no torchrun script; `python -m torch.distributed.run` works",
                     "reinstall torch to get the torchrun entry point")
    return Check("torchrun", "fail", "torch.distributed.run is missing", "install torch: pip install -c constraints.txt -e .")


def store_check(uri: str, env: Mapping[str, str]) -> Check:
    """The artifact store: an s3:// bucket is reached with the keys in `env`; a local folder is
    only inspected (doctor creates nothing)."""
    if uri.lower().startswith("s3://"):
        from astrobio.store import open_store

        shown = redact_userinfo(uri)
        if "@" in uri[len("s3://"):].split("/", 1)[0]:  # never echo it: the part before @ is a key
            return Check("store", "fail", f"{shown}: user info in store.uri",
                         f"use s3://bucket/prefix and set {', '.join(SECRET_KEYS)} in the environment")
        try:
            open_store(uri, env).check()
        except AstrobioError as exc:
            return Check("store", "fail", f"{shown}: {redact_userinfo(str(exc))}",
                         f"set {', '.join(SECRET_KEYS)} and create the bucket")
        return Check("store", "pass", f"{shown} reachable with the configured keys")
    path = Path(uri[len("file://"):] if uri.startswith("file://") else uri)
    probe = path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if probe.is_dir() and os.access(probe, os.W_OK | os.X_OK):
        where = "exists" if probe == path else f"would be created under {probe}"
        return Check("store", "pass", f"local store {uri} {where} (pods on a cluster need an s3:// store)")
    return Check("store", "fail", f"local store {uri}: {probe} is not a writable folder", "choose a writable store.uri")


def kfp_check(host: str, opener: Callable[..., object] = urllib.request.urlopen, timeout_s: float = 5.0) -> Check:
    """GET <host>/apis/v2beta1/healthz: any answer below 500 means the endpoint is there."""
    url = host.rstrip("/") + "/apis/v2beta1/healthz"
    try:
        opener(url, timeout=timeout_s)
    except urllib.error.HTTPError as exc:
        if exc.code in (401, 403):
            return Check("kfp", "warn", f"{url}: HTTP {exc.code} (reachable, needs authentication)",
                         "pass credentials to the KFP client (e.g. a port-forward to ml-pipeline-ui)")
        if exc.code < 500:
            return Check("kfp", "pass", f"{url}: HTTP {exc.code}")
        return Check("kfp", "fail", f"{url}: HTTP {exc.code}", "check the ml-pipeline deployment")
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return Check("kfp", "fail", f"{url}: {reason}", "check --kfp-host (e.g. kubectl port-forward svc/ml-pipeline-ui 8080:80)")
    return Check("kfp", "pass", f"{url} answers")


def _local_store(uri: str) -> Path | None:
    if uri.lower().startswith("s3://"):
        return None
    return Path(uri[len("file://"):] if uri.startswith("file://") else uri)


def reliability_checks(cfg: AstrobioConfig, config: Path | None, output: Path | None,
                       audit_report: Path | None) -> list[Check]:
    """Secrets in the config file, disk space (at `output`, else run.output_root, and a local
    store), the checkpoints under `output` when given, and the last `make audit` result."""
    places = {"output": output if output is not None else Path(cfg.run.output_root)}
    store = _local_store(cfg.store.uri)
    if store is not None:
        places["store"] = store
    checks = [config_secrets_check(config), disk_check(places), checkpoints_check(output)]
    if audit_report is not None:
        checks.append(audit_check(audit_report))
    return checks


def run_doctor(cfg: AstrobioConfig, env: Mapping[str, str], kubeconfig: Path | None = None,
               kfp_host: str | None = None,
               probe_factory: Callable[[object], ClusterProbe] = KubeProbe, *,
               config: Path | None = None, output: Path | None = None,
               audit_report: Path | None = None,
               kfp_probe_factory: Callable[[object], KfpProbe] = KfpKubeProbe) -> list[Check]:
    """All checks, in the order they are printed."""
    from astrobio.kube.cluster import load_cluster_access

    checks = local_checks(cfg, env) + reliability_checks(cfg, config, output, audit_report)
    try:
        access = load_cluster_access(env, kubeconfig)
    except AstrobioError as exc:
        checks.append(Check("cluster", "skip", f"cluster checks skipped: {exc}"))
    else:
        checks.append(Check("kubeconfig", "pass", access.source))
        checks += cluster_checks(cfg, probe_factory(access.configuration))
        if any(c.name == "api-server" and c.status == "pass" for c in checks):  # then the KFP questions too
            checks += kfp_namespace_checks(cfg, kfp_probe_factory(access.configuration))
    if kfp_host:
        checks.append(kfp_check(kfp_host))
        checks.append(pipeline_presence_check(kfp_host, env, cfg.kube.namespace))
    return checks


def render_report(checks: list[Check]) -> str:
    """One line per check: `[PASS] name: detail` and, for problems, `-> fix`; then a summary."""
    lines = []
    for c in checks:
        line = f"[{c.status.upper():4s}] {c.name}: {c.detail}"
        if c.fix and c.status in ("fail", "warn"):
            line += f" -> {c.fix}"
        lines.append(line)
    counts = {s: sum(c.status == s for c in checks) for s in ("pass", "fail", "warn", "skip")}
    lines.append(", ".join(f"{n} {s}" for s, n in counts.items() if n) or "no checks")
    return "\n".join(lines)


def failures(checks: list[Check]) -> list[Check]:
    return [c for c in checks if c.status == "fail"]
