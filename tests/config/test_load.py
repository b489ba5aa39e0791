"""Config loading: files, typed overrides, merged component defaults, one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from astrobio.config import config_hash, load_config, to_yaml
from astrobio.config.overrides import apply_overrides, parse_override
from astrobio.errors import UsageError

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


@pytest.mark.parametrize("name", ["smoke.yaml", "default.yaml"])
def test_shipped_configs_validate(name):
    cfg = load_config(CONFIGS / name)
    section = cfg.component("graph_vae")
    assert section.trainer.nan_policy == cfg.trainer.nan_policy  # top-level default reaches the component
    assert section.trainer.checkpoint == cfg.trainer.checkpoint


def test_no_file_gives_defaults():
    assert load_config(None).run.name == "astrobio"


@pytest.mark.parametrize("text,value", [
    ("optim.lr=3e-4", 3e-4), ("trainer.max_steps=7", 7), ("trainer.deterministic=false", False),
    ("optim.betas=[0.8,0.9]", [0.8, 0.9]), ("run.run_id=null", None), ("run.name=abc", "abc"),
])
def test_override_values_are_typed(text, value):
    assert parse_override(text)[1] == value


def test_overrides_reach_components_through_merge():
    cfg = load_config(CONFIGS / "smoke.yaml", ["optim.weight_decay=0.25", "trainer.log_every=5",
                                               "trainer.max_steps=5"])
    assert cfg.component("graph_vae").optim.weight_decay == 0.25
    assert cfg.component("graph_vae").trainer.log_every == 5
    assert cfg.component("graph_vae").trainer.max_steps == 150  # its own setting wins over the top level


def test_component_override_wins_over_top_level():
    cfg = load_config(None, ["trainer.max_steps=5", "components.graph_vae.trainer.max_steps=9",
                             "components.graph_vae.optim.lr=0.1"])
    section = cfg.component("graph_vae")
    assert section.trainer.max_steps == 9 and section.optim.lr == 0.1 and cfg.trainer.max_steps == 5


def test_apply_overrides_does_not_mutate_input():
    tree = {"a": {"b": 1}}
    assert apply_overrides(tree, ["a.c=2"]) == {"a": {"b": 1, "c": 2}} and tree == {"a": {"b": 1}}


@pytest.mark.parametrize("overrides,pattern", [
    (["optim.lrr=1"], r"unknown key 'optim.lrr' \(did you mean 'optim.lr'\?\)"),
    (["components.graph_vae.modle.encoder=gcn"], r"unknown key 'components.graph_vae.modle' \(did you mean 'components.graph_vae.model'\?\)"),
    (["trainer.max_steps=abc"], r"trainer.max_steps: .*integer.*'abc'"),
    (["trainer.max_steps=-1"], r"trainer.max_steps: .*greater than or equal to 1"),
    (["components.graph_vae.model.encoder=gat"], r"components.graph_vae.model.encoder: .*'gcn', 'sage' or 'transformer'"),
    (["components.graph_vae.data.sources=[nope]"], r"components.graph_vae.data.sources: .*neither a bundled model"),
    (["run.name=../evil"], r"run.name: .*pattern"),
    (["novalue"], r"--set 'novalue': expected KEY=VALUE"),
    (["optim.lr=1", "optim.lr.x=1"], r"'optim.lr' is a value, not a section"),
    (["optim.lr.x=1"], r"optim.lr: Input should be a valid number"),
])
def test_bad_values_give_one_line_naming_the_field(overrides, pattern):
    with pytest.raises(UsageError, match=pattern) as info:
        load_config(None, overrides)
    assert "\n" not in str(info.value)


def test_missing_file(tmp_path):
    with pytest.raises(UsageError, match=r"config file .*nope.yaml: not found"):
        load_config(tmp_path / "nope.yaml")


def test_malformed_yaml_names_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("run:\n  name: [unclosed\n  seed: 1\n")
    with pytest.raises(UsageError, match=r"bad.yaml: invalid YAML at line \d+"):
        load_config(bad)


def test_top_level_must_be_mapping(tmp_path):
    bad = tmp_path / "list.yaml"
    bad.write_text("- 1\n- 2\n")
    with pytest.raises(UsageError, match="expected a mapping"):
        load_config(bad)


def test_hash_is_stable_and_sensitive():
    a = load_config(CONFIGS / "smoke.yaml")
    b = load_config(CONFIGS / "smoke.yaml")
    c = load_config(CONFIGS / "smoke.yaml", ["optim.lr=0.5"])
    assert config_hash(a) == config_hash(b) != config_hash(c)
    assert "graph_vae" in to_yaml(a)
