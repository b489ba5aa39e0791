"""Load a tuning config: the run config every trial starts from, plus its `tune:` section.

The `tune:` section is split off the YAML tree before the rest is validated, so this works whether
or not the root schema has a `tune` field, and the tree handed to trials (`base_tree`) is always a
plain run config that `astrobio train` accepts. Every parameter is then checked against the
resolved config: its path must name a value in the tree, its bounds must be values that field
accepts, and changing it must change what the tuned component trains with (a top-level
`optim.lr` overridden by `components.<name>.optim.lr` would silently do nothing).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from astrobio.config.errors import format_validation_error
from astrobio.config.load import merge_component_defaults, read_yaml
from astrobio.config.overrides import apply_overrides
from astrobio.config.schema import COMPONENT_FIELDS, AstrobioConfig
from astrobio.errors import UsageError
from astrobio.config.tune import Parameter, TuneSection
from astrobio.tune.space import SearchSpace

SECTION = "tune"


@dataclass(frozen=True)
class TuneConfig:
    """A validated tuning config: the resolved run config, the search, and the raw tree trials use."""

    cfg: AstrobioConfig
    tune: TuneSection
    base_tree: dict[str, Any]
    source: str

    @property
    def space(self) -> SearchSpace:
        return SearchSpace(self.tune.parameters)

    @property
    def study_name(self) -> str:
        return self.tune.name or self.cfg.run.name.lower().replace("_", "-").replace(".", "-")


def validate_tree(tree: dict[str, Any], source: str) -> AstrobioConfig:
    """The loader's validation step for an in-memory tree (same merge, same one-line errors)."""
    try:
        return AstrobioConfig.model_validate(merge_component_defaults(tree))
    except ValidationError as exc:
        raise UsageError(format_validation_error(exc, AstrobioConfig, source)) from None


def split_tune(tree: dict[str, Any], source: str) -> tuple[dict[str, Any], TuneSection]:
    """(run-config tree without `tune:`, validated TuneSection)."""
    rest = {k: v for k, v in tree.items() if k != SECTION}
    raw = tree.get(SECTION)
    if raw is None:
        raise UsageError(f"{source}: no `tune:` section (see configs/tune-graph-vae.yaml for an example)")
    try:
        return rest, TuneSection.model_validate(raw)
    except ValidationError as exc:
        message = format_validation_error(exc, TuneSection, source)
        raise UsageError(message.replace(f"{source}: ", f"{source}: tune.", 1)) from None


def load_tune_config(path: Path, overrides: Sequence[str] = ()) -> TuneConfig:
    """Read `path`, apply `--set` overrides (`tune.*` ones included), validate both parts."""
    source = str(path)
    tree = apply_overrides(read_yaml(Path(path)), overrides)
    base, tune = split_tune(tree, source)
    if tune.component not in COMPONENT_FIELDS:
        raise UsageError(f"{source}: tune.component '{tune.component}' is not a registered component "
                         f"(expected one of: {', '.join(COMPONENT_FIELDS)})")
    cfg = validate_tree(base, source)
    for param in tune.parameters:
        check_parameter(base, cfg, tune.component, param, source)
    return TuneConfig(cfg=cfg, tune=tune, base_tree=base, source=source)


def _lookup(tree: dict[str, Any], dotted: str) -> tuple[bool, Any]:
    node: Any = tree
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return False, None
        node = node[part]
    return True, node


def _closest(tree: dict[str, Any], dotted: str) -> str:
    """The longest existing prefix of `dotted` and the keys valid under it (for the message)."""
    parts = dotted.split(".")
    node: Any = tree
    done: list[str] = []
    for part in parts:
        if not isinstance(node, dict) or part not in node:
            break
        node, done = node[part], [*done, part]
    where = ".".join(done) or "<root>"
    keys = ", ".join(sorted(node)) if isinstance(node, dict) else "(a value, not a section)"
    return f"valid keys under {where}: {keys}"


def _effect(cfg: AstrobioConfig, component: str) -> Any:
    """What a trial of `component` actually trains with: its resolved section and the run seed."""
    return (cfg.component(component).model_dump(mode="json"), cfg.run.seed)


def check_parameter(base: dict[str, Any], cfg: AstrobioConfig, component: str, param: Parameter,
                    source: str) -> None:
    """UsageError naming `param` unless its path exists, its bounds validate and it has an effect."""
    where = f"{source}: tune parameter '{param.key}'"
    if param.path.split(".")[0] == SECTION:
        raise UsageError(f"{where}: path {param.path} points into the tune section itself")
    found, current = _lookup(cfg.model_dump(mode="json"), param.path)
    if not found:
        raise UsageError(f"{where}: unknown config path '{param.path}' ({_closest(cfg.model_dump(mode='json'), param.path)})")
    if isinstance(current, dict):
        raise UsageError(f"{where}: '{param.path}' is a section, not a value")
    space = SearchSpace([param])
    probes = space.extremes(param)
    effects = []
    for value in probes:
        arg = space.set_arg(param, value)
        try:
            probe = validate_tree(apply_overrides(base, [arg]), source)
        except UsageError as exc:
            detail = str(exc).split(": ", 1)[-1]
            raise UsageError(f"{where}: value {value!r} is not accepted by {param.path}: {detail}") from None
        effects.append(_effect(probe, component))
    if len(probes) > 1 and all(e == effects[0] for e in effects[1:]):
        raise UsageError(f"{where}: changing {param.path} does not change what '{component}' trains with "
                         f"(is it overridden under components.{component}, or another component's setting?)")


def trial_tree(base: dict[str, Any], set_args: Sequence[str]) -> dict[str, Any]:
    """`base` with a trial's `--set` values applied (what best.yaml holds for the best trial)."""
    return apply_overrides(copy.deepcopy(base), set_args)
