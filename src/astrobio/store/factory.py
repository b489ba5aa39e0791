"""`open_store`: turn the artifact-store URI of a config or command line into a store.

The URI is the only thing a user writes about storage; endpoint and keys come from `env`
(DESIGN.md: never from a config file). Opening makes no network call; call `store.check()` at
start to fail fast with a UsageError. The S3 backend (minio and what it imports) loads only when
an s3:// URI is opened, so a local-folder command never pays for it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import unquote, urlsplit

from astrobio.errors import UsageError
from astrobio.store.base import ArtifactStore
from astrobio.store.keys import validate_prefix
from astrobio.store.local import LocalStore
from astrobio.store.retry import RetryPolicy
from astrobio.store.settings import S3Settings, redact_userinfo

ACCEPTED_FORMS = "a local path, file:///absolute/path, or s3://bucket[/prefix]"
_SCHEME_RE = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):/")


def open_store(uri: str, env: Mapping[str, str], retry: RetryPolicy | None = None) -> ArtifactStore:
    """Open the store at `uri`: a local path or file:// URI -> LocalStore, s3://bucket[/prefix] -> S3Store.

    `env` is consulted only for s3:// URIs (see `S3Settings.from_env`); `retry` overrides the
    default S3 retry policy.
    """
    if not isinstance(uri, str) or not uri.strip():
        raise UsageError(f"empty artifact store URI; expected {ACCEPTED_FORMS}")
    match = _SCHEME_RE.match(uri)
    if match is None:
        return LocalStore(Path(uri))
    scheme = match.group(1).lower()
    if scheme == "file":
        return LocalStore(_file_path(uri))
    if scheme == "s3":
        return _open_s3(uri, env, retry)
    raise UsageError(f"unsupported artifact store URI {uri!r} (scheme {scheme!r}); expected {ACCEPTED_FORMS}")


def _file_path(uri: str) -> Path:
    parts = urlsplit(uri)
    if parts.netloc not in ("", "localhost") or not parts.path or parts.query or parts.fragment:
        raise UsageError(f"invalid file URI {uri!r}; expected file:///absolute/path")
    return Path(unquote(parts.path))


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """Split 's3://bucket[/prefix]' into (bucket, prefix); the prefix is '' or a valid key."""
    parts = urlsplit(uri)
    shown = redact_userinfo(uri)  # a key pasted into the URI must not travel on into the error line
    if "@" in parts.netloc:
        raise UsageError(f"invalid S3 URI {shown!r}: user info is not allowed; put the keys in "
                         f"AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (on a cluster: the storage Secret)")
    if not uri.lower().startswith("s3://") or not parts.netloc or parts.query or parts.fragment:
        raise UsageError(f"invalid S3 URI {shown!r}; expected s3://bucket[/prefix]")
    prefix = parts.path[1:] if parts.path.startswith("/") else parts.path
    try:
        return parts.netloc, validate_prefix(prefix)
    except UsageError as exc:
        raise UsageError(f"invalid S3 URI {shown!r}: {exc}") from None


def _open_s3(uri: str, env: Mapping[str, str], retry: RetryPolicy | None) -> ArtifactStore:
    from astrobio.store.s3 import S3Store
    from astrobio.store.s3_client import build_client

    bucket, prefix = parse_s3_uri(uri)
    settings = S3Settings.from_env(env)
    return S3Store(bucket, prefix, build_client(settings), settings.url, retry)
