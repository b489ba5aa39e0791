"""Render the Helm chart offline (helm-python-sdk: Helm v4 through its C library, no binary)."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import pytest
import yaml

from astrobio.kube.validate import default_schema_dir

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "charts" / "astrobio"
EXAMPLES = sorted((CHART / "examples").glob("*.yaml"))
NAMESPACE = "astrobio"
RELEASE = "astrobio"
SCHEMAS = default_schema_dir()
helm = pytest.importorskip("helm_python", reason="helm-python-sdk is not installed (pip install helm-python-sdk)")
helm.disable_logging()

VALUE_SETS = {"default": {}, **{p.stem: yaml.safe_load(p.read_text()) for p in EXAMPLES}}
"""Default values and every example file: lint, render and validation run on each."""


@functools.lru_cache(maxsize=1)
def chart() -> Any:
    return helm.Chart.load(str(CHART))


def render_files(values: dict[str, Any] | None = None, namespace: str = NAMESPACE,
                 release: str = RELEASE) -> dict[str, str]:
    """Template path -> rendered text (what `helm template` prints), schema enforced."""
    return chart().render(values or {}, name=release, namespace=namespace)


def render(values: dict[str, Any] | None = None, namespace: str = NAMESPACE, release: str = RELEASE) -> list[dict[str, Any]]:
    """Every Kubernetes object of the rendered chart (NOTES.txt left out)."""
    docs = []
    for path, text in sorted(render_files(values, namespace, release).items()):
        if path.endswith(".txt"):
            continue
        docs += [d for d in yaml.safe_load_all(text) if d]
    return docs


def of_kind(docs: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [d for d in docs if d["kind"] == kind]


def all_enabled() -> dict[str, Any]:
    """Every shipped PyTorchJob and Experiment switched on."""
    shipped = rendered_for()
    return {"jobs": {name: {"enabled": True} for name in shipped["components"]},
            "experiments": {name: {"enabled": True} for name in shipped["tuned"]}}


def rendered_for() -> dict[str, Any]:
    """What the shipped jobs were generated for (files/rendered-for.yaml)."""
    return yaml.safe_load((CHART / "files" / "rendered-for.yaml").read_text())


def pod_specs(obj: dict[str, Any]) -> list[dict[str, Any]]:
    """Pod specs of the chart's own workloads (Deployment, Job)."""
    if obj["kind"] in ("Deployment", "Job"):
        return [obj["spec"]["template"]["spec"]]
    return []
