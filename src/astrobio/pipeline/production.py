"""Phase 5 (production): register, quantise, time, score and export every upstream artifact.

In both modes (the work is CPU-bound and bounded, so there is no PyTorchJob) the step:
1. checks that every upstream artifact (all components of phases 1-4) has its COMPLETE marker;
2. registers each in the versioned model registry of the store (`registry/<name>/versions/<v>/`,
   content-hashed, immutable) and sets the `production` alias per `ProductionOptions.promote`;
3. releases each component it can rebuild (see `astrobio.production.release`): int8 dynamic
   quantisation, fp32-vs-int8 latency and test-metric delta, torch.export/TorchScript programs,
   skipping with a recorded reason what is unregistered, weightless or over the time budget;
4. publishes `runs/<run_id>/production/production/` with registry.json, metrics.json (flat
   numbers), production.json (the full report), report.md, report.html and `exports/<name>/`,
   COMPLETE last, like any other artifact.
The artifact path and this function's signature are the contract of the compiled KFP pipeline.
"""

from __future__ import annotations

import html
import json
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from astrobio.errors import RuntimeFailure
from astrobio.catalog import phase_of_component
from astrobio.pipeline.report import metrics_table_html, step_report_html
from astrobio.pipeline.steps import (
    ArtifactLocation,
    StepResult,
    check_mode,
    check_upstream,
    locate_artifact,
    parse_upstream,
    step_config,
)
from astrobio.store import ArtifactStore, KeyNotFound, fetch_dir, is_complete, join_key, open_store, publish_dir
from astrobio.store.artifacts import METRICS_FILE, read_metrics

if TYPE_CHECKING:  # torch-free at import: KFP launcher pods import this package without torch
    from astrobio.production.options import ProductionOptions
    from astrobio.production.model_registry import ModelRegistry

COMPONENT = "production"
REGISTRY_FILE = "registry.json"
REPORT_FILE = "production.json"
REGISTRY_VERSION = 2


def read_registry(location: ArtifactLocation) -> list[dict[str, Any]]:
    """The entries of a published registry.json ([] if it is missing or unreadable: report only)."""
    try:
        data = json.loads(location.store.get_bytes(join_key(location.prefix, REGISTRY_FILE)))
    except (KeyNotFound, ValueError):
        return []
    entries = data.get("entries") if isinstance(data, dict) else None
    return [e for e in entries if isinstance(e, dict)] if isinstance(entries, list) else []


def registry_html(entries: list[dict[str, Any]]) -> str:
    """One section per registered component: version, aliases, URI, manifest checksum, metrics table."""
    parts = ["<h3>Registered artifacts</h3>"]
    for entry in entries:
        aliases = ", ".join(entry.get("aliases") or []) or "-"
        parts.append(f"<h4>{html.escape(str(entry.get('component')))} ({html.escape(str(entry.get('phase')))}) "
                     f"version {html.escape(str(entry.get('version')))}, aliases: {html.escape(aliases)}</h4>"
                     f"<p>{html.escape(str(entry.get('uri')))}<br>manifest sha256 "
                     f"{html.escape(str(entry.get('manifest_sha256')))}</p>{metrics_table_html(entry.get('metrics') or {})}")
    return "".join(parts)


def _register(registry: ModelRegistry, name: str, store: ArtifactStore, uri: str, run_id: str, promote: str) -> dict[str, Any]:
    """Register one artifact, apply the alias policy, and return its registry.json entry."""
    entry, created = registry.register(name, store, uri, run_id=run_id)
    version = entry["version"]
    current = registry.aliases(name)["aliases"].get("production")
    if (promote == "always" and current != version) or (promote == "if_unset" and current is None):
        registry.promote(name, version)
    aliases = sorted(a for a, v in registry.aliases(name)["aliases"].items() if v == version)
    return {"component": name, "phase": phase_of_component(name).name, "uri": uri,
            "manifest_sha256": entry["manifest_sha256"], "metrics": entry["metrics"], "version": version,
            "registry_key": registry.entry_key(name, version), "registry_status": "new" if created else "existing",
            "aliases": aliases, "files": entry.get("files", {})}


def produce(run_id: str, upstream: Mapping[str, str], store: ArtifactStore, env: Mapping[str, str], folder: Path,
            work: Path, options: ProductionOptions, log: Callable[[str], None]) -> dict[str, Any]:
    """Register and release every upstream artifact; exports go under `folder/exports/`. The report document."""
    from astrobio.production.model_registry import ModelRegistry
    from astrobio.production.release import release_component
    from astrobio.production.report import machine_info

    registry = ModelRegistry(store)
    stores = {name: open_store(uri, env) for name, uri in upstream.items()}
    fetched: dict[str, Path] = {}

    def fetch(name: str) -> Path:
        if name not in stores:
            raise RuntimeFailure(f"production: no upstream artifact of '{name}' was passed to the step")
        if name not in fetched:
            fetch_dir(stores[name], "", work / "inputs" / name)
            fetched[name] = work / "inputs" / name
        return fetched[name]

    entries, reports = [], []
    for name, uri in upstream.items():
        entry = _register(registry, name, stores[name], uri, run_id, options.promote)
        entries.append(entry)
        log(f"production: {name} registered as version {entry['version']} ({entry['registry_status']})")
        report = release_component(name, entry["files"], lambda n=name: fetch(n), fetch, folder / "exports" / name,
                                   work / "cache" / name, options, log)
        if report.status != "released":
            log(f"production: {name} not released: {report.reason}")
        reports.append(report.to_dict())
    return {"version": REGISTRY_VERSION, "run_id": run_id, "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "machine": {**machine_info(), "timing_threads": options.num_threads or machine_info()["torch_threads"]},
            "options": {k: getattr(options, k) for k in options.__dataclass_fields__},
            "entries": entries, "components": reports}


def _reuse(location: ArtifactLocation, mode: str) -> tuple[StepResult, str]:
    """A complete production artifact is not redone: its stored report page is returned."""
    result = StepResult(COMPONENT, "production", location.uri, read_metrics(location.store, location.prefix, strict=True), mode, reused=True)
    try:
        page = location.store.get_bytes(join_key(location.prefix, "report.html")).decode("utf-8")
    except (KeyNotFound, UnicodeDecodeError):
        page = step_report_html(result, registry_html(read_registry(location)))
    return result, page


def run_production_step(*, run_id: str, config_yaml: str, store_uri: str, mode: str, upstream: str,
                        env: Mapping[str, str], log: Callable[[str], None] = print,
                        options: ProductionOptions | None = None) -> tuple[StepResult, str]:
    """Register, release and report every upstream artifact; return the step result and the HTML page.

    `options` (a `ProductionOptions`) defaults to the defaults overridden by `ASTROBIO_PRODUCTION_*`
    entries of `env`, which is how a compiled pipeline's pods are tuned without recompiling.
    """
    from astrobio.production.options import ProductionOptions
    from astrobio.production.report import flat_metrics, render_html, render_markdown

    check_mode(mode)
    upstream_uris = parse_upstream(upstream, COMPONENT)
    opts = options if options is not None else ProductionOptions.from_env(env)
    with tempfile.TemporaryDirectory(prefix="astrobio-production-") as tmp:
        cfg, _ = step_config(config_yaml, run_id, store_uri, Path(tmp) / "config")
        location = locate_artifact(cfg, COMPONENT, env)
        location.store.check()
        if is_complete(location.store, location.prefix):
            log(f"{COMPONENT}: {location.uri} is already complete; reusing it (new run id to redo)")
            return _reuse(location, mode)
        check_upstream(upstream_uris, env)
        run = cfg.run.effective_run_id
        folder = Path(tmp) / "artifact"
        folder.mkdir()
        doc = produce(run, upstream_uris, location.store, env, folder, Path(tmp) / "work", opts, log)
        new = sum(1 for e in doc["entries"] if e["registry_status"] == "new")
        metrics = flat_metrics(doc["components"], len(doc["entries"]), new)
        result = StepResult(COMPONENT, "production", location.uri, metrics, mode, details={"run_id": run})
        page = step_report_html(result, registry_html(doc["entries"]) + render_html(doc))
        registry = {"version": REGISTRY_VERSION, "run_id": run, "entries": doc["entries"]}
        (folder / REGISTRY_FILE).write_text(json.dumps(registry, indent=2, sort_keys=True), encoding="utf-8")
        (folder / METRICS_FILE).write_text(json.dumps(metrics, indent=2, sort_keys=True), encoding="utf-8")
        (folder / REPORT_FILE).write_text(json.dumps(doc, indent=2, sort_keys=True, default=str), encoding="utf-8")
        (folder / "report.md").write_text(render_markdown(doc), encoding="utf-8")
        (folder / "report.html").write_text(page, encoding="utf-8")
        publish_dir(location.store, folder, location.prefix)
        log(f"{COMPONENT}: registered {len(doc['entries'])} artifacts ({new} new versions), released "
            f"{int(metrics['released_components'])} at {location.uri}")
    return result, page
