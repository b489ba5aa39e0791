"""What every pipeline step shares: its resolved config, where its artifact lives, upstream checks.

A pipeline step receives plain strings (KFP parameters): the config as YAML, the run id, the store
URI and the URIs of its upstream artifacts. These helpers turn them into the same objects the CLI
uses, so a step inside a KFP pod and `astrobio train` on a laptop agree on every path.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from astrobio.config import AstrobioConfig, load_config
from astrobio.config.load import SAFE_DUMPER, SAFE_LOADER
from astrobio.errors import RuntimeFailure, UsageError
from astrobio.catalog import PHASES, phase_of_component
from astrobio.store import ArtifactStore, artifact_prefix, is_complete, open_store

MODES = ("kubeflow", "local")
"""kubeflow: the step creates a PyTorchJob and waits; local: it trains in a subprocess of the pod/host."""

@dataclass(frozen=True)
class StepResult:
    """What a step hands to KFP: the artifact URI, the metrics it read back, and how it got them."""

    component: str
    phase: str
    artifact_uri: str
    metrics: dict[str, Any]
    mode: str
    reused: bool = False
    details: dict[str, str] = field(default_factory=dict)
    drawn_dir: str | None = None
    """Local mode inside `astrobio run`: the run's folder of drawn figures, into which the run itself
    draws this step's section once the step has ended (`astrobio.phases.drawing`), so the step does
    not; None anywhere else (the step draws its own figures)."""


RUN_DRAWS_ENV = "ASTROBIO_RUN_DRAWS_FIGURES"
"""Set by `astrobio run`, for the steps it runs, to its folder of drawn figures: the run draws their
sections itself. A step checks that it names its own run's folder, and that the folder exists."""


def drawn_dir(cfg: AstrobioConfig, mode: str, env: Mapping[str, str]) -> str | None:
    """The run's folder for drawn figures, when this is a local step of the `astrobio run` that made
    it (the variable, not the folder alone: one left by a killed run must not stop a later step run
    by hand from drawing its figures)."""
    from astrobio.report.drawn import drawn_folder

    folder = drawn_folder(cfg.run.folder)
    return str(folder) if mode == "local" and env.get(RUN_DRAWS_ENV) == str(folder) and folder.is_dir() else None


def check_mode(mode: str) -> str:
    """Reject anything but the two modes, naming them, before any work starts."""
    if mode not in MODES:
        raise UsageError(f"pipeline mode {mode!r} is not one of: {', '.join(MODES)}")
    return mode


def step_config(config_yaml: str, run_id: str, store_uri: str, folder: Path) -> tuple[AstrobioConfig, Path]:
    """Write the step's config to `folder/config.yaml` and load it through the one config parser.

    The pipeline parameters `run_id` and `store_uri` win over the YAML (empty = keep the YAML's), so
    a KFP run can be pointed at another run id or bucket without recompiling. The written file is
    what `astrobio train --config` reads in local mode, so both see byte-identical config.
    """
    try:
        tree = yaml.load(config_yaml, Loader=SAFE_LOADER) or {}
    except yaml.YAMLError as exc:
        raise UsageError(f"pipeline parameter config_yaml is not valid YAML: {str(exc).splitlines()[0]}") from None
    if not isinstance(tree, dict):
        raise UsageError("pipeline parameter config_yaml must be a mapping of config sections")
    if run_id:
        tree.setdefault("run", {})["run_id"] = run_id
    if store_uri:
        tree.setdefault("store", {})["uri"] = store_uri
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "config.yaml"
    path.write_text(yaml.dump(tree, Dumper=SAFE_DUMPER, sort_keys=False), encoding="utf-8")
    return load_config(path), path


def expected_upstream(component: str) -> list[str]:
    """Components whose artifacts `component` reads: every component of the phases its phase needs."""
    needs = phase_of_component(component).needs
    return [name for phase in PHASES if phase.name in needs for name in phase.components]


def parse_upstream(upstream: str, component: str) -> dict[str, str]:
    """Parse the `upstream` parameter (JSON object component -> artifact URI) and check it is exactly
    the set PHASES says `component` needs, so a miswired pipeline fails before training starts."""
    try:
        mapping = json.loads(upstream or "{}")
    except json.JSONDecodeError as exc:
        raise UsageError(f"{component}: upstream must be a JSON object of component -> URI ({exc.msg})") from None
    if not isinstance(mapping, dict) or not all(isinstance(v, str) and v for v in mapping.values()):
        raise UsageError(f"{component}: upstream must be a JSON object of component -> non-empty URI string")
    expected = sorted(expected_upstream(component))
    if sorted(mapping) != expected:
        raise UsageError(f"{component}: upstream artifacts {sorted(mapping)} differ from what PHASES needs: {expected}")
    return {name: mapping[name] for name in expected}


def check_upstream(upstream: Mapping[str, str], env: Mapping[str, str]) -> None:
    """Every upstream artifact must be COMPLETE: a step never reads half an artifact."""
    for name, uri in upstream.items():
        if not is_complete(open_store(uri, env), ""):
            raise RuntimeFailure(f"upstream artifact of {name} at {uri} is incomplete (no COMPLETE marker)")


@dataclass(frozen=True)
class ArtifactLocation:
    """One component's artifact in this run: the store, its key prefix and its URI."""

    store: ArtifactStore
    prefix: str
    uri: str


def locate_artifact(cfg: AstrobioConfig, component: str, env: Mapping[str, str]) -> ArtifactLocation:
    """Where `astrobio train` publishes `component` for this run (`runs/<run_id>/<phase>/<component>`)."""
    store = open_store(cfg.store.uri, env)
    prefix = artifact_prefix(cfg.run.effective_run_id, phase_of_component(component).name, component)
    return ArtifactLocation(store, prefix, f"{store.uri.rstrip('/')}/{prefix}")
