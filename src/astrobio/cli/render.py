"""`astrobio render images | manifests | job | pipeline | chart | all`: generated files, no cluster needed."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from astrobio.cli.options import ApiOpt, ComponentOpt, ConfigOpt, OutOpt, SetOpt, guarded_command, load
from astrobio.checkout import default_root
from astrobio.console import to_stderr
from astrobio.errors import RuntimeFailure, UsageError


def config_source(config: Path, root: Path) -> str:
    """How generated files name their config: relative to the root when inside it."""
    try:
        return config.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return config.as_posix()


def check_api(api: str) -> str:
    if api not in ("pytorchjob", "trainjob"):
        raise UsageError(f"--api {api!r}: expected pytorchjob or trainjob")
    return api


@guarded_command
def render_images_cmd(out: OutOpt = None, config: ConfigOpt = None, set_: SetOpt = None) -> None:
    """Write images/base and images/<component> Dockerfiles; print the docker build/tag/push lines."""
    from astrobio.kube.render.images import build_commands, write_images

    cfg = load(config, set_)
    for path in write_images(out or default_root()):
        typer.echo(f"# wrote {path}", err=True)
    typer.echo("\n".join(build_commands(cfg)))


@guarded_command
def render_manifests_cmd(out: OutOpt = None, config: ConfigOpt = None, set_: SetOpt = None) -> None:
    """Write manifests/ (a PyTorchJob per component, Katib Experiments in manifests/katib/, Secret example, README)."""
    from astrobio.deploy.manifests import render_manifests
    from astrobio.tune.manifests import tuning_root

    root = out or default_root()
    source = config or default_root() / "configs" / "default.yaml"
    for path in render_manifests(load(source, set_), root, config_source(source, default_root()), tuning_root(root)):
        typer.echo(str(path))


@guarded_command
def render_job_cmd(component: ComponentOpt, api: ApiOpt = "pytorchjob", config: ConfigOpt = None, set_: SetOpt = None,
                   run_id: Annotated[Optional[str], typer.Option("--run-id", help="name suffix, label and artifact run id")] = None) -> None:
    """Print one component's PyTorchJob or TrainJob as YAML (validated first)."""
    from astrobio.kube.render.pytorchjob import render_pytorchjob
    from astrobio.kube.render.trainjob import render_trainjob
    from astrobio.kube.render.yamlio import dump_yaml
    from astrobio.kube.validate import validate_or_note

    render = render_pytorchjob if check_api(api) == "pytorchjob" else render_trainjob
    obj = render(load(config, set_), component, run_id=run_id)
    validate_or_note(obj, to_stderr)
    typer.echo(dump_yaml(obj), nl=False)


@guarded_command
def render_pipeline_cmd(out: OutOpt = None, config: ConfigOpt = None, set_: SetOpt = None) -> None:
    """Compile the five-phase KFP pipeline and its components (pipelines/, components/)."""
    try:
        from astrobio.pipeline import compile as compile_mod
    except ImportError as exc:
        raise RuntimeFailure(f"the KFP pipeline module is not available ({exc})") from None
    root = out or default_root()
    for path in compile_mod.render_pipeline(load(config or default_root() / "configs" / "default.yaml", set_), root):
        typer.echo(str(path))


@guarded_command
def render_chart_cmd(out: OutOpt = None, config: ConfigOpt = None, set_: SetOpt = None) -> None:
    """Regenerate the Helm chart's generated files (jobs, pipeline copy, schema) from the renderers."""
    from astrobio.deploy.chart import write_chart_files

    root = out or default_root()
    source = config or default_root() / "configs" / "default.yaml"
    for path in write_chart_files(load(source, set_), root, config_source(source, default_root())):
        typer.echo(str(path))


@guarded_command
def render_all_cmd(out: OutOpt = None, config: ConfigOpt = None, set_: SetOpt = None) -> None:
    """Everything generated, in dependency order: images, manifests, pipeline, chart files."""
    for render in (render_images_cmd, render_manifests_cmd, render_pipeline_cmd, render_chart_cmd):
        render.__wrapped__(out=out, config=config, set_=set_)
