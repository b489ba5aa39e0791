"""Cluster objects use the object store (`kube.store_uri`), never the local `store.uri` of the config.

`configs/default.yaml` is also the local GPU config (`store.uri: artifacts`); before `kube.store_uri`
every manifest, chart job, Experiment and tune manifest told its pods to write into their own
emptyDir, where artifacts and checkpoints die with the pod.
"""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
import yaml

from astrobio.config import load_config
from astrobio.config.kube import CLUSTER_STORE, cluster_store_uri
from astrobio.kube.render.config_args import config_yaml
from astrobio.kube.render.job_description import ARTIFACT_ANNOTATION
from astrobio.kube.render.pytorchjob import render_pytorchjob
from astrobio.kube.render.trainjob import render_trainjob
from astrobio.catalog import component_names
from tests.cli_helpers import assert_one_line_error, run_cli

from .conftest import DEFAULT, ROOT

GENERATED = sorted([*(ROOT / "manifests").glob("*.yaml"), *(ROOT / "charts" / "astrobio" / "files").rglob("*.yaml")])


def _strings(node: object) -> list[str]:
    if isinstance(node, dict):
        return [s for v in node.values() for s in _strings(v)]
    if isinstance(node, list):
        return [s for v in node for s in _strings(v)]
    return [node] if isinstance(node, str) else []


def store_settings(doc: object) -> list[str]:
    """Every `store.uri=...` a container passes to astrobio, also inside a Katib `sh -c` line."""
    words = []
    for text in _strings(doc):
        words += shlex.split(text) if " --set " in text else [text]
    return [w.split("=", 1)[1] for w in words if w.startswith("store.uri=")]


@pytest.mark.parametrize("path", GENERATED, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_shipped_job_writes_to_the_object_store(path: Path):
    docs = [d for d in yaml.safe_load_all(path.read_text()) if d]
    jobs = [d for d in docs if d.get("kind") in ("PyTorchJob", "Experiment")]
    for doc in jobs:
        uris = store_settings(doc)
        assert uris, f"{path.name}: a job without a store.uri setting"
        assert all(u.startswith("s3://") for u in uris), (path.name, uris)


@pytest.mark.parametrize("component", component_names())
def test_jobs_use_kube_store_uri_and_name_it_in_the_annotation(component):
    cfg = load_config(DEFAULT, ["kube.store_uri=s3://team-bucket/exp1"])
    assert cfg.store.uri == "artifacts"  # the local runs' store is untouched
    for job in (render_pytorchjob(cfg, component), render_trainjob(cfg, component)):
        assert set(store_settings(job)) == {"s3://team-bucket/exp1"}
        assert job["metadata"]["annotations"][ARTIFACT_ANNOTATION].startswith("s3://team-bucket/exp1/runs/")
    assert yaml.safe_load(config_yaml(cfg))["store"]["uri"] == "s3://team-bucket/exp1"


def test_unset_kube_store_uri_takes_an_s3_store_uri_else_the_chart_default():
    local = load_config(DEFAULT)
    assert local.kube.store_uri is None and local.store.uri == "artifacts"
    assert cluster_store_uri(local.kube, local.store.uri) == CLUSTER_STORE == "s3://astrobio/artifacts"
    remote = load_config(DEFAULT, ["store.uri=s3://lab/runs"])
    assert store_settings(render_pytorchjob(remote, "causal")) == ["s3://lab/runs"]


@pytest.mark.parametrize(("uri", "needle"), [("artifacts", "not a local folder"), ("file:///data/store", "not a local folder"),
                                             ("s3://", "not a local folder"), ("s3://k:s@bucket/p", "user info")])
def test_a_local_cluster_store_is_refused_at_load(uri, needle):
    from astrobio.errors import UsageError

    with pytest.raises(UsageError, match="kube.store_uri") as info:
        load_config(DEFAULT, [f"kube.store_uri={uri}"])
    assert needle in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize("command", [["render", "job", "-c", "graph_vae"],
                                     ["submit", "train", "-c", "graph_vae", "--dry-run"],
                                     ["render", "manifests"]])
def test_cluster_render_and_submit_refuse_a_local_store_with_one_line(command, tmp_path):
    extra = ["--out", str(tmp_path)] if command[1] == "manifests" else []
    proc = run_cli(*command, *extra, "--config", str(DEFAULT), "--set", "kube.store_uri=artifacts")
    assert_one_line_error(proc, 2, "kube.store_uri", "s3://")
    assert proc.stdout == "" and not any(tmp_path.iterdir())  # nothing printed or half-written
