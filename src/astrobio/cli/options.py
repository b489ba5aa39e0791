"""The options every command shares, defined once, and `guarded_command`, which gives a command
`--debug` and runs it under `guarded` (one stderr line and an exit code instead of a traceback)."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from astrobio.cli.guard import guarded

ConfigOpt = Annotated[Optional[Path], typer.Option("--config", "-f", help="YAML run config (e.g. configs/smoke.yaml)")]
SetOpt = Annotated[Optional[list[str]], typer.Option("--set", help="override KEY=VALUE, e.g. optim.lr=3e-4 (repeatable)")]
DebugOpt = Annotated[bool, typer.Option("--debug", help="show tracebacks")]
ComponentOpt = Annotated[str, typer.Option("--component", "-c", help="registered component name")]
KubeconfigOpt = Annotated[Optional[Path], typer.Option("--kubeconfig", help="kubeconfig file (default: $KUBECONFIG, ~/.kube/config)")]
NamespaceOpt = Annotated[Optional[str], typer.Option("--namespace", "-n", help="default: kube.namespace")]
OutOpt = Annotated[Optional[Path], typer.Option("--out", help="repository root to write under (default: this repository)")]
ApiOpt = Annotated[str, typer.Option("--api", help="pytorchjob (Training Operator v1) or trainjob (Kubeflow Trainer v2)")]
StoreOpt = Annotated[Optional[str], typer.Option("--store", help="artifact store URI (default: the config's store.uri)")]


def guarded_command(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a command function: typer sees its parameters plus `--debug`, and the body runs under
    `guarded`, so every command maps failures to exit codes the same way (README "Exit codes")."""
    signature = inspect.signature(fn, eval_str=True)
    debug = inspect.Parameter("debug", inspect.Parameter.KEYWORD_ONLY, default=False, annotation=DebugOpt)

    @functools.wraps(fn)
    def command(*args: Any, debug: bool = False, **kwargs: Any) -> Any:
        return guarded(lambda: fn(*args, **kwargs), debug)

    command.__signature__ = signature.replace(parameters=[*signature.parameters.values(), debug])  # type: ignore[attr-defined]
    return command


def load(config: Path | None, sets: list[str] | None):  # -> AstrobioConfig (imported lazily: start-up)
    """The resolved run config of a command's --config/--set."""
    from astrobio.config import load_config

    return load_config(config, sets or [])

