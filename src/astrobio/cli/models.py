"""`astrobio models inspect | list | show | promote`: weights files and the versioned model registry.

The store is `--store URI`, else `--config F`'s `store.uri`, else the config default (`artifacts`).
An unknown model, version or alias is a usage error (one line, exit 2).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from astrobio.cli.options import ComponentOpt, ConfigOpt, SetOpt, StoreOpt, guarded_command, load

if TYPE_CHECKING:
    from astrobio.production.model_registry import ModelRegistry

NameArg = Annotated[str, typer.Argument(help="model name (a component, e.g. graph_vae)")]
VersionArg = Annotated[Optional[str], typer.Argument(
    help="version, unique version prefix or alias (default: production, else the newest version)")]


def store_uri(store: str | None, config: Path | None) -> str:
    """--store wins; otherwise the (possibly default) config's store.uri."""
    if store:
        return store
    return load(config, None).store.uri


def open_registry(store: str | None, config: Path | None, *, check: bool = False) -> ModelRegistry:
    """The registry in the chosen store; `check` (writes) fails fast on an unusable store."""
    from astrobio.production.model_registry import ModelRegistry
    from astrobio.store import open_store

    opened = open_store(store_uri(store, config), os.environ)
    if check:
        opened.check()
    return ModelRegistry(opened)


def format_listing(models: list[dict]) -> str:
    """One line per model: name, version count, production version, newest version and its time."""
    if not models:
        return ""
    rows = [("model", "versions", "production", "latest", "created")]
    for m in models:
        rows.append((m["name"], str(m["versions"]), m["aliases"].get("production", "-"), m["latest"],
                     str(m.get("latest_created") or "-")))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows)


@guarded_command
def models_list(store: StoreOpt = None, config: ConfigOpt = None) -> None:
    """List registered models with their version count, production alias and newest version."""
    registry = open_registry(store, config)
    models = registry.list_models()
    print(format_listing(models) if models else f"no models registered in {registry.store.uri}")


@guarded_command
def models_show(name: NameArg, version: VersionArg = None, store: StoreOpt = None, config: ConfigOpt = None) -> None:
    """Print one registry entry (artifact URI, metrics, model card, aliases) as JSON."""
    print(json.dumps(open_registry(store, config).show(name, version), indent=2, sort_keys=True))


@guarded_command
def models_promote(name: NameArg,
                   version: Annotated[str, typer.Argument(help="version (or alias/unique prefix) to point the alias at")],
                   alias: Annotated[str, typer.Option("--alias", help="alias to move")] = "production",
                   store: StoreOpt = None, config: ConfigOpt = None) -> None:
    """Point an alias (default: production) at a registered version; the move is kept in its history."""
    registry = open_registry(store, config, check=True)
    doc = registry.promote(name, version, alias)
    move = doc["history"][-1]
    was = f"was {move['previous']}" if move["previous"] else "was unset"
    print(f"{name}: {alias} -> {move['version']} ({was})")


@guarded_command
def models_inspect(
    file: Annotated[Path, typer.Argument(help="weights file: state dict, checkpoint, Lightning .ckpt, or safetensors")],
    component: ComponentOpt,
    config: ConfigOpt = None,
    set_: SetOpt = None,
) -> None:
    """Compare a weights file key by key with a component's architecture, without training."""
    from astrobio.catalog import get_spec
    from astrobio.trainer.pretrained import inspect_weights

    cfg = load(config, set_)
    spec = get_spec(component)
    section = cfg.component(component)
    data = spec.build_data(section, 0, 1, None)
    report = inspect_weights(file, spec.build_model(section, data))
    print(report.render())
    if not report.clean:
        raise SystemExit(1)
