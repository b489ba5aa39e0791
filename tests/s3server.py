"""A real S3-protocol server for tests: moto's ThreadedMotoServer on a free local port.

Shared by every test folder that needs S3 (import as `tests.s3server`). Facts it relies on
(../shared/notes/DEPENDENCIES.md, 3e): bind 127.0.0.1 explicitly, clients need secure=False,
werkzeug's request log is silenced via its logger, and moto's state is process-global: it survives
stop()/start(), so tests use unique bucket names instead of relying on a fresh server.
"""

from __future__ import annotations

import json
import logging
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from moto.server import ThreadedMotoServer

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


class S3TestServer:
    """moto's threaded server with a `stop()` that really closes the port, and a `start()` that reopens it.

    ThreadedMotoServer.stop() only stops serving; its listening socket stays open, so clients would
    hang instead of being refused. Closing it makes `stop()` look like a crashed MinIO pod.
    """

    def __init__(self, port: int | None = None) -> None:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self.port = port if port is not None else free_port()
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self.running = False

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
        self._server.start()
        self.running = True

    def stop(self) -> None:
        if not self.running:
            return
        self._server.stop()
        inner = getattr(self._server, "_server", None)  # the werkzeug server; close its listening socket
        if inner is not None:
            inner.server_close()
        self.running = False


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
