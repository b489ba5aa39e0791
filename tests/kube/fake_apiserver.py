"""A few-route stand-in for the Kubernetes API server (custom objects only), on 127.0.0.1.

Enough for TrainingClient/CustomObjectsApi to create a job and watch it finish: GET of an absent
object answers 404 with a Status body, POST stores the object, later GETs return it with the next
status from a script. The pre-submit checks read the namespace (`namespace_labels`, None = absent)
and the storage Secret (`secrets`: name -> key names); by default both are there and complete.
"""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


READY_NAMESPACE = {"katib.kubeflow.org/metrics-collector-injection": "enabled",
                   "pod-security.kubernetes.io/enforce": "restricted"}
STORE_KEYS = ("ASTROBIO_S3_ENDPOINT", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
NOT_FOUND = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "NotFound", "code": 404,
             "message": "not found"}


class FakeApiServer:
    def __init__(self, statuses: list[dict[str, Any]], namespace_labels: dict[str, str] | None = READY_NAMESPACE,
                 secrets: dict[str, tuple[str, ...]] | None = None, cluster: dict[str, dict[str, Any]] | None = None,
                 allowed: set[tuple[str, str]] | None = None):
        self.namespace_labels = namespace_labels
        self.cluster = cluster or {}  # exact path -> object, for cluster-scoped reads (CRDs, webhooks, Deployments)
        self.allowed = allowed  # (verb, resource) a SelfSubjectAccessReview allows; None = everything
        self.reviews: list[dict[str, Any]] = []
        self.secrets = {"astrobio-storage": STORE_KEYS} if secrets is None else secrets
        self.statuses = list(statuses)
        self.created: dict[str, Any] | None = None
        self.requests: list[tuple[str, str]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def _send(self, code: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _core(self) -> bool:
                """Namespace and Secret reads of the pre-submit checks; False for other paths."""
                path = self.path.split("?")[0]
                if (m := re.fullmatch(r"/api/v1/namespaces/([^/]+)", path)):
                    if server.namespace_labels is None:
                        self._send(404, NOT_FOUND)
                    else:
                        self._send(200, {"kind": "Namespace", "apiVersion": "v1",
                                         "metadata": {"name": m[1], "labels": server.namespace_labels}})
                    return True
                if (m := re.fullmatch(r"/api/v1/namespaces/([^/]+)/secrets/([^/]+)", path)):
                    keys = server.secrets.get(m[2])
                    if keys is None:
                        self._send(404, NOT_FOUND)
                    else:
                        self._send(200, {"kind": "Secret", "apiVersion": "v1", "metadata": {"name": m[2]},
                                         "data": {k: "eA==" for k in keys}})
                    return True
                if path in server.cluster:
                    self._send(200, server.cluster[path])
                    return True
                if path.startswith(("/apis/apiextensions.k8s.io/", "/apis/admissionregistration.k8s.io/", "/apis/apps/")):
                    self._send(404, NOT_FOUND)
                    return True
                return False

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                server.requests.append(("GET", self.path))
                if self._core():
                    return
                if server.created is None:
                    self._send(404, NOT_FOUND)
                    return
                status = server.statuses.pop(0) if len(server.statuses) > 1 else server.statuses[0]
                self._send(200, {**server.created, "status": status})

            def do_POST(self) -> None:  # noqa: N802
                server.requests.append(("POST", self.path))
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length))
                if self.path.endswith("/selfsubjectaccessreviews"):
                    server.reviews.append(body)
                    attrs = body["spec"]["resourceAttributes"]
                    ok = server.allowed is None or (attrs["verb"], attrs["resource"]) in server.allowed
                    self._send(201, {**body, "status": {"allowed": ok}})
                    return
                server.created = body
                self._send(201, server.created)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def __enter__(self) -> FakeApiServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def kubeconfig(self) -> str:
        return json.dumps({
            "apiVersion": "v1", "kind": "Config", "current-context": "fake",
            "clusters": [{"name": "fake", "cluster": {"server": self.url}}],
            "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "u"}}],
            "users": [{"name": "u", "user": {"token": "fake-token"}}],
        })
