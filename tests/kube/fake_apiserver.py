"""A few-route stand-in for the Kubernetes API server (custom objects only), on 127.0.0.1.

Enough for TrainingClient/CustomObjectsApi to create a job and watch it finish: GET of an absent
object answers 404 with a Status body, POST stores the object, later GETs return it with the next
status from a script.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class FakeApiServer:
    def __init__(self, statuses: list[dict[str, Any]]):
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

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                server.requests.append(("GET", self.path))
                if server.created is None:
                    self._send(404, {"kind": "Status", "apiVersion": "v1", "status": "Failure",
                                     "reason": "NotFound", "code": 404, "message": "not found"})
                    return
                status = server.statuses.pop(0) if len(server.statuses) > 1 else server.statuses[0]
                self._send(200, {**server.created, "status": status})

            def do_POST(self) -> None:  # noqa: N802
                server.requests.append(("POST", self.path))
                length = int(self.headers.get("Content-Length", 0))
                server.created = json.loads(self.rfile.read(length))
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
