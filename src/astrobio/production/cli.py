"""`astrobio models list | show | promote`: the model registry from the command line.

Plain typer command functions; `astrobio.cli` wires them into its `models` app:

    models_app.command("list")(models_list)
    models_app.command("show")(models_show)
    models_app.command("promote")(models_promote)

The store is `--store URI`, else `--config F`'s `store.uri`, else the config default (`artifacts`).
An unknown model, version or alias is a usage error (one line, exit 2).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from astrobio.cli_support import guarded

if TYPE_CHECKING:
    from astrobio.production.registry import ModelRegistry

StoreOpt = Annotated[Optional[str], typer.Option("--store", help="artifact store URI (default: the config's store.uri)")]
ConfigOpt = Annotated[Optional[Path], typer.Option("--config", "-f", help="YAML run config whose store.uri to use")]
DebugOpt = Annotated[bool, typer.Option("--debug", help="show tracebacks")]
NameArg = Annotated[str, typer.Argument(help="model name (a component, e.g. graph_vae)")]


def store_uri(store: str | None, config: Path | None) -> str:
    """--store wins; otherwise the (possibly default) config's store.uri."""
    if store:
        return store
    from astrobio.config import load_config

    return load_config(config).store.uri


def open_registry(store: str | None, config: Path | None, *, check: bool = False) -> ModelRegistry:
    """The registry in the chosen store; `check` (writes) fails fast on an unusable store."""
    from astrobio.production.registry import ModelRegistry
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


def models_list(store: StoreOpt = None, config: ConfigOpt = None, debug: DebugOpt = False) -> None:
    """List registered models with their version count, production alias and newest version."""

    def body() -> None:
        registry = open_registry(store, config)
        models = registry.list_models()
        print(format_listing(models) if models else f"no models registered in {registry.store.uri}")

    guarded(body, debug)


VersionArg = Annotated[Optional[str], typer.Argument(
    help="version, unique version prefix or alias (default: production, else the newest version)")]


def models_show(name: NameArg, version: VersionArg = None, store: StoreOpt = None, config: ConfigOpt = None,
                debug: DebugOpt = False) -> None:
    """Print one registry entry (artifact URI, metrics, model card, aliases) as JSON."""

    def body() -> None:
        print(json.dumps(open_registry(store, config).show(name, version), indent=2, sort_keys=True))

    guarded(body, debug)


def models_promote(name: NameArg,
                   version: Annotated[str, typer.Argument(help="version (or alias/unique prefix) to point the alias at")],
                   alias: Annotated[str, typer.Option("--alias", help="alias to move")] = "production",
                   store: StoreOpt = None, config: ConfigOpt = None, debug: DebugOpt = False) -> None:
    """Point an alias (default: production) at a registered version; the move is kept in its history."""

    def body() -> None:
        registry = open_registry(store, config, check=True)
        doc = registry.promote(name, version, alias)
        move = doc["history"][-1]
        was = f"was {move['previous']}" if move["previous"] else "was unset"
        print(f"{name}: {alias} -> {move['version']} ({was})")

    guarded(body, debug)
