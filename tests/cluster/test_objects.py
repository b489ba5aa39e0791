"""Every object astrobio ships or renders, put through the real API server: a server-side dry run,
then a create, in a namespace enforcing Pod Security `restricted`.

What a JSON schema cannot show, the API server does: CRD structural pruning, defaulting, the
PodSecurity plugin on the chart's Deployments/Jobs, and the Training Operator's validating webhook
(training-operator pkg/webhooks/pytorchjob_webhook.go) on every PyTorchJob.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from astrobio.config import load_config
from astrobio.kube.render.trainjob import render_trainjob
from astrobio.catalog import component_names
from astrobio.tune.katib_backend import render_experiment
from astrobio.tune.load import load_tune_config

from .kubeapi import create, dynamic

pytestmark = pytest.mark.cluster
ROOT = Path(__file__).resolve().parents[2]
# storage-secret.example.yaml is all comments (a Secret to fill in by hand): it holds no object.
MANIFESTS = sorted(p for p in (ROOT / "manifests").glob("*.yaml") if any(yaml.safe_load_all(p.read_text())))
TUNE_CONFIGS = sorted((ROOT / "configs").glob("tune-*.yaml"))


def ns_name(stem: str) -> str:
    return re.sub(r"[^a-z0-9-]", "-", stem.lower())[:50].strip("-")


@pytest.mark.parametrize("path", MANIFESTS, ids=[p.name for p in MANIFESTS])
def test_manifest_passes_dry_run_and_create(path, admin, restricted_ns):
    ns = restricted_ns("m-" + ns_name(path.stem))
    docs = [d for d in yaml.safe_load_all(path.read_text()) if d]
    dyn = dynamic(admin)
    for doc in docs:
        made = create(dyn, doc, ns)
        assert made["metadata"]["uid"] and made["kind"] == doc["kind"]


def chart_value_sets() -> dict:
    from tests.chart.helpers import VALUE_SETS, all_enabled

    return {**VALUE_SETS, "all-enabled": all_enabled()}


@pytest.mark.parametrize("name", ["default", "bundled-minio", "existing-minio", "gpu-cluster", "tuning-enabled",
                                  "all-enabled"])
def test_chart_render_passes_dry_run_and_create(name, admin, restricted_ns):
    from tests.chart.helpers import EXAMPLES, render

    assert {p.stem for p in EXAMPLES} <= {"bundled-minio", "existing-minio", "gpu-cluster", "tuning-enabled"}, \
        "a new chart example: add it to this test's parameters"
    ns = restricted_ns("c-" + name, launcher=False)
    dyn = dynamic(admin)
    # Rendered for the namespace the shipped jobs were generated for (the chart refuses another
    # release namespace when jobs/experiments are on), then created in the test's namespace.
    docs = render(chart_value_sets()[name])
    assert docs
    for doc in docs:
        made = create(dyn, doc, ns)
        assert made["metadata"]["namespace"] == ns and made["metadata"]["uid"]


def test_every_cli_rendered_trainjob_and_experiment_is_accepted(admin, restricted_ns):
    """TrainJobs (Trainer v2 CRD) for every component, and every tune config's Katib Experiment."""
    ns = restricted_ns("cli-rendered")
    dyn = dynamic(admin)
    cfg = load_config(ROOT / "configs" / "default.yaml", ["kube.gpu.per_node=0"])
    names = []
    for component in component_names():
        made = create(dyn, render_trainjob(cfg, component, run_id="t1"), ns)
        names.append(made["metadata"]["name"])
    assert len(set(names)) == len(component_names())
    assert TUNE_CONFIGS
    for path in TUNE_CONFIGS:
        made = create(dyn, render_experiment(load_tune_config(path)), ns)
        assert made["kind"] == "Experiment"


def test_operator_webhook_refuses_what_the_crd_schema_lets_through(admin, restricted_ns):
    """The CRD's schema admits a `Chief` replica type; the operator's webhook (registered at a
    127.0.0.1 URL) refuses it, so the webhook is really in the admission chain."""
    from kubernetes.dynamic.exceptions import DynamicApiError

    ns = restricted_ns("webhook")
    doc = yaml.safe_load((ROOT / "manifests" / "pytorchjob-graph-vae.yaml").read_text())
    specs = doc["spec"]["pytorchReplicaSpecs"]
    specs["Chief"] = specs.pop(next(iter(specs)))  # Master or Worker, whichever the layout has
    with pytest.raises(DynamicApiError, match="Chief"):
        create(dynamic(admin), doc, ns)
