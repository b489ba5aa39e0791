"""A versioned model registry inside the artifact store: immutable versions, movable aliases.

Layout (keys relative to the store root, so it lives next to `runs/` in the same bucket):

    registry/<name>/versions/<version>/entry.json   written once, never changed
    registry/<name>/aliases.json                    {"aliases": {"production": <version>}, "history": [...]}

Why content-hashed versions: the version is the first 12 hex digits of the sha256 of the artifact's
MANIFEST.json (which lists the sha256 of the weights, config, metrics and model card), so the same
artifact always gets the same version, registering it twice is a no-op, and two different artifacts
cannot share one. An existing version key is never overwritten: if what is stored there differs
from what would be written (a tampered entry, or a 48-bit hash collision) registration fails.
Aliases are the only mutable state; each move is a whole-object rewrite (atomic in both backends)
that appends to a history list, so who pointed `production` where, and when, stays auditable.
The check-then-write is not a compare-and-swap: two registrars racing on one name may both write
aliases.json; one history line is then lost, never a version.
"""

from __future__ import annotations

import hashlib
import json
import time
from datetime import datetime, timezone
from typing import Any

from astrobio.errors import RuntimeFailure, UsageError
from astrobio.store import COMPLETE, MANIFEST, ArtifactStore, KeyNotFound, join_key, validate_name
from astrobio.store.artifacts import read_manifest

ROOT = "registry"
ENTRY_FILE = "entry.json"
ALIASES_FILE = "aliases.json"
PRODUCTION = "production"
VERSION_LEN = 12
SCHEMA = 1
IDENTITY = ("name", "version", "manifest_sha256", "weights_sha256", "metrics", "model_card")
"""Entry fields derived from the artifact's content; provenance (URI, run id, time) is not compared."""


class RegistryConflict(RuntimeFailure):
    """An existing version key holds different bytes than would be written: refuse, never overwrite."""


class NotRegistered(UsageError):
    """An unknown model name, version or alias (the user typed it: exit code 2)."""


def _dumps(data: Any) -> bytes:
    return (json.dumps(data, indent=2, sort_keys=True, default=str) + "\n").encode("utf-8")


def _iso(unix: float) -> str:
    return datetime.fromtimestamp(unix, tz=timezone.utc).isoformat(timespec="seconds")


def _read_json(store: ArtifactStore, key: str, default: Any = None) -> Any:
    try:
        raw = store.get_bytes(key)
    except KeyNotFound:
        return default
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise RuntimeFailure(f"{store.describe(key)} is not valid JSON") from None


def artifact_identity(artifact: ArtifactStore, prefix: str = "") -> dict[str, Any]:
    """Content identity of a complete artifact: manifest sha256 (checked against COMPLETE), weights
    sha256, metrics and model card. RuntimeFailure for an incomplete or inconsistent artifact."""
    marker = _read_json(artifact, join_key(prefix, COMPLETE))
    if not isinstance(marker, dict) or not isinstance(marker.get("manifest_sha256"), str):
        raise RuntimeFailure(f"{artifact.describe(prefix)} has no readable {COMPLETE} marker; it cannot be registered")
    manifest_raw = artifact.get_bytes(join_key(prefix, MANIFEST))
    digest = hashlib.sha256(manifest_raw).hexdigest()
    if digest != marker["manifest_sha256"]:
        raise RuntimeFailure(f"{artifact.describe(prefix)}: {MANIFEST} does not match its {COMPLETE} marker")
    files = read_manifest(artifact, prefix)["files"]
    weights = files.get("model.safetensors", {}).get("sha256")
    metrics = _read_json(artifact, join_key(prefix, "metrics.json"), {})
    card = _read_json(artifact, join_key(prefix, "model_card.json"), {})
    return {"manifest_sha256": digest, "weights_sha256": weights, "metrics": metrics, "model_card": card,
            "files": {rel: entry["size"] for rel, entry in sorted(files.items())}}


class ModelRegistry:
    """The registry in one store. Names are component names (any safe name is accepted)."""

    def __init__(self, store: ArtifactStore, root: str = ROOT) -> None:
        self.store = store
        self.root = root

    # -- keys -----------------------------------------------------------------------------------
    def entry_key(self, name: str, version: str) -> str:
        return join_key(self.root, validate_name(name, "model name"), "versions", validate_name(version, "version"), ENTRY_FILE)

    def aliases_key(self, name: str) -> str:
        return join_key(self.root, validate_name(name, "model name"), ALIASES_FILE)

    def write_once(self, key: str, data: bytes) -> bool:
        """Write `data` under `key` if absent (True); a no-op if identical bytes are there (False);
        RegistryConflict if different bytes are there: a registry version is immutable."""
        try:
            existing = self.store.get_bytes(key)
        except KeyNotFound:
            self.store.put_bytes(key, data)
            return True
        if existing != data:
            raise RegistryConflict(f"{self.store.describe(key)} already exists with different content; "
                                   "registry versions are immutable (tampered entry or hash collision)")
        return False

    # -- versions -------------------------------------------------------------------------------
    def register(self, name: str, artifact: ArtifactStore, artifact_uri: str, *, prefix: str = "",
                 run_id: str | None = None, now: float | None = None) -> tuple[dict[str, Any], bool]:
        """Register the complete artifact at `artifact`/`prefix` under `name`; (entry, created).

        Same content again: returns the stored entry and False (its URI/run id/time are kept).
        A stored entry whose content fields differ: RegistryConflict.
        """
        identity = artifact_identity(artifact, prefix)
        version = identity["manifest_sha256"][:VERSION_LEN]
        key = self.entry_key(name, version)
        unix = time.time() if now is None else now
        card = identity["model_card"] if isinstance(identity["model_card"], dict) else {}
        entry = {"schema": SCHEMA, "name": name, "version": version, "artifact_uri": artifact_uri,
                 "source_run_id": run_id or card.get("run_id"), "created": _iso(unix), "created_unix": unix,
                 **identity}
        existing = _read_json(self.store, key)
        if existing is not None:
            if not isinstance(existing, dict) or any(existing.get(f) != entry.get(f) for f in IDENTITY):
                raise RegistryConflict(f"{self.store.describe(key)} already exists with different content; "
                                       "registry versions are immutable (tampered entry or hash collision)")
            return existing, False
        self.write_once(key, _dumps(entry))
        return entry, True

    def versions(self, name: str) -> list[dict[str, Any]]:
        """Every entry of `name`, oldest first; NotRegistered if there is none."""
        prefix = join_key(self.root, validate_name(name, "model name"), "versions")
        keys = [k for k in self.store.list(prefix) if k.endswith("/" + ENTRY_FILE)]
        entries = [e for e in (_read_json(self.store, k) for k in keys) if isinstance(e, dict)]
        if not entries:
            known = ", ".join(self.names()) or "none"
            raise NotRegistered(f"no registered model '{name}' in {self.store.uri}; registered: {known}")
        return sorted(entries, key=lambda e: (e.get("created_unix", 0), e.get("version", "")))

    def names(self) -> list[str]:
        """Model names with at least one version."""
        found = set()
        for key in self.store.list(self.root):
            parts = key[len(self.root) + 1:].split("/")
            if len(parts) == 4 and parts[1] == "versions" and parts[3] == ENTRY_FILE:
                found.add(parts[0])
        return sorted(found)

    # -- aliases --------------------------------------------------------------------------------
    def aliases(self, name: str) -> dict[str, Any]:
        """The alias document of `name` ({"aliases": {}, "history": []} when none was ever set)."""
        doc = _read_json(self.store, self.aliases_key(name), None)
        if not isinstance(doc, dict):
            return {"schema": SCHEMA, "name": name, "aliases": {}, "history": []}
        doc.setdefault("aliases", {})
        doc.setdefault("history", [])
        return doc

    def promote(self, name: str, version: str, alias: str = PRODUCTION, now: float | None = None) -> dict[str, Any]:
        """Point `alias` at an existing `version` (an alias or version reference is resolved first);
        append the move to the history and rewrite aliases.json in one put."""
        validate_name(alias, "alias")
        target = self.resolve(name, version)
        doc = self.aliases(name)
        previous = doc["aliases"].get(alias)
        unix = time.time() if now is None else now
        doc["aliases"][alias] = target
        doc["history"].append({"alias": alias, "version": target, "previous": previous, "at": _iso(unix), "at_unix": unix})
        self.store.put_bytes(self.aliases_key(name), _dumps(doc))
        return doc

    def resolve(self, name: str, ref: str) -> str:
        """A version from a version string or an alias; NotRegistered naming what exists."""
        entries = self.versions(name)
        known = [e["version"] for e in entries]
        if ref in known:
            return ref
        aliases = self.aliases(name)["aliases"]
        if ref in aliases:
            return aliases[ref]
        matches = [v for v in known if ref and v.startswith(ref)]
        if len(matches) == 1 and len(ref) >= 4:
            return matches[0]
        names = ", ".join(known[-5:]) + (f"; aliases: {', '.join(sorted(aliases))}" if aliases else "")
        raise NotRegistered(f"model '{name}' has no version or alias '{ref}'; versions: {names}")

    # -- reading ---------------------------------------------------------------------------------
    def show(self, name: str, ref: str | None = None) -> dict[str, Any]:
        """The entry for a version or alias (default: `production`, else the newest version), with
        the aliases that point at it."""
        if ref is None:
            ref = PRODUCTION if PRODUCTION in self.aliases(name)["aliases"] else self.versions(name)[-1]["version"]
        version = self.resolve(name, ref)
        entry = _read_json(self.store, self.entry_key(name, version))
        pointing = sorted(a for a, v in self.aliases(name)["aliases"].items() if v == version)
        return {**entry, "aliases": pointing}

    def list_models(self) -> list[dict[str, Any]]:
        """One summary per model: version count, newest version, aliases."""
        out = []
        for name in self.names():
            entries = self.versions(name)
            out.append({"name": name, "versions": len(entries), "latest": entries[-1]["version"],
                        "latest_created": entries[-1].get("created"), "aliases": self.aliases(name)["aliases"]})
        return out
