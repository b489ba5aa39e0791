"""Values pydantic would accept by default but a run cannot use, and YAML no config can be."""

from __future__ import annotations

import pytest

from astrobio.config import load_config
from astrobio.errors import UsageError, one_line


@pytest.mark.parametrize("override,pattern", [
    ("trainer.early_stopping.min_delta=.inf", r"trainer.early_stopping.min_delta: Input should be a finite number"),
    ("trainer.clip_grad_norm=.inf", r"trainer.clip_grad_norm: Input should be a finite number"),
    ("optim.lr=nan", r"optim.lr: Input should be a finite number"),
    ("optim.betas=[.nan,0.5]", r"optim.betas.0: Input should be a finite number"),
    ("optim.betas=[0.9,1.5]", r"optim.betas.1: Input should be less than 1"),
    ("trainer.max_steps=true", r"trainer.max_steps: expected a number, not a boolean"),
    ("optim.betas=[true,0.5]", r"optim.betas: expected a number, not a boolean"),
    ("run=" + "[" * 3000, r"run: Input should be a valid dictionary"),
    ("run=&a [*a]", r"--set 'run' value: '0' contains itself"),
    ("run.name={" + "a: {" * 40 + "}" * 41, r"--set 'run.name' value: .* nests more than 32 levels"),
])
def test_unusable_values_are_refused_naming_the_field(override, pattern):
    with pytest.raises(UsageError, match=pattern) as info:
        load_config(None, [override])
    assert "\n" not in str(info.value)


def test_optional_numbers_still_take_null_and_bool_fields_take_bools():
    cfg = load_config(None, ["trainer.clip_grad_norm=null", "trainer.deterministic=false"])
    assert cfg.trainer.clip_grad_norm is None and cfg.trainer.deterministic is False


@pytest.mark.parametrize("text,where", [
    ("[" * 5000, "(nested too deeply|exceeded maximum nesting depth)"),  # pure-Python parser | libyaml
    ("run: &x {name: *x}\n", "'run.name' contains itself"),
])
def test_hostile_yaml_files_are_refused_naming_the_file(tmp_path, text, where):
    path = tmp_path / "hostile.yaml"
    path.write_text(text)
    with pytest.raises(UsageError, match=f"config file {path}: .*{where}"):
        load_config(path)


def test_error_lines_cannot_be_split_or_hide_text():
    assert one_line("a\nb\r\tc\x00\x1b[2J\u2028") == "a b  c\\x00\\x1b[2J\\u2028"
    assert str(UsageError("bad key 'x\ny'")) == "bad key 'x y'"
