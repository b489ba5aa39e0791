"""A resolved config as the shortest list of `--set KEY=VALUE` arguments that reproduces it.

A PyTorchJob (or a Katib trial, or a KFP launcher step that creates one) is then self-contained:
no ConfigMap has to exist before the pods start, and `kubectl get pytorchjob -o yaml` shows every
value that differs from the defaults. Only values that differ are written, and component sections
are compared with what the top-level `trainer`/`optim` already give them after the loader's merge,
so nothing is repeated. The `kube:` section is left out: pods do not read it, except its
`store_uri`, which becomes the pods' `store.uri` (a local `store.uri` serves runs on this machine).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import yaml

from astrobio.config import AstrobioConfig, load_config
from astrobio.config.overrides import parse_value
from astrobio.config.kube import cluster_store_uri

POD_EXCLUDED = frozenset({"kube", "tune"})
ALWAYS = ("store.uri",)
"""Written even when equal to the default, so a reader of the job sees where artifacts go."""


def format_value(value: Any) -> str:
    """The text that `--set` parses back to `value`: bare where unambiguous, else JSON (valid YAML)."""
    if isinstance(value, str) and value == value.strip() and "\n" not in value:
        try:
            if parse_value(value) == value:
                return value
        except Exception:  # noqa: BLE001 - any parse problem just means: quote it
            pass
    text = json.dumps(value, allow_nan=False, ensure_ascii=False)
    if parse_value(text) != value:
        raise ValueError(f"cannot express {value!r} as a --set value")
    return text


def _diff(value: Any, default: Any, prefix: str) -> Iterator[tuple[str, Any]]:
    """(dotted key, value) for every leaf of `value` that differs from `default`."""
    if isinstance(value, dict) and isinstance(default, dict):
        for key, sub in value.items():
            yield from _diff(sub, default.get(key), f"{prefix}.{key}")
    elif value != default:
        yield prefix, value


def pod_tree(cfg: AstrobioConfig, run_id: str | None = None, component: str | None = None) -> dict[str, Any]:
    """The part of the config that pods read, with `run.run_id` pinned when a run id is given and,
    with `component`, only that component's section (a pod trains one component). Its store is
    the cluster store (`config.kube.cluster_store_uri`)."""
    tree = cfg.model_dump(mode="json", exclude=set(POD_EXCLUDED))
    tree["store"]["uri"] = cluster_store_uri(cfg.kube, cfg.store.uri)
    if run_id is not None:
        tree["run"]["run_id"] = run_id
    if component is not None:
        tree["components"] = {component: tree["components"][component]}
    return tree


def config_overrides(cfg: AstrobioConfig, run_id: str | None = None, component: str | None = None) -> list[str]:
    """`KEY=VALUE` strings (without the `--set`) that rebuild `cfg` (less `kube`, and with
    `component` less the other components' sections) from defaults."""
    tree = pod_tree(cfg, run_id, component)
    defaults = AstrobioConfig().model_dump(mode="json", exclude=set(POD_EXCLUDED))
    pairs: list[tuple[str, Any]] = []
    for section, value in tree.items():
        if section != "components":
            pairs.extend(_diff(value, defaults[section], section))
    top = [f"{key}={format_value(value)}" for key, value in pairs]
    merged = load_config(None, top).model_dump(mode="json")["components"]
    pairs.extend(_diff(tree["components"], merged, "components"))
    written = {key for key, _ in pairs}
    for key in ALWAYS:
        if key not in written:
            section, _, leaf = key.partition(".")
            pairs.insert(0, (key, tree[section][leaf]))
    return [f"{key}={format_value(value)}" for key, value in pairs]


def set_args(overrides: list[str]) -> list[str]:
    """`['a=1', 'b=2']` -> `['--set', 'a=1', '--set', 'b=2']`."""
    return [part for item in overrides for part in ("--set", item)]


def config_yaml(cfg: AstrobioConfig, run_id: str | None = None) -> str:
    """The pod-side config as a YAML file (for a ConfigMap, when the caller prefers a file)."""
    return yaml.safe_dump(pod_tree(cfg, run_id), sort_keys=False)


def render_config_map(cfg: AstrobioConfig, name: str, *, run_id: str | None = None) -> dict[str, Any]:
    """A ConfigMap holding the pod-side config as `config.yaml`: pair it with `config_ref=name`
    when a file in the pod is preferred to inline `--set` arguments."""
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": cfg.kube.namespace,
                     "labels": {"app.kubernetes.io/name": "astrobio"}},
        "data": {"config.yaml": config_yaml(cfg, run_id)},
    }
