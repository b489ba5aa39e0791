"""S3Store against a real S3-protocol server (moto) through the minio client.

Covers the round trip (multipart included), credential errors (moto's IAM checks switched on),
an unreachable endpoint, retries over a flaky connection, and an outage in the middle of a publish.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import minio
import pytest
import urllib3
from moto.core.authorization import enable_iam_authentication

from astrobio.errors import EXIT_TRANSIENT, RuntimeFailure, TransientFailure, UsageError
from astrobio.store import (
    COMPLETE,
    KeyNotFound,
    RetryPolicy,
    S3Settings,
    S3Store,
    artifact_prefix,
    build_client,
    fetch_dir,
    is_complete,
    open_store,
    publish_dir,
)
from tests.s3server import RecordingSleep, S3TestServer, closed_port, create_iam_credentials, unique_bucket

MIB = 1 << 20


def store_for(server_env: dict[str, str], bucket: str, retry: RetryPolicy, prefix: str = "") -> S3Store:
    settings = S3Settings.from_env(server_env)
    return S3Store(bucket, prefix, build_client(settings), settings.url, retry)


def test_round_trip(s3_store: S3Store, tmp_path: Path) -> None:
    s3_store.put_bytes("runs/r1/a.bin", b"\x00payload")
    assert s3_store.get_bytes("runs/r1/a.bin") == b"\x00payload"
    assert s3_store.exists("runs/r1/a.bin")
    assert not s3_store.exists("runs/r1/missing")
    assert not s3_store.exists("runs/r1")

    s3_store.put_bytes("runs/r10/x", b"other")
    s3_store.put_bytes("runs/r1/sub/b.txt", b"b")
    assert s3_store.list("runs/r1") == ["runs/r1/a.bin", "runs/r1/sub/b.txt"]
    assert s3_store.list() == ["runs/r1/a.bin", "runs/r1/sub/b.txt", "runs/r10/x"]
    assert s3_store.list("nothing") == []

    s3_store.delete("runs/r1/a.bin")
    assert not s3_store.exists("runs/r1/a.bin")
    s3_store.delete("runs/r1/a.bin")  # idempotent
    with pytest.raises(KeyNotFound, match="runs/r1/a.bin"):
        s3_store.get_bytes("runs/r1/a.bin")
    with pytest.raises(KeyNotFound):
        s3_store.get_file("runs/r1/a.bin", tmp_path / "never")
    assert not (tmp_path / "never").exists()


def test_keys_live_under_the_store_prefix(s3_server: S3TestServer, s3_store: S3Store) -> None:
    s3_store.put_bytes("k", b"v")
    raw = build_client(S3Settings.from_env(s3_server.env()))
    assert [o.object_name for o in raw.list_objects(s3_store.bucket, recursive=True)] == ["base/k"]
    assert s3_store.uri == f"s3://{s3_store.bucket}/base"


def test_large_file_goes_multipart_and_downloads_atomically(s3_server: S3TestServer, s3_store: S3Store, tmp_path: Path) -> None:
    source = tmp_path / "big.bin"
    data = os.urandom(6 * MIB + 123)
    source.write_bytes(data)
    s3_store.put_file("big.bin", source)

    raw = build_client(S3Settings.from_env(s3_server.env()))
    etag = raw.stat_object(s3_store.bucket, "base/big.bin").etag
    assert etag is not None and etag.endswith("-2")  # two parts: multipart really happened

    dest = tmp_path / "out" / "big.bin"
    s3_store.get_file("big.bin", dest)
    assert dest.read_bytes() == data
    assert [p.name for p in dest.parent.iterdir()] == ["big.bin"]  # no temp file left


def test_publish_and_fetch_round_trip(s3_store: S3Store, tmp_path: Path) -> None:
    (tmp_path / "src" / "sub").mkdir(parents=True)
    (tmp_path / "src" / "model.bin").write_bytes(b"w" * 1000)
    (tmp_path / "src" / "sub" / "metrics.jsonl").write_bytes(b"{}\n")
    prefix = artifact_prefix("r1", "pretrain", "graph_vae")
    publish_dir(s3_store, tmp_path / "src", prefix)
    assert is_complete(s3_store, prefix)
    fetch_dir(s3_store, prefix, tmp_path / "dst")
    assert (tmp_path / "dst" / "sub" / "metrics.jsonl").read_bytes() == b"{}\n"


def test_missing_bucket_is_a_usage_error_naming_it(s3_server: S3TestServer, fast_retry: RetryPolicy) -> None:
    bucket = unique_bucket()
    store = store_for(s3_server.env(), bucket, fast_retry)
    with pytest.raises(UsageError, match=bucket):
        store.check()
    with pytest.raises(UsageError, match=f"bucket '{bucket}' does not exist"):
        store.put_bytes("k", b"v")
    assert store.ensure_bucket() is True
    assert store.ensure_bucket() is False
    store.check()
    store.put_bytes("k", b"v")


def test_open_store_with_env_reaches_the_server(s3_server: S3TestServer) -> None:
    bucket = unique_bucket()
    store = open_store(f"s3://{bucket}/pre", s3_server.env())
    assert isinstance(store, S3Store)
    store.ensure_bucket()
    store.put_bytes("x", b"1")
    assert store.list() == ["x"]


def test_wrong_credentials_are_a_usage_error_without_retry(
    s3_server: S3TestServer, sleeps: RecordingSleep, fast_retry: RetryPolicy,
) -> None:
    """moto checks credentials only with its IAM simulation on (INITIAL_NO_AUTH_ACTION_COUNT / enable_iam_authentication)."""
    access, secret = create_iam_credentials(s3_server)
    bucket = unique_bucket()
    with enable_iam_authentication():
        good = store_for(s3_server.env(access, secret), bucket, fast_retry)
        good.ensure_bucket()
        good.put_bytes("k", b"v")

        unknown_key = store_for(s3_server.env("AKIAUNKNOWN000000000", "whatever-secret"), bucket, fast_retry)
        with pytest.raises(UsageError) as info:
            unknown_key.put_bytes("k2", b"v")
        assert "InvalidAccessKeyId" in str(info.value) and s3_server.url in str(info.value)
        assert "whatever-secret" not in str(info.value)

        wrong_secret = store_for(s3_server.env(access, "not-the-secret"), bucket, fast_retry)
        with pytest.raises(UsageError, match="SignatureDoesNotMatch") as info:
            wrong_secret.get_bytes("k")
        assert s3_server.url in str(info.value) and "not-the-secret" not in str(info.value)
        with pytest.raises(UsageError, match="refused the credentials"):
            wrong_secret.check()
    assert sleeps.calls == []  # never retried


def test_unreachable_endpoint_fails_fast_naming_it(sleeps: RecordingSleep) -> None:
    port = closed_port()
    env = {
        "ASTROBIO_S3_ENDPOINT": f"http://127.0.0.1:{port}",
        "AWS_ACCESS_KEY_ID": "a",
        "AWS_SECRET_ACCESS_KEY": "s",
        "AWS_REGION": "us-east-1",
    }
    store = open_store("s3://some-bucket/p", env, retry=RetryPolicy(sleep=sleeps))  # the default schedule, sleeps recorded
    start = time.monotonic()
    with pytest.raises(TransientFailure) as at_start:
        store.check()
    with pytest.raises(TransientFailure) as mid_run:
        store.put_bytes("runs/r1/x", b"v")
    elapsed = time.monotonic() - start
    assert elapsed < 5
    assert f"127.0.0.1:{port}" in str(at_start.value)
    message = str(mid_run.value)
    assert f"127.0.0.1:{port}" in message and "some-bucket" in message and "runs/r1/x" in message
    assert "after 4 attempts" in message
    assert at_start.value.exit_code == mid_run.value.exit_code == EXIT_TRANSIENT >= 128  # ExitCode retries it
    assert len(sleeps.calls) == 6 and sum(sleeps.calls) < 10  # what a real run would have waited


def test_client_has_no_urllib3_retries_and_a_short_connect_timeout() -> None:
    env = {"ASTROBIO_S3_ENDPOINT": "minio:9000", "AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "s"}
    settings = S3Settings.from_env(env)
    pool = build_client(settings)._http
    retries = pool.connection_pool_kw["retries"]
    assert retries is False or (retries.total is False and retries.redirect in (0, False))
    assert pool.connection_pool_kw["timeout"].connect_timeout <= 5


class FlakyClient:
    """Delegates to a real minio client but makes the first `failures` put_object calls drop the connection."""

    def __init__(self, inner: minio.Minio, failures: int) -> None:
        self._inner = inner
        self.failures = failures
        self.put_calls = 0

    def put_object(self, *args: Any, **kwargs: Any) -> Any:
        self.put_calls += 1
        if self.put_calls <= self.failures:
            raise urllib3.exceptions.ProtocolError("Connection aborted.", ConnectionResetError(104, "reset"))
        return self._inner.put_object(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def test_transient_failures_are_retried_with_backoff(
    s3_server: S3TestServer, s3_store: S3Store, sleeps: RecordingSleep, fast_retry: RetryPolicy,
) -> None:
    flaky = FlakyClient(build_client(S3Settings.from_env(s3_server.env())), failures=2)
    store = S3Store(s3_store.bucket, "base", flaky, s3_server.url, fast_retry)  # type: ignore[arg-type]
    store.put_bytes("k", b"made it")
    assert flaky.put_calls == 3
    assert sleeps.calls == pytest.approx([0.1 * 1.05, 0.2 * 1.05])
    assert s3_store.get_bytes("k") == b"made it"


def test_too_many_transient_failures_give_a_runtime_failure(
    s3_server: S3TestServer, s3_store: S3Store, sleeps: RecordingSleep, fast_retry: RetryPolicy,
) -> None:
    flaky = FlakyClient(build_client(S3Settings.from_env(s3_server.env())), failures=3)
    store = S3Store(s3_store.bucket, "base", flaky, s3_server.url, fast_retry)  # type: ignore[arg-type]
    with pytest.raises(RuntimeFailure, match="after 3 attempts") as info:
        store.put_bytes("k", b"never")
    assert s3_server.url in str(info.value) and s3_store.bucket in str(info.value) and "'k'" in str(info.value)
    assert len(sleeps.calls) == 2
    assert not s3_store.exists("k")


class OutageAfterFirstUpload(S3Store):
    """Stops the server right after the first file of a publish lands: a MinIO pod dying mid-publish."""

    server: S3TestServer

    def put_file(self, key: str, path: Path) -> None:
        super().put_file(key, path)
        self.server.stop()


def test_outage_mid_publish_leaves_no_complete_and_a_republish_recovers(
    s3_server: S3TestServer, s3_store: S3Store, tmp_path: Path, fast_retry: RetryPolicy,
) -> None:
    src = tmp_path / "src"
    src.mkdir()
    for name in ("a.bin", "b.bin", "c.bin"):
        (src / name).write_bytes(name.encode() * 100)
    prefix = artifact_prefix("r1", "pretrain", "causal")
    publish_dir(s3_store, src, prefix)  # an earlier complete publish, to be replaced
    assert is_complete(s3_store, prefix)
    (src / "a.bin").write_bytes(b"new weights")

    settings = S3Settings.from_env(s3_server.env())
    dying = OutageAfterFirstUpload(s3_store.bucket, "base", build_client(settings), settings.url, fast_retry)
    dying.server = s3_server
    with pytest.raises(RuntimeFailure) as info:
        publish_dir(dying, src, prefix)
    message = str(info.value)
    # files upload in parallel: the outage hits whichever key was still in flight (a file or the manifest)
    failed = [k for k in ("a.bin", "b.bin", "c.bin", "MANIFEST.json") if f"{prefix}/{k}" in message]
    assert s3_server.url in message and s3_store.bucket in message and len(failed) == 1
    assert "after 3 attempts" in message

    s3_server.start()  # moto state is process-global: objects written before the outage are still there
    assert not is_complete(s3_store, prefix)
    assert not s3_store.exists(f"{prefix}/{COMPLETE}")
    with pytest.raises(RuntimeFailure, match="incomplete"):
        fetch_dir(s3_store, prefix, tmp_path / "dst")

    publish_dir(s3_store, src, prefix)
    assert is_complete(s3_store, prefix)
    fetch_dir(s3_store, prefix, tmp_path / "dst")
    assert (tmp_path / "dst" / "a.bin").read_bytes() == b"new weights"
    assert (tmp_path / "dst" / "c.bin").read_bytes() == b"c.bin" * 100


def test_tls_against_a_plain_http_server_is_a_usage_error(s3_server: S3TestServer, fast_retry: RetryPolicy) -> None:
    env = {**s3_server.env(), "ASTROBIO_S3_ENDPOINT": f"https://{s3_server.endpoint}"}
    store = store_for(env, unique_bucket(), fast_retry)
    with pytest.raises(UsageError, match="TLS") as info:
        store.check()
    assert s3_server.endpoint in str(info.value)
