"""The catalog is the one list of components: everything that names components agrees with it.

Schema sections, registered SPECs, the phases' component lists, the pipeline's tasks and upstream
wiring, tune's metric declarations, the run summary's headlines, and the generated chart, images,
manifests and KFP files (committed; their drift tests prove they equal a fresh render) all derive
from `astrobio.catalog.COMPONENTS`; a component missing from any of them fails here.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from astrobio.catalog import COMPONENTS, PHASES, component, component_names, get_spec, phase_of_component
from astrobio.config import load_config
from astrobio.config.schema import COMPONENT_FIELDS, AstrobioConfig
from astrobio.errors import UsageError
from astrobio.pipeline.kfp_components import kfp_component_name
from astrobio.pipeline.steps import expected_upstream
from astrobio.report.summary import HEADLINES
from astrobio.tune.metrics import declared_metrics

ROOT = Path(__file__).resolve().parents[1]
NAMES = [row.name for row in COMPONENTS]
STEPS = [name for phase in PHASES for name in phase.components]


def test_schema_sections_are_the_table_rows_in_order() -> None:
    assert list(COMPONENT_FIELDS) == NAMES
    assert sorted(NAMES) == component_names() and len(set(NAMES)) == len(NAMES)
    cfg = AstrobioConfig()
    for row in COMPONENTS:
        assert type(cfg.component(row.name)) is row.config_cls
        assert cfg.component(row.name) == row.config_cls()


@pytest.mark.parametrize("name", NAMES)
def test_each_spec_agrees_with_its_row(name: str) -> None:
    """get_spec itself refuses a SPEC whose name, phase, upstream or config class differs."""
    row = component(name)
    spec = get_spec(name)
    assert (spec.name, spec.phase, tuple(spec.upstream), spec.config_cls) == (name, row.phase, row.upstream, row.config_cls)
    assert (spec.image, spec.description) == (row.image, row.description) and row.image and row.description


@pytest.mark.parametrize("change", [{"phase": "integrate"}, {"image": "astrobio/other"}, {"description": "something else"},
                                    {"supports_ddp": True}, {"figure": "astrobio.components.datacube.figure:draw"},
                                    {"figure": None}])
def test_get_spec_refuses_a_spec_that_disagrees_with_its_row(monkeypatch: pytest.MonkeyPatch, change: dict[str, str]) -> None:
    """The SPEC loaded by module name is checked against the row, image, description and figure
    included (`astrobio components` prints them, and a pipeline step draws the figure, from the row
    without loading SPEC)."""
    import astrobio.catalog as catalog

    row = component("causal")
    monkeypatch.setitem(catalog._BY_NAME, "causal", dataclasses.replace(row, **change))
    with pytest.raises(RuntimeError, match="disagrees with the catalog row"):
        get_spec("causal")


def test_unknown_component_is_a_usage_error_with_a_suggestion() -> None:
    with pytest.raises(UsageError, match="unknown component 'causl' \\(did you mean 'causal'\\?\\)"):
        component("causl")


def test_phases_list_every_row_once_under_its_own_phase() -> None:
    assert {phase.name for phase in PHASES} >= {row.phase for row in COMPONENTS}
    assert sorted(STEPS) == sorted([*NAMES, "production"])
    for row in COMPONENTS:
        assert phase_of_component(row.name).name == row.phase
    numbers = {phase.name: phase.number for phase in PHASES}
    for phase in PHASES:
        assert all(numbers[need] < phase.number for need in phase.needs), phase.name


@pytest.mark.parametrize("name", NAMES)
def test_upstream_is_what_the_pipeline_wires(name: str) -> None:
    """The pipeline hands a step every component of the phases its phase needs; that must be exactly
    what the row (and so its SPEC) says the component reads."""
    assert sorted(expected_upstream(name)) == sorted(component(name).upstream)


def test_metric_declarations_and_headlines_belong_to_rows() -> None:
    cfg = load_config(None, [])
    assert set(HEADLINES) == set(NAMES)
    for row in COMPONENTS:
        assert row.headline and all(goal in ("max", "min") for _, goal in row.headline)
        names = declared_metrics(cfg, row.name)
        if row.metrics is None:
            assert names is None
            continue
        assert row.metrics.__module__ == f"astrobio.components.{row.name}.metrics"
        assert any(f"test_{metric}" in names for metric, _ in row.headline), row.name


def test_generated_files_name_exactly_the_table() -> None:
    pipeline = next(yaml.safe_load_all((ROOT / "pipelines" / "astrobio-five-phase.yaml").read_text()))
    assert set(pipeline["root"]["dag"]["tasks"]) == {kfp_component_name(s) for s in STEPS}
    assert sorted(p.stem for p in (ROOT / "components").glob("*.yaml")) == sorted(kfp_component_name(s) for s in STEPS)
    schema = json.loads((ROOT / "charts" / "astrobio" / "values.schema.json").read_text())
    assert sorted(schema["properties"]["jobs"]["properties"]) == component_names()
    jobs = sorted(p.name for p in (ROOT / "manifests").glob("pytorchjob-*.yaml"))
    assert jobs == sorted(f"pytorchjob-{n.replace('_', '-')}.yaml" for n in NAMES)
    chart_jobs = sorted(p.name for p in (ROOT / "charts" / "astrobio" / "files" / "pytorchjobs").glob("*.yaml"))
    assert chart_jobs == jobs
    assert sorted(p.name for p in (ROOT / "images").iterdir() if p.is_dir()) == sorted(["base", *NAMES])


def test_the_catalog_and_config_import_no_torch() -> None:
    """The CLI, renderers and the KFP launcher pod read the table without paying for torch."""
    code = ("import sys, astrobio.catalog, astrobio.config, astrobio.report.summary; "
            "assert 'torch' not in sys.modules, 'torch imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_component_config_imports_first_without_an_import_order_hack() -> None:
    """Each component's config (and metrics) module imports on its own in a fresh interpreter: no
    cycle through the config package, no import-order workaround in the component's __init__."""
    for row in COMPONENTS:
        modules = [row.config_cls.__module__] + ([row.metrics.__module__] if row.metrics else [])
        code = "; ".join(f"import {m}" for m in modules)
        subprocess.run([sys.executable, "-c", code], check=True)
