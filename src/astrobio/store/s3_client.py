"""Build the `minio.Minio` client with timeouts and retries that suit a training job.

minio's default pool retries 5 times with 5-minute timeouts, so an unreachable endpoint hangs for
minutes before anyone hears of it. Here the connect timeout is short and urllib3 retries are off
(`retries=False`), so `RetryPolicy` in `S3Store` is the only retry layer and its worst case is known.
"""

from __future__ import annotations

import certifi
import minio
import urllib3

from astrobio.store.settings import S3Settings

DEFAULT_CONNECT_TIMEOUT = 3.0
"""Seconds to open a TCP connection; a live endpoint on a cluster network answers in milliseconds."""

DEFAULT_READ_TIMEOUT = 60.0
"""Seconds of silence on an open connection (per socket read, not per transfer) before giving up."""


def build_http_client(
    settings: S3Settings,
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
    read_timeout: float = DEFAULT_READ_TIMEOUT,
) -> urllib3.PoolManager:
    """A pool with short timeouts, no urllib3-level retries and certificate checks on."""
    return urllib3.PoolManager(
        timeout=urllib3.Timeout(connect=connect_timeout, read=read_timeout),
        retries=False,
        maxsize=10,
        cert_reqs="CERT_REQUIRED",
        ca_certs=settings.ca_file or certifi.where(),
    )


def build_client(
    settings: S3Settings,
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
    read_timeout: float = DEFAULT_READ_TIMEOUT,
) -> minio.Minio:
    """A minio client for `settings`; it makes no request until first used."""
    return minio.Minio(
        settings.endpoint,
        access_key=settings.access_key,
        secret_key=settings.secret_key.get_secret_value(),
        session_token=settings.session_token.get_secret_value() if settings.session_token else None,
        secure=settings.secure,
        region=settings.region,
        http_client=build_http_client(settings, connect_timeout, read_timeout),
    )
