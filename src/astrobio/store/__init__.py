"""Artifact store: a local folder or an S3/MinIO bucket behind one small interface (DESIGN.md).

Open a store from its URI with `open_store(uri, os.environ)` (the CLI passes the environment;
library code never reads it), call `check()` at start, and move whole artifacts with
`publish_dir` / `fetch_dir`, which honour the COMPLETE-marker-last contract.

The S3 names (`S3Store`, `build_client`) load on first use: the minio client (with
urllib3, pycryptodome and cffi under it) is not imported by a command that only uses a local
folder (issue #19: start-up of every training and tuning trial).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from astrobio.store.artifacts import COMPLETE, MANIFEST, fetch_dir, is_complete, publish_dir, read_manifest
from astrobio.store.base import ArtifactStore, KeyNotFound
from astrobio.store.factory import ACCEPTED_FORMS, open_store, parse_s3_uri
from astrobio.store.keys import artifact_prefix, join_key, validate_key, validate_name, validate_prefix
from astrobio.store.local import LocalStore
from astrobio.store.retry import RetryPolicy
from astrobio.store.settings import S3Settings

if TYPE_CHECKING:
    from astrobio.store.s3 import S3Store
    from astrobio.store.s3_client import build_client

_LAZY = {"S3Store": "astrobio.store.s3", "build_client": "astrobio.store.s3_client"}

__all__ = [
    "ACCEPTED_FORMS",
    "COMPLETE",
    "MANIFEST",
    "ArtifactStore",
    "KeyNotFound",
    "LocalStore",
    "RetryPolicy",
    "S3Settings",
    "S3Store",
    "artifact_prefix",
    "build_client",
    "fetch_dir",
    "is_complete",
    "join_key",
    "open_store",
    "parse_s3_uri",
    "publish_dir",
    "read_manifest",
    "validate_key",
    "validate_name",
    "validate_prefix",
]


def __getattr__(name: str) -> Any:
    """`from astrobio.store import S3Store` imports the S3 backend only when it is asked for."""
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
