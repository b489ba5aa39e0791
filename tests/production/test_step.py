"""The phase-5 pipeline step on real graph_vae/causal artifacts plus weightless fakes for the rest."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from astrobio.errors import RuntimeFailure
from astrobio.catalog import PHASES
from astrobio.pipeline.production import run_production_step
from astrobio.production.options import ProductionOptions
from astrobio.production.model_registry import ModelRegistry
from astrobio.store import open_store
from tests.production.conftest import upstream_with_fakes

FAST = ProductionOptions(warmup=1, repeats=5, num_threads=1)


@pytest.fixture
def store(trained_store: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "store"
    shutil.copytree(trained_store, copy)
    return copy


def step(store: Path, run_id: str, upstream: dict[str, str], options: ProductionOptions | None = FAST,
         env: dict[str, str] | None = None):
    return run_production_step(run_id=run_id, config_yaml=f"store:\n  uri: {store}\n", store_uri="", mode="local",
                               upstream=json.dumps(upstream), env=env or {}, log=lambda _: None, options=options)


def test_step_registers_releases_and_publishes(store: Path) -> None:
    upstream = upstream_with_fakes(store)
    result, page = step(store, "prod", upstream)
    m = result.metrics
    assert m["registered_artifacts"] == 7 and m["new_registry_versions"] == 7 and m["released_components"] == 2
    assert m["graph_vae_int8_speedup"] > 0 and "graph_vae_int8_metric_delta" in m
    assert m["baseline_fp32_graph_vae_p50_ms"] > 0 and m["causal_p50_ms"] > 0 and m["exported_components"] == 2

    art = store / "runs/prod/production/production"
    assert result.artifact_uri == str(art) and (art / "COMPLETE").is_file()
    for name in ("registry.json", "metrics.json", "production.json", "report.md", "report.html",
                 "exports/graph_vae/model.pt2", "exports/graph_vae/model_int8.ts", "exports/causal/model.pt2"):
        assert (art / name).is_file(), name
    registry = json.loads((art / "registry.json").read_text())
    entries = {e["component"]: e for e in registry["entries"]}
    assert sorted(entries) == sorted(c for p in PHASES[:4] for c in p.components)
    shown = ModelRegistry(open_store(str(store), {})).show("graph_vae", "production")  # if_unset promoted it
    assert shown["version"] == entries["graph_vae"]["version"] and shown["artifact_uri"] == upstream["graph_vae"]
    assert json.loads((art / "metrics.json").read_text()) == m
    report = json.loads((art / "production.json").read_text())
    skipped = {c["component"]: c["reason"] for c in report["components"] if c["status"] == "skipped"}
    assert set(skipped) == {"datacube", "spectra", "fusion", "llm", "galactic"}
    assert all("registered only" in why for why in skipped.values())
    assert "Registered artifacts" in page and "Export, int8 and latency" in page and "baseline fp32" in page
    assert "| graph_vae |" in (art / "report.md").read_text()

    again, again_page = step(store, "prod", upstream)  # complete: reused, not redone
    assert again.reused and again.metrics == m and again_page == page


def test_a_new_run_over_the_same_artifacts_adds_no_versions(store: Path) -> None:
    upstream = upstream_with_fakes(store)
    step(store, "prod", upstream, ProductionOptions(skip=("graph_vae", "causal")))
    registry = ModelRegistry(open_store(str(store), {}))
    first = registry.show("causal")["version"]
    result, _ = step(store, "prod-2", upstream, options=None,
                     env={"ASTROBIO_PRODUCTION_SKIP": "graph_vae,causal", "ASTROBIO_PRODUCTION_PROMOTE": "never"})
    assert result.metrics["new_registry_versions"] == 0 and result.metrics["released_components"] == 0
    assert registry.show("causal")["version"] == first and len(registry.versions("causal")) == 1
    doc = json.loads((store / "runs/prod-2/production/production/registry.json").read_text())
    assert {e["registry_status"] for e in doc["entries"]} == {"existing"}


def test_an_incomplete_upstream_stops_before_anything_is_written(store: Path) -> None:
    upstream = upstream_with_fakes(store)
    (Path(upstream["fusion"]) / "COMPLETE").unlink()
    with pytest.raises(RuntimeFailure, match="fusion .* is incomplete"):
        step(store, "prod", upstream)
    assert not (store / "registry").exists() and not (store / "runs/prod/production").exists()
