"""Sort an exception from minio/urllib3 into what astrobio should do about it.

Kept apart from the store so the mapping can be unit-tested on constructed errors, and so there is
exactly one list of "transient" and "bad credentials" codes.
"""

from __future__ import annotations

import enum

import urllib3.exceptions
from minio.error import InvalidResponseError, S3Error, ServerError

TRANSIENT_CODES = frozenset(
    {
        "InternalError",
        "SlowDown",
        "ServiceUnavailable",
        "RequestTimeout",
        "OperationAborted",
        "XMinioServerNotInitialized",
        "XMinioReadQuorum",
        "XMinioWriteQuorum",
    }
)
"""S3 error codes that a later attempt may not hit (server busy, restarting, lost quorum)."""

CREDENTIAL_CODES = frozenset(
    {
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "AccessDenied",
        "InvalidToken",
        "ExpiredToken",
        "InvalidSecurity",
        "AllAccessDisabled",
    }
)
"""S3 error codes that mean the keys are wrong or not allowed: retrying cannot help, the user must act."""

NO_KEY_CODES = frozenset({"NoSuchKey", "NoSuchObject"})


class ErrorKind(enum.Enum):
    """What to do with an error."""

    TRANSIENT = "transient"  # retry with backoff
    CREDENTIALS = "credentials"  # UsageError naming the endpoint, no retry
    NO_BUCKET = "no_bucket"  # UsageError naming the bucket
    NO_KEY = "no_key"  # KeyNotFound
    TLS = "tls"  # UsageError: http vs https mismatch or untrusted certificate
    FATAL = "fatal"  # RuntimeFailure, no retry


def _http_status(exc: BaseException) -> int | None:
    """The HTTP status behind a minio error, when there is one."""
    if isinstance(exc, ServerError):
        return exc.status_code
    if isinstance(exc, InvalidResponseError):
        return getattr(exc, "_code", None)
    if isinstance(exc, S3Error):
        return getattr(exc.response, "status", None)
    return None


def _is_tls(exc: BaseException) -> bool:
    if isinstance(exc, urllib3.exceptions.SSLError):
        return True
    reason = getattr(exc, "reason", None)  # MaxRetryError wraps the real cause
    return isinstance(reason, urllib3.exceptions.SSLError)


def classify(exc: BaseException) -> ErrorKind:
    """Classify an exception raised by a minio call."""
    if _is_tls(exc):
        return ErrorKind.TLS
    if isinstance(exc, S3Error):
        if exc.code in CREDENTIAL_CODES:
            return ErrorKind.CREDENTIALS
        if exc.code == "NoSuchBucket":
            return ErrorKind.NO_BUCKET
        if exc.code in NO_KEY_CODES:
            return ErrorKind.NO_KEY
        if exc.code in TRANSIENT_CODES:
            return ErrorKind.TRANSIENT
        status = _http_status(exc)
        return ErrorKind.TRANSIENT if status is not None and status >= 500 else ErrorKind.FATAL
    if isinstance(exc, ServerError):
        return ErrorKind.TRANSIENT
    if isinstance(exc, InvalidResponseError):  # non-XML answer, typically a proxy's 502/503 page
        status = _http_status(exc)
        return ErrorKind.TRANSIENT if status is not None and (status >= 500 or status == 429) else ErrorKind.FATAL
    if isinstance(exc, urllib3.exceptions.LocationParseError):
        return ErrorKind.FATAL
    if isinstance(exc, urllib3.exceptions.HTTPError):  # connect/read timeouts, refused, reset, truncated body
        return ErrorKind.TRANSIENT
    if isinstance(exc, (ConnectionError, TimeoutError)):  # raw socket errors while streaming a body
        return ErrorKind.TRANSIENT
    return ErrorKind.FATAL


def is_transient(exc: BaseException) -> bool:
    """Whether a retry may succeed."""
    return classify(exc) is ErrorKind.TRANSIENT


def short_reason(exc: BaseException) -> str:
    """A one-line description of `exc` for messages: the S3 code when there is one, else the error text."""
    if isinstance(exc, S3Error):
        return f"{exc.code}: {exc.message}" if exc.message else str(exc.code)
    reason = getattr(exc, "reason", None)
    text = str(reason if isinstance(reason, BaseException) else exc) or type(exc).__name__
    return " ".join(f"{type(exc).__name__}: {text}".split())
