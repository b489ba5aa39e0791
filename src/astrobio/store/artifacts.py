"""Publish a folder as an artifact, and fetch it back only if it is whole and unaltered.

Order is the contract (DESIGN.md): any old `COMPLETE` is deleted first, then the files, then
`MANIFEST.json` (relative path -> sha256 and size), then `COMPLETE` last. A reader that sees
`COMPLETE` therefore sees every file; a publish interrupted at any point leaves no `COMPLETE`, so a
resumed pipeline re-runs that step instead of trusting half an artifact. `COMPLETE` holds the
manifest's sha256, binding the marker to the manifest it completed.
"""

from __future__ import annotations

import hashlib
import json
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from astrobio.errors import RuntimeFailure, UsageError
from astrobio.hashing import hash_file
from astrobio.store.base import ArtifactStore, KeyNotFound
from astrobio.store.keys import join_key, validate_key, validate_prefix

MANIFEST = "MANIFEST.json"
COMPLETE = "COMPLETE"
MANIFEST_VERSION = 1
METRICS_FILE = "metrics.json"
RESERVED = frozenset({MANIFEST, COMPLETE})

PARALLEL_UPLOADS = 4
"""Files of one artifact uploaded at once (each large one is also multipart, in parallel, by the client)."""


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file (`hash_file`)."""
    return hash_file(path, hashlib.sha256()).hexdigest()


def _local_files(local_dir: Path) -> list[tuple[str, Path]]:
    """(relative key, path) for every file under `local_dir`, sorted by key."""
    if not local_dir.is_dir():
        raise UsageError(f"cannot publish {str(local_dir)!r}: expected an existing folder")
    found = []
    for dirpath, _dirnames, filenames in os.walk(local_dir):
        for name in filenames:
            path = Path(dirpath, name)
            if path.is_file():
                found.append((validate_key(path.relative_to(local_dir).as_posix()), path))
    found.sort()
    clash = [rel for rel, _ in found if rel in RESERVED]
    if clash:
        raise UsageError(
            f"cannot publish {str(local_dir)!r}: it contains {clash[0]!r}, a name reserved for the marker files"
        )
    return found


def publish_dir(store: ArtifactStore, local_dir: Path, prefix: str) -> dict[str, Any]:
    """Upload every file under `local_dir` to `prefix` (several at once), then the manifest, then
    COMPLETE; return the manifest.

    Keys left under `prefix` by an earlier publish are not deleted (`prefix` may hold nested artifacts);
    they are harmless because `fetch_dir` takes exactly the files the manifest lists.
    """
    prefix = validate_prefix(prefix)
    local_dir = Path(local_dir)
    files = _local_files(local_dir)
    store.delete(join_key(prefix, COMPLETE))

    def upload(item: tuple[str, Path]) -> dict[str, Any]:
        rel, path = item
        entry = {"sha256": sha256_file(path), "size": path.stat().st_size}
        store.put_file(join_key(prefix, rel), path)
        return entry

    # the files in parallel (hashing and the transfer of one overlap the others'); the first error is
    # raised once all have settled, before the manifest, so a failed upload never gets a COMPLETE
    with ThreadPoolExecutor(max_workers=max(1, min(PARALLEL_UPLOADS, len(files)))) as pool:
        entries = dict(zip((rel for rel, _ in files), pool.map(upload, files)))

    manifest = {"version": MANIFEST_VERSION, "files": entries}
    manifest_bytes = json.dumps(manifest, indent=2, sort_keys=True).encode("utf-8")
    store.put_bytes(join_key(prefix, MANIFEST), manifest_bytes)
    marker = {"manifest_sha256": hashlib.sha256(manifest_bytes).hexdigest()}
    store.put_bytes(join_key(prefix, COMPLETE), json.dumps(marker, sort_keys=True).encode("utf-8"))
    return manifest


def is_complete(store: ArtifactStore, prefix: str) -> bool:
    """Whether the artifact at `prefix` was fully published (its COMPLETE marker exists)."""
    return store.exists(join_key(validate_prefix(prefix), COMPLETE))


def _parse_manifest(raw: bytes, where: str) -> dict[str, Any]:
    try:
        manifest = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RuntimeFailure(f"manifest {where} is not valid JSON: {exc}") from None
    if not isinstance(manifest, dict) or manifest.get("version") != MANIFEST_VERSION:
        raise RuntimeFailure(f"manifest {where} has an unknown format; expected version {MANIFEST_VERSION}")
    files = manifest.get("files")
    if not isinstance(files, dict) or not all(
        isinstance(entry, dict) and isinstance(entry.get("sha256"), str) and isinstance(entry.get("size"), int)
        for entry in files.values()
    ):
        raise RuntimeFailure(f"manifest {where} is malformed: expected files mapping path -> {{sha256, size}}")
    for rel in files:
        try:
            validate_key(rel)
        except UsageError as exc:  # the manifest is data from the store, not the user's input
            raise RuntimeFailure(f"manifest {where} lists an unsafe path: {exc}") from None
    return manifest


def read_manifest(store: ArtifactStore, prefix: str) -> dict[str, Any]:
    """The parsed manifest of the artifact at `prefix`; RuntimeFailure if missing or malformed."""
    key = join_key(validate_prefix(prefix), MANIFEST)
    try:
        raw = store.get_bytes(key)
    except KeyNotFound:
        raise RuntimeFailure(f"artifact {store.describe(prefix)} has no {MANIFEST}") from None
    return _parse_manifest(raw, store.describe(key))


def fetch_dir(store: ArtifactStore, prefix: str, local_dir: Path) -> dict[str, Any]:
    """Download the complete artifact at `prefix` into `local_dir`, verifying every sha256; return the manifest.

    Refuses an artifact without COMPLETE. A file whose checksum or size differs from the manifest
    is removed and reported (RuntimeFailure naming it), so a corrupt file is never left in place.
    """
    prefix = validate_prefix(prefix)
    where = store.describe(prefix)
    try:
        marker_raw = store.get_bytes(join_key(prefix, COMPLETE))
    except KeyNotFound:
        raise RuntimeFailure(f"artifact {where} is incomplete (no {COMPLETE} marker); publish it again") from None
    manifest_raw = store.get_bytes(join_key(prefix, MANIFEST))
    try:
        expected_manifest_sha = json.loads(marker_raw)["manifest_sha256"]
    except (ValueError, KeyError, TypeError):
        raise RuntimeFailure(f"artifact {where} has a malformed {COMPLETE} marker") from None
    if hashlib.sha256(manifest_raw).hexdigest() != expected_manifest_sha:
        raise RuntimeFailure(f"artifact {where}: {MANIFEST} does not match its {COMPLETE} marker")
    manifest = _parse_manifest(manifest_raw, store.describe(join_key(prefix, MANIFEST)))

    local_dir = Path(local_dir).absolute()
    for rel, entry in sorted(manifest["files"].items()):
        dest = local_dir / rel
        store.get_file(join_key(prefix, rel), dest)
        size, digest = dest.stat().st_size, sha256_file(dest)
        if size != entry["size"] or digest != entry["sha256"]:
            dest.unlink(missing_ok=True)
            raise RuntimeFailure(
                f"checksum mismatch for {store.describe(join_key(prefix, rel))}: expected sha256 "
                f"{entry['sha256']} ({entry['size']} bytes), got {digest} ({size} bytes)"
            )
    return manifest


def read_metrics(store: ArtifactStore, prefix: str, *, strict: bool) -> dict[str, Any]:
    """The artifact's metrics.json (held-out metrics and baselines); {} if it has none.

    A file that is not a JSON object is the caller's policy: `strict` raises RuntimeFailure naming
    it (a pipeline step or report that records these numbers must not record nothing in silence);
    not strict gives {} (live progress and a run's summary show what they can and go on).
    """
    key = join_key(prefix, METRICS_FILE)
    try:
        raw = store.get_bytes(key)
    except KeyNotFound:
        return {}
    try:
        data = json.loads(raw)
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
        if strict:
            raise RuntimeFailure(f"{store.describe(key)} is not valid JSON: {exc}") from None
        return {}
    if not isinstance(data, dict):
        if strict:
            raise RuntimeFailure(f"{store.describe(key)} is not a JSON object")
        return {}
    return data
