"""Fixtures for the store tests: a live S3-protocol server and fast, recorded retry policies."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from astrobio.store import RetryPolicy, S3Settings, S3Store, build_client
from tests.s3server import RecordingSleep, S3TestServer, running_s3_server, unique_bucket


@pytest.fixture
def s3_server() -> Iterator[S3TestServer]:
    """A moto S3 server on a free local port (per test: tests may stop and restart it)."""
    with running_s3_server() as server:
        yield server


@pytest.fixture
def sleeps() -> RecordingSleep:
    return RecordingSleep()


@pytest.fixture
def fast_retry(sleeps: RecordingSleep) -> RetryPolicy:
    """3 attempts, no real waiting, deterministic jitter."""
    return RetryPolicy(attempts=3, base_delay=0.1, max_delay=1.0, jitter=0.1, sleep=sleeps, rand=lambda: 0.5)


@pytest.fixture
def s3_store(s3_server: S3TestServer, fast_retry: RetryPolicy) -> S3Store:
    """An S3Store on a fresh bucket of `s3_server`, under the prefix 'base'."""
    settings = S3Settings.from_env(s3_server.env())
    store = S3Store(unique_bucket(), "base", build_client(settings), settings.url, fast_retry)
    store.ensure_bucket()
    return store
