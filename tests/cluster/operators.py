"""The upstream CRDs and the Kubeflow Training Operator v1.9, run out of cluster against the test
API server with its validating webhook reached at a 127.0.0.1 URL.

The operator's cert rotator (open-policy-agent/cert-controller, wired in training-operator
pkg/cert/cert.go) keeps the Secret `training-operator-webhook-cert` when it already holds a valid CA
and server cert for `training-operator.kubeflow.svc`, and injects its CA into the webhook
configuration `validator.training-operator.kubeflow.org` (cmd/training-operator.v1/main.go). So the
harness seeds that Secret with a cert that also names 127.0.0.1, writes the same files to the
operator's fixed cert dir, and points the webhook at https://127.0.0.1:PORT: no Service networking,
no restart. Webhook rules follow upstream manifests/base/webhook/manifests.yaml.
"""

from __future__ import annotations

import base64
import time
import urllib.request
from pathlib import Path
from typing import Any

import yaml

from astrobio.kube.validate import default_schema_dir

from . import gobuild
from .pki import make_ca, make_serving_cert
from .plane import ControlPlane
from .processes import free_port

OPERATOR_NS = "kubeflow"
OPERATOR_CERT_DIR = Path("/tmp/k8s-webhook-server/serving-certs")  # hard-coded in pkg/cert/cert.go
WEBHOOK_CONFIG = "validator.training-operator.kubeflow.org"


def install_crds(client: Any, timeout_s: float = 60) -> list[str]:
    """Create every CRD the package ships and wait until each is Established."""
    from kubernetes import client as k8s

    ext = k8s.ApiextensionsV1Api(client)
    names = []
    for path in sorted((default_schema_dir() / "crds").glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc and doc.get("kind") == "CustomResourceDefinition":
                ext.create_custom_resource_definition(doc)
                names.append(doc["metadata"]["name"])
    deadline = time.monotonic() + timeout_s
    for name in names:
        while not any(c.type == "Established" and c.status == "True"
                      for c in (ext.read_custom_resource_definition(name).status.conditions or [])):
            if time.monotonic() > deadline:
                raise RuntimeError(f"CRD {name} not Established after {timeout_s:.0f}s")
            time.sleep(0.2)
    return names


def _seed_webhook_secret(client: Any, secret: str, ca_name: str, dns: str) -> dict[str, bytes]:
    """The Secret the cert rotator would make (its own CA, whose SAN must be `ca_name`, and a
    server cert for `dns`), with 127.0.0.1 added to the server cert; returns its files."""
    from kubernetes import client as k8s

    ca, ca_key, ca_cert = make_ca(ca_name)
    pair = make_serving_cert(ca_key, ca_cert, [dns])
    files = {"ca.crt": ca.cert_pem, "ca.key": ca.key_pem, "tls.crt": pair.cert_pem, "tls.key": pair.key_pem}
    k8s.CoreV1Api(client).create_namespaced_secret(OPERATOR_NS, {
        "metadata": {"name": secret, "namespace": OPERATOR_NS},
        "data": {k: base64.b64encode(v).decode() for k, v in files.items()}})
    return files


def _validating_webhook(port: int, ca: bytes) -> dict[str, Any]:
    return {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingWebhookConfiguration",
            "metadata": {"name": WEBHOOK_CONFIG},
            "webhooks": [{
                "name": "validator.pytorchjob.training-operator.kubeflow.org",
                "admissionReviewVersions": ["v1"], "sideEffects": "None", "failurePolicy": "Fail",
                "clientConfig": {"url": f"https://127.0.0.1:{port}/validate-kubeflow-org-v1-pytorchjob",
                                 "caBundle": base64.b64encode(ca).decode()},
                "rules": [{"apiGroups": ["kubeflow.org"], "apiVersions": ["v1"],
                           "operations": ["CREATE", "UPDATE"], "resources": ["pytorchjobs"]}]}]}


def start_training_operator(plane: ControlPlane, client: Any) -> float:
    """Namespace, seeded Secret, webhook configuration, then the operator until its /readyz."""
    from kubernetes import client as k8s

    k8s.CoreV1Api(client).create_namespace({"metadata": {"name": OPERATOR_NS}})
    files = _seed_webhook_secret(client, "training-operator-webhook-cert", "training-operator-ca",
                                 "training-operator.kubeflow.svc")
    OPERATOR_CERT_DIR.mkdir(parents=True, exist_ok=True)
    for name in ("ca.crt", "tls.crt", "tls.key"):
        (OPERATOR_CERT_DIR / name).write_bytes(files[name])
    webhook_port, probe_port = free_port(), free_port()
    k8s.AdmissionregistrationV1Api(client).create_validating_webhook_configuration(_validating_webhook(webhook_port, files["ca.crt"]))
    plane.procs.start("training-operator", [
        str(gobuild.binary_path("training-operator")), "--enable-scheme=pytorchjob",
        f"--metrics-bind-address=127.0.0.1:{free_port()}", f"--health-probe-bind-address=127.0.0.1:{probe_port}",
        f"--webhook-server-port={webhook_port}"],
        env={"KUBECONFIG": str(plane.kubeconfig()), "MY_POD_NAMESPACE": OPERATOR_NS})

    def ready() -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{probe_port}/readyz", timeout=2) as resp:
                return resp.status == 200
        except urllib.error.HTTPError:
            return False
    return plane.procs.wait_until("training-operator", ready, 60)
