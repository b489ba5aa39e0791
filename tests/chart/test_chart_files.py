"""Generated chart files never drift from the renderers (needs no Helm library)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from astrobio.config import load_config
from astrobio.deploy.chart import CHART as CHART_REL, render_chart_files

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / CHART_REL
DEFAULT = ROOT / "configs" / "default.yaml"


def test_generated_chart_files_match_a_fresh_render():
    fresh = render_chart_files(load_config(DEFAULT), ROOT)
    for rel, text in fresh.items():
        path = ROOT / rel
        assert path.is_file() and path.read_text(encoding="utf-8") == text, \
            f"{rel} drifted: run `python -m astrobio.deploy.chart`"
    for sub in ("pytorchjobs", "experiments"):  # no stale file of a removed component
        shipped = {p.relative_to(ROOT).as_posix() for p in (CHART / "files" / sub).glob("*.yaml")}
        assert shipped == {rel for rel in fresh if rel.startswith(f"{CHART_REL}/files/{sub}/")}


def test_shipped_jobs_cover_every_registered_component():
    import yaml

    from astrobio.catalog import component_names

    shipped = yaml.safe_load((CHART / "files" / "rendered-for.yaml").read_text())
    assert shipped["components"] == component_names(), "run `python -m astrobio.deploy.chart`"


def test_shipped_pipeline_is_the_compiled_one():
    shipped = (CHART / "files" / "astrobio-five-phase.yaml").read_bytes()
    assert shipped == (ROOT / "pipelines" / "astrobio-five-phase.yaml").read_bytes()


def test_chart_experiments_are_the_tuning_manifests():
    """One Katib renderer: each files/experiments/<name>.yaml is manifests/katib/<name>.yaml, one per
    configs/tune-<name>.yaml, and values.schema.json offers exactly those keys."""
    import json

    shipped = {p.name: p.read_text() for p in (CHART / "files" / "experiments").glob("*.yaml")}
    katib = {p.name: p.read_text() for p in (ROOT / "manifests" / "katib").glob("*.yaml")}
    assert shipped == katib and set(shipped) == {p.name.removeprefix("tune-") for p in (ROOT / "configs").glob("tune-*.yaml")}
    schema = json.loads((CHART / "values.schema.json").read_text())
    assert set(schema["properties"]["experiments"]["properties"]) == {n[:-5].replace("-", "_") for n in shipped}


def test_an_experiment_the_release_could_not_run_is_refused(tmp_path):
    from astrobio.errors import UsageError
    from astrobio.deploy.chart import chart_experiments

    (tmp_path / "configs").mkdir()
    tree = yaml.safe_load((ROOT / "configs" / "tune-graph-vae.yaml").read_text())
    (tmp_path / "configs" / "tune-graph-vae.yaml").write_text(yaml.safe_dump({**tree, "kube": {"namespace": "other"}}))
    with pytest.raises(UsageError, match="tune-graph-vae.yaml: its Experiment is for namespace 'other', not 'astrobio'"):
        chart_experiments(load_config(DEFAULT), tmp_path)


def test_generator_writes_the_chart_files_under_out(tmp_path):
    from astrobio.deploy.chart import main

    (tmp_path / "configs").mkdir()
    (tmp_path / "pipelines").mkdir()
    (tmp_path / "configs" / "default.yaml").write_text(DEFAULT.read_text())
    (tmp_path / "pipelines" / "astrobio-five-phase.yaml").write_text("# pipeline\n")
    stale = tmp_path / CHART_REL / "files" / "pytorchjobs" / "pytorchjob-gone.yaml"
    stale.parent.mkdir(parents=True)
    stale.write_text("x")
    assert main(["--out", str(tmp_path), "--set", "kube.namespace=ml"]) == 0
    assert not stale.exists()
    rendered_for = (tmp_path / CHART_REL / "files" / "rendered-for.yaml").read_text()
    assert "namespace: ml" in rendered_for and "from configs/default.yaml" in rendered_for
    assert main(["--out", str(tmp_path), "--set", "kube.nope=1"]) == 2
