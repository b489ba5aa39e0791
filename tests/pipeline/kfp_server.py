"""A stand-in KFP endpoint behind a login (Dex redirect, 401 or an HTML page) that answers the
health check for one bearer token, served on 127.0.0.1 for the submit and doctor tests."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from typing import Any

import pytest

TOKEN = "eyJ-test-token"


class FakeKfp(http.server.BaseHTTPRequestHandler):
    """A KFP endpoint behind a login: /dex redirect, 401, an HTML page, or JSON for a good token."""

    mode = "dex"

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        if self.headers.get("Authorization") == f"Bearer {TOKEN}":
            self._answer(200, "application/json", b'{"multi_user": true}')
        elif self.mode == "dex":
            self.send_response(302)
            self.send_header("Location", "/dex/auth?client_id=kubeflow-oidc-authservice&state=x")
            self.end_headers()
        elif self.mode == "html":
            self._answer(200, "text/html; charset=utf-8", b"<html>Log in</html>")
        else:
            self._answer(401, "text/plain", b"Unauthorized")

    def _answer(self, code: int, kind: str, body: bytes) -> None:
        self.send_response(code)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        return


@pytest.fixture
def kfp_host() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FakeKfp)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        FakeKfp.mode = "dex"
