"""The error classifier, on constructed minio/urllib3 errors.

moto can check credentials (see test_s3_store.py), but some codes (ExpiredToken, SlowDown,
XMinio*) never come from it, so the mapping of each code is pinned here on constructed errors.
"""

from __future__ import annotations

import pytest
import urllib3
from minio.error import InvalidResponseError, S3Error, ServerError
from urllib3.exceptions import (
    MaxRetryError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
    SSLError,
)

from astrobio.store.s3_errors import ErrorKind, classify, short_reason


def s3_error(code: str, status: int = 400) -> S3Error:
    return S3Error(urllib3.HTTPResponse(status=status), code, f"{code} happened", "/b/k", "req", "host", "b", "k")


@pytest.mark.parametrize("code", ["InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "ExpiredToken"])
def test_credential_codes(code: str) -> None:
    assert classify(s3_error(code, 403)) is ErrorKind.CREDENTIALS


@pytest.mark.parametrize("code", ["InternalError", "SlowDown", "ServiceUnavailable", "RequestTimeout", "XMinioReadQuorum"])
def test_transient_codes(code: str) -> None:
    assert classify(s3_error(code, 503)) is ErrorKind.TRANSIENT


def test_unknown_code_depends_on_status() -> None:
    assert classify(s3_error("SomethingOdd", 500)) is ErrorKind.TRANSIENT
    assert classify(s3_error("EntityTooLarge", 400)) is ErrorKind.FATAL


def test_missing_bucket_and_key() -> None:
    assert classify(s3_error("NoSuchBucket", 404)) is ErrorKind.NO_BUCKET
    assert classify(s3_error("NoSuchKey", 404)) is ErrorKind.NO_KEY


def test_transport_errors_are_transient() -> None:
    pool = urllib3.HTTPConnectionPool("127.0.0.1", 1)
    conn = urllib3.connection.HTTPConnection("127.0.0.1", 1)
    assert classify(NewConnectionError(conn, "refused")) is ErrorKind.TRANSIENT
    assert classify(ReadTimeoutError(pool, "/", "read timed out")) is ErrorKind.TRANSIENT
    assert classify(ProtocolError("Connection aborted.")) is ErrorKind.TRANSIENT
    assert classify(MaxRetryError(pool, "/", NewConnectionError(conn, "refused"))) is ErrorKind.TRANSIENT
    assert classify(ConnectionResetError()) is ErrorKind.TRANSIENT
    assert classify(ServerError("server failed with HTTP status code 503", 503)) is ErrorKind.TRANSIENT
    assert classify(InvalidResponseError(502, "text/html", "<html>bad gateway</html>")) is ErrorKind.TRANSIENT


def test_tls_and_other_errors() -> None:
    pool = urllib3.HTTPConnectionPool("127.0.0.1", 1)
    assert classify(SSLError("WRONG_VERSION_NUMBER")) is ErrorKind.TLS
    assert classify(MaxRetryError(pool, "/", SSLError("WRONG_VERSION_NUMBER"))) is ErrorKind.TLS
    assert classify(InvalidResponseError(400, "text/html", "nope")) is ErrorKind.FATAL
    assert classify(ValueError("bad")) is ErrorKind.FATAL
    assert classify(OSError(28, "No space left on device")) is ErrorKind.FATAL


def test_short_reason_is_one_line() -> None:
    assert short_reason(s3_error("SlowDown")) == "SlowDown: SlowDown happened"
    assert "\n" not in short_reason(ProtocolError("line one\nline two"))
