"""`S3Store`: the artifact store in an S3 bucket (MinIO or any S3), through the `minio` client.

Every call runs under `RetryPolicy`; errors are sorted by `s3_errors.classify` into one-line
astrobio errors that name the endpoint, bucket and key (never the keys' secrets):
bad credentials, TLS mismatch or a missing bucket are the user's to fix (UsageError), an outage
that outlasts the retries is a TransientFailure (exit 200: a PyTorchJob with `restartPolicy:
ExitCode` restarts the pod, at start as mid-run), a missing object is KeyNotFound.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import minio
from minio.error import S3Error
from minio.helpers import check_bucket_name

from astrobio.errors import RuntimeFailure, TransientFailure, UsageError
from astrobio.store.atomic import atomic_writer
from astrobio.store.base import ArtifactStore, KeyNotFound
from astrobio.store.keys import validate_prefix
from astrobio.store.retry import RetriesExhausted, RetryPolicy, call_with_retry
from astrobio.store.s3_errors import ErrorKind, classify, is_transient, short_reason

T = TypeVar("T")
log = logging.getLogger(__name__)

CHUNK_SIZE = 1 << 20


class S3Store(ArtifactStore):
    """Keys live under `prefix` in `bucket`; `endpoint` is only used in messages (the client holds the connection)."""

    off_machine = True

    def __init__(
        self,
        bucket: str,
        prefix: str,
        client: minio.Minio,
        endpoint: str,
        retry: RetryPolicy | None = None,
    ) -> None:
        try:
            check_bucket_name(bucket)
        except ValueError as exc:
            raise UsageError(f"invalid S3 bucket name {bucket!r}: {exc}") from None
        self._bucket = bucket
        self._prefix = validate_prefix(prefix)
        self._client = client
        self._endpoint = endpoint
        self._retry = retry if retry is not None else RetryPolicy()

    @property
    def bucket(self) -> str:
        return self._bucket

    @property
    def prefix(self) -> str:
        return self._prefix

    @property
    def uri(self) -> str:
        return f"s3://{self._bucket}/{self._prefix}" if self._prefix else f"s3://{self._bucket}"

    def _object_name(self, key: str) -> str:
        return f"{self._prefix}/{key}" if self._prefix else key

    def _call(self, action: str, key: str, fn: Callable[[], T]) -> T:
        """Run `fn` under the retry policy and turn whatever escapes into an astrobio error."""
        where = self.describe(key)
        names = f"bucket {self._bucket!r}, key {key!r}" if key else f"bucket {self._bucket!r}"

        def on_retry(attempt: int, wait: float, exc: BaseException) -> None:
            log.warning(
                "S3 %s of %s at %s failed (attempt %d/%d: %s); retrying in %.2fs",
                action, where, self._endpoint, attempt, self._retry.attempts, short_reason(exc), wait,
            )

        try:
            return call_with_retry(fn, self._retry, is_transient, on_retry)
        except (UsageError, RuntimeFailure):
            raise
        except RetriesExhausted as exc:
            raise TransientFailure(
                f"S3 endpoint {self._endpoint} failed to {action} {where} ({names}) "
                f"after {exc.attempts} attempts: {short_reason(exc.last)}"
            ) from exc.last
        except Exception as exc:
            raise self._translate(action, key, names, exc) from exc

    def _translate(self, action: str, key: str, names: str, exc: Exception) -> Exception:
        """Map a non-transient error to an astrobio error (returned, so the caller chains it)."""
        kind = classify(exc)
        where = self.describe(key)
        if kind is ErrorKind.CREDENTIALS:
            return UsageError(
                f"S3 endpoint {self._endpoint} refused the credentials for bucket {self._bucket!r} "
                f"({short_reason(exc)}); check AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY and the bucket policy"
            )
        if kind is ErrorKind.NO_BUCKET:
            return self._no_bucket()
        if kind is ErrorKind.NO_KEY:
            return KeyNotFound(f"no key {key!r} in store {self.uri} at {self._endpoint}")
        if kind is ErrorKind.TLS:
            return UsageError(
                f"TLS with S3 endpoint {self._endpoint} failed ({short_reason(exc)}); "
                "expected https:// for a TLS server, http:// (or ASTROBIO_S3_SECURE=false) for plain HTTP"
            )
        if isinstance(exc, ValueError):
            reason = " ".join(str(exc).split())
            return UsageError(f"S3 request to {self._endpoint} for {where} rejected by the client: {reason}")
        return RuntimeFailure(f"S3 endpoint {self._endpoint} failed to {action} {where} ({names}): {short_reason(exc)}")

    def _no_bucket(self) -> UsageError:
        return UsageError(
            f"S3 bucket {self._bucket!r} does not exist at {self._endpoint}; "
            "create it (the bucket-init job, or S3Store.ensure_bucket())"
        )

    def check(self) -> None:
        """Reach the endpoint, authenticate and find the bucket, failing with a UsageError at start."""
        found = self._call("reach bucket", "", lambda: self._client.bucket_exists(self._bucket))
        if not found:
            raise self._no_bucket()

    def ensure_bucket(self) -> bool:
        """Create the bucket if it is absent; return True if it was created. Safe to call concurrently."""

        def create() -> bool:
            if self._client.bucket_exists(self._bucket):
                return False
            try:
                self._client.make_bucket(self._bucket)
            except S3Error as exc:
                if exc.code in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                    return False
                raise
            return True

        return self._call("create bucket", "", create)

    def _put_bytes(self, key: str, data: bytes) -> None:
        name = self._object_name(key)
        self._call(
            "upload", key, lambda: self._client.put_object(self._bucket, name, io.BytesIO(data), len(data))
        )

    def _get_bytes(self, key: str) -> bytes:
        name = self._object_name(key)

        def download() -> bytes:
            response = self._client.get_object(self._bucket, name)
            try:
                return response.read()
            finally:
                response.close()
                response.release_conn()

        return self._call("download", key, download)

    def _put_file(self, key: str, path: Path) -> None:
        name = self._object_name(key)
        self._call("upload", key, lambda: self._client.fput_object(self._bucket, name, str(path)))

    def _get_file(self, key: str, path: Path) -> None:
        name = self._object_name(key)

        def download() -> None:
            response = self._client.get_object(self._bucket, name)
            try:
                with atomic_writer(path) as handle:
                    for chunk in response.stream(CHUNK_SIZE):
                        handle.write(chunk)
            finally:
                response.close()
                response.release_conn()

        self._call("download", key, download)

    def _exists(self, key: str) -> bool:
        name = self._object_name(key)

        def stat() -> bool:
            try:
                self._client.stat_object(self._bucket, name)
            except S3Error as exc:
                if classify(exc) is ErrorKind.NO_KEY:
                    return False
                raise
            return True

        return self._call("look up", key, stat)

    def _list(self, prefix: str) -> list[str]:
        folder = self._object_name(prefix) if prefix else self._prefix
        listing_prefix = f"{folder}/" if folder else None
        strip = len(self._prefix) + 1 if self._prefix else 0

        def listing() -> list[str]:
            objects = self._client.list_objects(self._bucket, prefix=listing_prefix, recursive=True)
            return [
                obj.object_name[strip:]
                for obj in objects
                if obj.object_name is not None and not obj.object_name.endswith("/")
            ]

        return self._call("list", prefix, listing)

    def _delete(self, key: str) -> None:
        name = self._object_name(key)
        self._call("delete", key, lambda: self._client.remove_object(self._bucket, name))
