"""A real S3-protocol server for tests: moto's S3 app on a free local port, with faults on demand.

Shared by every test folder that needs S3 (import as `tests.s3server`). Facts it relies on
(docs/DEPENDENCIES.md, 3e): bind 127.0.0.1 explicitly, clients need secure=False,
werkzeug's request log is silenced via its logger, and moto's state is process-global: it survives
stop()/start(), so tests use unique bucket names instead of relying on a fresh server.

The fault suite needs more than moto's ThreadedMotoServer gives: a `stop()` that behaves like a
crashed MinIO pod (port closed *and* open keep-alive connections dropped), a hook that sees every
request so a test can crash the server or answer 5xx at an exact point of an upload, and an ordered
log of what the server did, so a test can prove that COMPLETE never landed before the files.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote

from moto.server import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import BaseWSGIServer, make_server

TEST_ACCESS_KEY = "astrobio-test-access"
TEST_SECRET_KEY = "astrobio-test-secret-do-not-print"
TEST_REGION = "us-east-1"


def free_port() -> int:
    """A TCP port that was free a moment ago (bind to 0, read it, release it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def closed_port() -> int:
    """A local port with nothing listening: connecting to it is refused at once."""
    return free_port()


def unique_bucket(stem: str = "astrobio-test") -> str:
    """A bucket name no other test uses (moto state is shared by the whole test process)."""
    return f"{stem}-{uuid.uuid4().hex[:12]}"


class RecordingSleep:
    """A `sleep` that records the requested delays instead of waiting, so retry tests take no time."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@dataclass(frozen=True)
class S3Request:
    """One request as the server saw it: method, path-style bucket and key, raw query, arrival time."""

    method: str
    bucket: str
    key: str
    query: str
    at: float


@dataclass(frozen=True)
class Served:
    """A request and the status the server answered (0: no answer, the server crashed on it)."""

    request: S3Request
    status: int


@dataclass(frozen=True)
class Crash:
    """Hook verdict: the server dies on this request. `after_write`: the object lands first, the
    answer is lost (the client cannot tell which of the two happened)."""

    after_write: bool = False


@dataclass(frozen=True)
class ErrorReply:
    """Hook verdict: answer with this status instead of serving. `code` set: an S3 XML error, as
    MinIO sends when busy (SlowDown, XMinioServerNotInitialized); None: an HTML page, as an ingress
    or proxy sends when the MinIO pod behind it is gone."""

    status: int = 503
    code: str | None = "ServiceUnavailable"


Verdict = Crash | ErrorReply | None
Hook = Callable[[S3Request], Verdict]


class _DroppedByCrash(ConnectionResetError):
    """Raised inside a handler whose connection the crash closed; werkzeug drops it silently."""


class _Handler(MotoRequestHandler):
    """moto's handler, registering its connection so that a crash can drop every open one."""

    def setup(self) -> None:
        super().setup()
        owner: S3TestServer | None = getattr(self.server, "astrobio_owner", None)
        if owner is not None:
            owner._track(self.connection, add=True)

    def handle_one_request(self) -> None:
        super().handle_one_request()
        owner: S3TestServer | None = getattr(self.server, "astrobio_owner", None)
        if owner is not None and not owner.running:  # dead: never read on (an unread body would parse as a request)
            self.close_connection = True

    def finish(self) -> None:
        owner: S3TestServer | None = getattr(self.server, "astrobio_owner", None)
        if owner is not None:
            owner._track(self.connection, add=False)
        try:
            super().finish()
        except OSError:  # the crash already shut this socket; nothing left to flush
            return


def _error_body(request: S3Request, reply: ErrorReply) -> tuple[str, bytes]:
    if reply.code is None:
        return "text/html", f"<html><body><h1>{reply.status} {HTTPStatus(reply.status).phrase}</h1></body></html>".encode()
    xml = (f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{reply.code}</Code>'
           f"<Message>injected by the test server</Message><Resource>/{request.bucket}/{request.key}</Resource>"
           f"<RequestId>{uuid.uuid4().hex}</RequestId></Error>")
    return "application/xml", xml.encode()


class S3TestServer:
    """moto's S3 app behind a werkzeug server whose `stop()` looks like a crashed MinIO pod.

    `stop()` closes the listening port (new connections are refused) and shuts every open
    connection (a request in flight gets no answer); `start()` reopens the same port with the same
    objects. `hook`, if set, sees each request first and may crash the server or answer an error.
    `served` lists every request with the status it got, in order.
    """

    def __init__(self, port: int | None = None) -> None:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self.port = port if port is not None else free_port()
        self.running = False
        self.hook: Hook | None = None
        self.served: list[Served] = []
        self.crashes: list[float] = []
        self.crashed = threading.Event()
        self._app = DomainDispatcherApplication(create_backend_app)
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[socket.socket] = set()
        self._lock = threading.Lock()

    @property
    def endpoint(self) -> str:
        """host:port, as `minio.Minio` takes it."""
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        """The endpoint with its scheme, as ASTROBIO_S3_ENDPOINT / AWS_ENDPOINT_URL take it."""
        return f"http://{self.endpoint}"

    def env(self, access_key: str = TEST_ACCESS_KEY, secret_key: str = TEST_SECRET_KEY) -> dict[str, str]:
        """An environment mapping for `S3Settings.from_env` / `open_store` pointing at this server."""
        return {
            "ASTROBIO_S3_ENDPOINT": self.url,
            "AWS_ACCESS_KEY_ID": access_key,
            "AWS_SECRET_ACCESS_KEY": secret_key,
            "AWS_REGION": TEST_REGION,
        }

    def start(self) -> None:
        with self._lock:
            if self.running:
                return
            server = make_server("127.0.0.1", self.port, self._wsgi, threaded=True, request_handler=_Handler)
            server.astrobio_owner = self  # type: ignore[attr-defined]
            self._server = server
            self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                            name=f"s3-test-{self.port}", daemon=True)  # stop() within 50 ms
            self._thread.start()
            self.running = True
            self.crashed.clear()

    def stop(self) -> None:
        """Stop serving, close the port and drop every open connection, as a dead pod would."""
        with self._lock:
            if not self.running or self._server is None:
                return
            self._server.shutdown()
            self._server.server_close()
            if self._thread is not None:
                self._thread.join()
            for conn in list(self._connections):
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:  # already closed by its handler: it is dropped either way
                    continue
            self._server, self._thread = None, None
            self.running = False

    def crash(self) -> None:
        """Die now (from any thread, a request handler included); `crashed` is set and the time the port closed kept."""
        self.stop()
        self.crashes.append(time.monotonic())
        self.crashed.set()

    def _track(self, conn: socket.socket, add: bool) -> None:
        with self._lock:
            (self._connections.add if add else self._connections.discard)(conn)

    def _log(self, request: S3Request, status: int) -> None:
        with self._lock:
            self.served.append(Served(request, status))

    def _wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        """WSGI entry: consult the hook, then serve through moto and log the status."""
        path = unquote(environ.get("PATH_INFO", "")).lstrip("/")
        bucket, _, key = path.partition("/")
        request = S3Request(environ["REQUEST_METHOD"], bucket, key, environ.get("QUERY_STRING", ""), time.monotonic())
        verdict = self.hook(request) if self.hook is not None else None
        if isinstance(verdict, ErrorReply):
            content_type, body = _error_body(request, verdict)
            self._log(request, verdict.status)
            start_response(f"{verdict.status} {HTTPStatus(verdict.status).phrase}",  # the unread body: close
                           [("Content-Type", content_type), ("Content-Length", str(len(body))), ("Connection", "close")])
            return [b"" if request.method == "HEAD" else body]
        if isinstance(verdict, Crash) and not verdict.after_write:
            self._log(request, 0)
            self.crash()
            raise _DroppedByCrash("the test server crashed on this request")
        status: list[int] = []

        def recording_start(status_line: str, headers: Any, exc_info: Any = None) -> Any:
            status.append(int(status_line.split()[0]))
            return start_response(status_line, headers, exc_info) if not isinstance(verdict, Crash) else None

        body = list(self._app(environ, recording_start))
        if isinstance(verdict, Crash):  # the object is stored; the answer never leaves
            self._log(request, 0)
            self.crash()
            raise _DroppedByCrash("the test server crashed before answering")
        self._log(request, status[0] if status else 0)
        return body


@contextmanager
def running_s3_server() -> Iterator[S3TestServer]:
    """Start a server on a free port for the duration of the block."""
    server = S3TestServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


def create_iam_credentials(server: S3TestServer) -> tuple[str, str]:
    """Create an IAM user allowed s3:* and return its (access key, secret key).

    Only meaningful with moto's IAM checks on (`moto.core.authorization.enable_iam_authentication`);
    call it before enabling them, since creating users needs no credentials while checks are off.
    """
    import boto3  # moto[server] depends on boto3; imported here so plain S3 tests do not pay for it

    iam = boto3.client(
        "iam",
        endpoint_url=server.url,
        aws_access_key_id=TEST_ACCESS_KEY,
        aws_secret_access_key=TEST_SECRET_KEY,
        region_name=TEST_REGION,
    )
    user = f"astrobio-{uuid.uuid4().hex[:8]}"
    iam.create_user(UserName=user)
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
    iam.put_user_policy(UserName=user, PolicyName="s3-all", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=user)["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]
