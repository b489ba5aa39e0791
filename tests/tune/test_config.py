"""The `tune:` section and its loader: bad input is one clear error that names the parameter."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from astrobio.errors import UsageError
from astrobio.config.tune import Parameter, TuneSection, grid_values
from astrobio.tune.load import load_tune_config
from tests.cli_helpers import assert_one_line_error

from .conftest import ROOT, run_tune, tune_tree, write_config


def _param(**kw):
    return {"path": "optim.lr", "type": "float", "min": 0.001, "max": 0.1, **kw}


def _section(*params, **kw):
    return {"component": "graph_vae", "objective": {"metric": "val_auc"}, "parameters": list(params), **kw}


@pytest.mark.parametrize("bad, needle", [
    (_param(min=0.1, max=0.01), "empty range"),
    (_param(min=0.1, max=0.1), "empty range"),
    ({"path": "x.y", "type": "categorical", "values": []}, "empty list of values"),
    (_param(log=True, min=0.0), "log scale needs min > 0"),
    (_param(type="int", min=1.5, max=4), "whole numbers"),
    (_param(max=None), "needs both min and max"),
    ({"path": "a.b", "type": "categorical", "values": ["x y"]}, "must match"),
    (_param(log=True, step=0.01), "cannot have a step"),
])
def test_bad_parameter_is_rejected_with_its_name(bad, needle):
    with pytest.raises(ValidationError) as info:
        TuneSection.model_validate(_section(bad))
    text = str(info.value)
    assert needle in text
    assert "'lr'" in text or "'b'" in text or "'y'" in text


def test_names_default_to_last_segment_and_must_be_unique():
    p = Parameter.model_validate(_param(path="components.graph_vae.model.hidden_dim", type="int", min=8, max=64))
    assert p.key == "hidden_dim"
    with pytest.raises(ValidationError, match="two parameters are named 'lr'"):
        TuneSection.model_validate(_section(_param(), _param(path="components.graph_vae.optim.lr")))


def test_grid_needs_a_finite_space_at_least_as_large_as_the_budget():
    p = Parameter.model_validate(_param(step=0.033))
    assert grid_values(p) == [0.001, 0.034, 0.067, 0.1]
    with pytest.raises(ValidationError, match="grid has 4 combinations but budget.trials is 5"):
        TuneSection.model_validate(_section(_param(step=0.033), algorithm="grid", budget={"trials": 5}))
    with pytest.raises(ValidationError, match="grid needs a linear float with a step"):
        TuneSection.model_validate(_section(_param(), algorithm="grid"))


def test_textbook_config_loads(tmp_path):
    tc = load_tune_config(write_config(tmp_path, tune_tree()))
    assert tc.tune.component == "graph_vae" and tc.space.keys == ["lr"]
    assert "tune" not in tc.base_tree and tc.cfg.component("graph_vae").data.sources == ["textbook"]
    assert tc.study_name == "tt"


def test_shipped_graph_vae_config_loads():
    tc = load_tune_config(ROOT / "configs" / "tune-graph-vae.yaml")
    assert tc.space.keys == ["lr", "hidden_dim", "encoder"]


@pytest.mark.parametrize("param, needle", [
    ({"path": "components.graph_vae.model.hiden_dim", "type": "int", "min": 8, "max": 64},
     "tune parameter 'hiden_dim': unknown config path 'components.graph_vae.model.hiden_dim'"),
    ({"path": "components.graph_vae.model", "type": "int", "min": 8, "max": 64}, "is a section, not a value"),
    ({"path": "components.graph_vae.model.hidden_dim", "type": "int", "min": 8, "max": 100000},
     "value 100000 is not accepted by components.graph_vae.model.hidden_dim"),
    ({"path": "components.causal.optim.lr", "name": "clr", "type": "float", "min": 0.001, "max": 0.1},
     "does not change what 'graph_vae' trains with"),
    ({"path": "store.uri", "type": "categorical", "values": ["a", "b"]}, "does not change what"),
])
def test_parameter_paths_are_checked_against_the_resolved_config(tmp_path, param, needle):
    path = write_config(tmp_path, tune_tree(**{"tune.parameters": [param]}))
    with pytest.raises(UsageError) as info:
        load_tune_config(path)
    assert needle in str(info.value)


def test_top_level_value_shadowed_by_the_component_is_reported(tmp_path):
    tree = tune_tree(**{"components.graph_vae.optim": {"lr": 0.02}})
    with pytest.raises(UsageError, match="tune parameter 'lr': changing optim.lr does not change"):
        load_tune_config(write_config(tmp_path, tree))


def test_set_overrides_reach_the_tune_section(tmp_path):
    tc = load_tune_config(write_config(tmp_path, tune_tree()), ["tune.budget.trials=3", "optim.lr=0.05"])
    assert tc.tune.budget.trials == 3 and tc.cfg.optim.lr == 0.05


def test_cli_unknown_path_is_one_line_exit_2(tmp_path):
    bad = {"path": "optim.learning_rate", "type": "float", "min": 0.001, "max": 0.1}
    path = write_config(tmp_path, tune_tree(**{"tune.parameters": [bad]}))
    proc = run_tune("--config", str(path), "--backend", "optuna", "--output", str(tmp_path / "out"))
    assert_one_line_error(proc, 2, "learning_rate", "unknown config path", "valid keys under optim")
    assert not (tmp_path / "out").exists()  # nothing written


def test_cli_empty_range_is_one_line_exit_2(tmp_path):
    bad = {"path": "optim.lr", "type": "float", "min": 0.1, "max": 0.01}
    path = write_config(tmp_path, tune_tree(**{"tune.parameters": [bad]}))
    proc = run_tune("--config", str(path), "--backend", "katib", "--dry-run")
    assert_one_line_error(proc, 2, "tune.parameters.0", "parameter 'lr'", "empty range")


def test_missing_tune_section_is_a_usage_error(tmp_path):
    tree = tune_tree()
    del tree["tune"]
    with pytest.raises(UsageError, match="no `tune:` section"):
        load_tune_config(write_config(tmp_path, tree))


def test_shipped_fusion_study_reproduces_the_old_ranges():
    """Fusion is not registered yet, so only its `tune:` section can be checked today."""
    import yaml

    tree = yaml.safe_load((ROOT / "configs" / "tune-fusion.yaml").read_text())
    tune = TuneSection.model_validate(tree["tune"])
    ranges = {p.path: (p.min, p.max) for p in tune.parameters}
    assert ranges == {"components.fusion.model.latent_dim": (64, 256), "components.fusion.trainer.max_steps": (100, 400)}
    assert tune.component == "fusion" and tune.early_stopping.rule == "median"


def test_shipped_fusion_config_paths_exist_once_fusion_is_in_the_schema():
    from astrobio.config.schema import COMPONENT_FIELDS

    if "fusion" not in COMPONENT_FIELDS:
        pytest.skip("fusion has no config section in the schema yet")
    tc = load_tune_config(ROOT / "configs" / "tune-fusion.yaml")
    assert tc.space.keys == ["latent_dim", "max_steps"]
