"""The model registry: content-hashed immutable versions, aliases with history, lookups."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from astrobio.errors import RuntimeFailure, UsageError
from astrobio.production.model_registry import ModelRegistry, NotRegistered, RegistryConflict
from astrobio.store import open_store
from tests.production.conftest import fake_artifact


@pytest.fixture
def store(tmp_path: Path):
    return open_store(str(tmp_path / "store"), {})


def register(registry: ModelRegistry, store, name: str, prefix: str, now: float = 1000.0, **metrics: float):
    uri = fake_artifact(store, prefix, metrics or {"test_auc": 0.8})
    return registry.register(name, open_store(uri, {}), uri, run_id="r1", now=now)


def test_version_is_the_manifest_hash_and_reregistering_is_a_noop(store, tmp_path: Path) -> None:
    registry = ModelRegistry(store)
    entry, created = register(registry, store, "graph_vae", "runs/r1/pretrain/graph_vae")
    manifest = (tmp_path / "store/runs/r1/pretrain/graph_vae/MANIFEST.json").read_bytes()
    assert created and entry["version"] == hashlib.sha256(manifest).hexdigest()[:12]
    key = tmp_path / "store" / registry.entry_key("graph_vae", entry["version"])
    before = key.read_bytes()

    again, created_again = registry.register("graph_vae", open_store(entry["artifact_uri"], {}), "elsewhere",
                                             run_id="r9", now=2000.0)
    assert not created_again and again == entry  # first registration's provenance is kept
    assert key.read_bytes() == before
    assert entry["source_run_id"] == "r1" and entry["metrics"] == {"test_auc": 0.8}


def test_different_content_gets_a_new_version(store) -> None:
    registry = ModelRegistry(store)
    first, _ = register(registry, store, "causal", "runs/r1/pretrain/causal", test_auc=0.5)
    second, created = register(registry, store, "causal", "runs/r2/pretrain/causal", now=2000.0, test_auc=0.6)
    assert created and first["version"] != second["version"]
    assert [e["version"] for e in registry.versions("causal")] == [first["version"], second["version"]]


def test_a_tampered_version_is_never_overwritten(store, tmp_path: Path) -> None:
    registry = ModelRegistry(store)
    entry, _ = register(registry, store, "graph_vae", "runs/r1/pretrain/graph_vae")
    key = registry.entry_key("graph_vae", entry["version"])
    tampered = json.loads(store.get_bytes(key))
    tampered["metrics"]["test_auc"] = 0.99
    store.put_bytes(key, json.dumps(tampered).encode())

    with pytest.raises(RegistryConflict, match="immutable"):
        registry.register("graph_vae", open_store(entry["artifact_uri"], {}), entry["artifact_uri"])
    with pytest.raises(RegistryConflict):
        registry.write_once(key, b"different bytes")
    assert json.loads(store.get_bytes(key))["metrics"]["test_auc"] == 0.99  # left as found, not repaired
    assert registry.write_once(key, store.get_bytes(key)) is False  # identical bytes: no-op


def test_promote_moves_the_alias_and_keeps_its_history(store) -> None:
    registry = ModelRegistry(store)
    v1 = register(registry, store, "graph_vae", "runs/r1/pretrain/graph_vae", test_auc=0.7)[0]["version"]
    v2 = register(registry, store, "graph_vae", "runs/r2/pretrain/graph_vae", now=2000.0, test_auc=0.9)[0]["version"]
    assert registry.show("graph_vae")["version"] == v2  # no alias yet: newest

    registry.promote("graph_vae", v1, now=3000.0)
    doc = registry.promote("graph_vae", v2[:6], now=4000.0)  # a unique prefix works too
    assert doc["aliases"] == {"production": v2}
    assert [(h["version"], h["previous"]) for h in doc["history"]] == [(v1, None), (v2, v1)]
    shown = registry.show("graph_vae", "production")
    assert shown["version"] == v2 and shown["aliases"] == ["production"] and shown["metrics"]["test_auc"] == 0.9
    assert registry.show("graph_vae", v1)["aliases"] == []
    registry.promote("graph_vae", "production", alias="previous")  # an alias resolves to its version
    assert registry.aliases("graph_vae")["aliases"]["previous"] == v2
    listing = registry.list_models()
    assert listing == [{"name": "graph_vae", "versions": 2, "latest": v2, "latest_created": listing[0]["latest_created"],
                        "aliases": {"production": v2, "previous": v2}}]


def test_unknown_names_versions_and_incomplete_artifacts(store) -> None:
    registry = ModelRegistry(store)
    with pytest.raises(NotRegistered, match="no registered model 'graph_vae'"):
        registry.show("graph_vae")
    register(registry, store, "graph_vae", "runs/r1/pretrain/graph_vae")
    with pytest.raises(NotRegistered, match="no version or alias 'staging'") as info:
        registry.promote("graph_vae", "staging")
    assert isinstance(info.value, UsageError)
    with pytest.raises(UsageError, match="invalid model name"):
        registry.show("../etc")
    store.put_bytes("runs/r3/pretrain/causal/metrics.json", b"{}")  # no COMPLETE marker
    with pytest.raises(RuntimeFailure, match="COMPLETE"):
        registry.register("causal", open_store(store.describe("runs/r3/pretrain/causal"), {}), "x")


def test_registry_works_on_s3(tmp_path: Path) -> None:
    from astrobio.store import S3Settings, S3Store, build_client
    from tests.s3server import running_s3_server, unique_bucket

    with running_s3_server() as server:
        settings = S3Settings.from_env(server.env())
        s3 = S3Store(unique_bucket(), "team", build_client(settings), settings.url)
        s3.ensure_bucket()
        local = open_store(str(tmp_path / "local"), {})
        uri = fake_artifact(local, "runs/r1/pretrain/causal")
        registry = ModelRegistry(s3)
        entry, created = registry.register("causal", open_store(uri, {}), uri)
        registry.promote("causal", entry["version"])
        assert created and registry.names() == ["causal"]
        assert registry.show("causal", "production")["version"] == entry["version"]
        assert registry.register("causal", open_store(uri, {}), uri)[1] is False
