"""Who the step pod is: its namespace, name and uid, for the PyTorchJob it creates.

A launcher step creates its PyTorchJob in the pod's own namespace (standalone KFP runs steps in
`kubeflow`, multi-user KFP in the user's profile namespace: neither is known when the pipeline is
compiled) and makes the pod the job's owner, so Kubernetes' garbage collector deletes the job when
the run's pods go, even if the step was killed before its SIGTERM handler could.

The compiled pipeline maps POD_FIELD_ENV through the downward API (kfp-kubernetes
`use_field_path_as_env`); without it (an older pipeline, a step run by hand in a pod) the namespace
comes from the service-account namespace file, the same file KFP's own launcher reads
(kubeflow/pipelines backend/src/v2/config/env.go, `InPodNamespace`). Outside a pod there is no
identity and the config's `kube.namespace` is used.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

NAMESPACE_ENV = "ASTROBIO_POD_NAMESPACE"
NAME_ENV = "ASTROBIO_POD_NAME"
UID_ENV = "ASTROBIO_POD_UID"
POD_FIELD_ENV = {NAMESPACE_ENV: "metadata.namespace", NAME_ENV: "metadata.name", UID_ENV: "metadata.uid"}
"""Env var -> downward-API field path, set on every step of the compiled pipeline."""
NAMESPACE_FILE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")


@dataclass(frozen=True)
class PodIdentity:
    """The step pod as the API knows it; name/uid empty when unknown (then no ownerReference)."""

    namespace: str
    name: str = ""
    uid: str = ""
    source: str = ""

    def owner_reference(self) -> dict[str, object] | None:
        """An ownerReference to this pod (not a controller, no blockOwnerDeletion: that would need
        update rights on pods/finalizers), or None when the pod's name or uid is unknown."""
        if not (self.name and self.uid):
            return None
        return {"apiVersion": "v1", "kind": "Pod", "name": self.name, "uid": self.uid}


def pod_identity(env: Mapping[str, str], fallback_namespace: str,
                 namespace_file: Path = NAMESPACE_FILE) -> PodIdentity:
    """The step pod's identity from the downward-API env, else the namespace file, else the config."""
    name, uid = env.get(NAME_ENV, "").strip(), env.get(UID_ENV, "").strip()
    namespace = env.get(NAMESPACE_ENV, "").strip()
    if namespace:
        return PodIdentity(namespace, name, uid, f"${NAMESPACE_ENV}")
    try:
        namespace = namespace_file.read_text(encoding="utf-8").strip()
    except OSError:
        namespace = ""
    if namespace:
        return PodIdentity(namespace, name, uid, str(namespace_file))
    return PodIdentity(fallback_namespace, name, uid, "kube.namespace (not in a pod)")
