"""Finding cluster credentials, with one actionable line when there are none.

Order, as kubectl does it: an explicit `--kubeconfig`, then `$KUBECONFIG` (a path list), then the
in-cluster service account (a KFP launcher pod), then `~/.kube/config`. The environment is passed
in, never read here, so tests can point HOME and KUBECONFIG anywhere.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from astrobio.errors import UsageError

SA_TOKEN = Path("/var/run/secrets/kubernetes.io/serviceaccount/token")


@dataclass(frozen=True)
class ClusterAccess:
    """A loaded client configuration and where it came from (for messages)."""

    configuration: object  # kubernetes.client.Configuration
    source: str


def kubeconfig_paths(env: Mapping[str, str], explicit: Path | None = None) -> tuple[list[Path], str]:
    """The kubeconfig files to load and a description of where they were looked for.
    Empty list when none exists (the description then says what is missing)."""
    if explicit is not None:
        path = Path(explicit).expanduser()
        return ([path] if path.is_file() else []), f"--kubeconfig {path}"
    listed = env.get("KUBECONFIG", "").strip()
    if listed:
        paths = [Path(p).expanduser() for p in listed.split(os.pathsep) if p.strip()]
        return [p for p in paths if p.is_file()], f"KUBECONFIG={listed}"
    home = Path(env["HOME"]) if env.get("HOME") else Path.home()
    default = home / ".kube" / "config"
    return ([default] if default.is_file() else []), str(default)


def in_cluster(env: Mapping[str, str]) -> bool:
    return bool(env.get("KUBERNETES_SERVICE_HOST")) and SA_TOKEN.is_file()


def load_cluster_access(env: Mapping[str, str], explicit: Path | None = None) -> ClusterAccess:
    """Load credentials without touching the kubernetes client's global default configuration."""
    from kubernetes import client, config
    from kubernetes.config.config_exception import ConfigException

    paths, where = kubeconfig_paths(env, explicit)
    configuration = client.Configuration()
    if not paths and explicit is None and not env.get("KUBECONFIG") and in_cluster(env):
        try:
            config.load_incluster_config(client_configuration=configuration)
        except ConfigException as exc:
            raise UsageError(f"in-cluster credentials: {exc}") from None
        return ClusterAccess(configuration, "in-cluster service account")
    if not paths:
        if explicit is not None or env.get("KUBECONFIG"):
            raise UsageError(f"no kubeconfig: {where} names no existing file")
        raise UsageError(f"no kubeconfig: KUBECONFIG is unset and {where} does not exist "
                         "(set KUBECONFIG, pass --kubeconfig, or run inside the cluster)")
    joined = os.pathsep.join(str(p) for p in paths)
    try:
        config.load_kube_config(config_file=joined, client_configuration=configuration)
    except (ConfigException, OSError, ValueError, TypeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
        raise UsageError(f"kubeconfig {joined}: {first}") from None
    return ClusterAccess(configuration, joined)
