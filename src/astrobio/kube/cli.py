"""CLI for the cluster side: `astrobio render ...`, `astrobio submit ...`, `astrobio doctor`.

`astrobio.cli` mounts these (`add_typer(render_app, name="render")`, `add_typer(submit_app,
name="submit")`, `command("doctor")(doctor_command)`). Every command body runs under
`guarded`, so a usage problem is one line and exit 2, a runtime failure one line and exit 1.
Heavy imports happen inside the bodies, keeping `astrobio --help` fast.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Optional

import typer

from astrobio.cli_support import guarded
from astrobio.errors import RuntimeFailure, UsageError

render_app = typer.Typer(no_args_is_help=True, help="Render images, manifests, jobs and the pipeline (no cluster needed).")
submit_app = typer.Typer(no_args_is_help=True, help="Submit training or the pipeline to a Kubeflow cluster.")

ConfigOpt = Annotated[Optional[Path], typer.Option("--config", "-f", help="YAML run config")]
SetOpt = Annotated[Optional[list[str]], typer.Option("--set", help="override KEY=VALUE (repeatable)")]
DebugOpt = Annotated[bool, typer.Option("--debug", help="show tracebacks")]
OutOpt = Annotated[Optional[Path], typer.Option("--out", help="repository root to write under (default: this repository)")]
ApiOpt = Annotated[str, typer.Option("--api", help="pytorchjob (Training Operator v1) or trainjob (Kubeflow Trainer v2)")]
ComponentOpt = Annotated[str, typer.Option("--component", "-c", help="registered component name")]
KubeconfigOpt = Annotated[Optional[Path], typer.Option("--kubeconfig", help="kubeconfig file (default: $KUBECONFIG, ~/.kube/config)")]


def default_root() -> Path:
    """The repository this package runs from (editable install), else the current folder."""
    here = Path(__file__).resolve().parents[3]
    return here if (here / "pyproject.toml").is_file() else Path.cwd()


def _load(config: Path | None, sets: list[str] | None):  # -> AstrobioConfig
    from astrobio.config import load_config

    return load_config(config, sets or [])


def _source(config: Path, root: Path) -> str:
    """How generated files name their config: relative to the root when inside it."""
    try:
        return config.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return config.as_posix()


def _check_api(api: str) -> str:
    if api not in ("pytorchjob", "trainjob"):
        raise UsageError(f"--api {api!r}: expected pytorchjob or trainjob")
    return api


@render_app.command("images")
def render_images_cmd(out: OutOpt = None, config: ConfigOpt = None, set_: SetOpt = None, debug: DebugOpt = False) -> None:
    """Write images/base and images/<component> Dockerfiles; print the docker build/tag/push lines."""

    def body() -> None:
        from astrobio.kube.images import build_commands, write_images

        cfg = _load(config, set_)
        root = out or default_root()
        for path in write_images(root):
            typer.echo(f"# wrote {path}", err=True)
        typer.echo("\n".join(build_commands(cfg)))

    guarded(body, debug)


@render_app.command("manifests")
def render_manifests_cmd(out: OutOpt = None, config: ConfigOpt = None, set_: SetOpt = None,
                         debug: DebugOpt = False) -> None:
    """Write manifests/ (a PyTorchJob per component, Katib Experiments in manifests/katib/, Secret example, README)."""

    def body() -> None:
        from astrobio.kube.manifests import render_manifests
        from astrobio.tune.manifests import tuning_root

        root = out or default_root()
        source = config or default_root() / "configs" / "default.yaml"
        cfg = _load(source, set_)
        for path in render_manifests(cfg, root, _source(source, default_root()), tuning_root(root)):
            typer.echo(str(path))

    guarded(body, debug)


@render_app.command("job")
def render_job_cmd(component: ComponentOpt, api: ApiOpt = "pytorchjob", config: ConfigOpt = None,
                   set_: SetOpt = None,
                   run_id: Annotated[Optional[str], typer.Option("--run-id", help="name suffix, label and artifact run id")] = None,
                   debug: DebugOpt = False) -> None:
    """Print one component's PyTorchJob or TrainJob as YAML (validated first)."""

    def body() -> None:
        from astrobio.kube.pytorchjob import render_pytorchjob
        from astrobio.kube.trainjob import render_trainjob
        from astrobio.kube.validate import validate_object
        from astrobio.kube.yamlio import dump_yaml

        render = render_pytorchjob if _check_api(api) == "pytorchjob" else render_trainjob
        obj = render(_load(config, set_), component, run_id=run_id)
        validate_object(obj, require_schema=False)
        typer.echo(dump_yaml(obj), nl=False)

    guarded(body, debug)


@render_app.command("pipeline")
def render_pipeline_cmd(out: OutOpt = None, config: ConfigOpt = None, set_: SetOpt = None,
                        debug: DebugOpt = False) -> None:
    """Compile the five-phase KFP pipeline and its components (pipelines/, components/)."""

    def body() -> None:
        compile_mod = _pipeline_compile()
        root = out or default_root()
        for path in compile_mod.render_pipeline(_load(config or default_root() / "configs" / "default.yaml", set_), root):
            typer.echo(str(path))

    guarded(body, debug)


@render_app.command("chart")
def render_chart_cmd(out: OutOpt = None, config: ConfigOpt = None, set_: SetOpt = None,
                     debug: DebugOpt = False) -> None:
    """Regenerate the Helm chart's generated files (jobs, pipeline copy, schema) from the renderers."""

    def body() -> None:
        from astrobio.kube.chart_values import write_chart_files

        root = out or default_root()
        source = config or default_root() / "configs" / "default.yaml"
        for path in write_chart_files(_load(source, set_), root, _source(source, default_root())):
            typer.echo(str(path))

    guarded(body, debug)


@render_app.command("all")
def render_all_cmd(out: OutOpt = None, config: ConfigOpt = None, set_: SetOpt = None,
                   debug: DebugOpt = False) -> None:
    """Everything generated, in dependency order: images, manifests, pipeline, chart files."""
    render_images_cmd(out=out, config=config, set_=set_, debug=debug)
    render_manifests_cmd(out=out, config=config, set_=set_, debug=debug)
    render_pipeline_cmd(out=out, config=config, set_=set_, debug=debug)
    render_chart_cmd(out=out, config=config, set_=set_, debug=debug)


def _pipeline_compile():  # -> module
    try:
        from astrobio.pipeline import compile as compile_mod
    except ImportError as exc:
        raise RuntimeFailure(f"the KFP pipeline module is not available ({exc})") from None
    return compile_mod


def _pipeline_submit():  # -> module
    try:
        from astrobio.pipeline import submit as submit_mod
    except ImportError as exc:
        raise RuntimeFailure(f"the KFP pipeline module is not available ({exc})") from None
    return submit_mod


@submit_app.command("train")
def submit_train_cmd(
    component: ComponentOpt,
    config: ConfigOpt = None,
    set_: SetOpt = None,
    backend: Annotated[str, typer.Option("--backend", help="where to train: kubeflow")] = "kubeflow",
    namespace: Annotated[Optional[str], typer.Option("--namespace", "-n", help="default: kube.namespace")] = None,
    api: ApiOpt = "pytorchjob",
    dry_run: Annotated[bool, typer.Option("--dry-run", help="print the exact object, submit nothing")] = False,
    wait: Annotated[bool, typer.Option("--wait/--no-wait", help="wait for the job, printing its state")] = True,
    kubeconfig: KubeconfigOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Submit one component's training as a PyTorchJob (or TrainJob); prints the artifact URI."""

    def body() -> None:
        from astrobio.kube.submit import submit_train

        if backend != "kubeflow":
            raise UsageError(f"--backend {backend!r}: only 'kubeflow' submits to a cluster "
                             "(train locally with `astrobio train`)")
        cfg = _load(config, set_)
        result = submit_train(cfg, component, namespace, dry_run, _check_api(api), wait,
                              env=os.environ, kubeconfig=kubeconfig)
        typer.echo(result if dry_run else f"artifact: {result}", nl=not dry_run)

    guarded(body, debug)


@submit_app.command("pipeline")
def submit_pipeline_cmd(
    host: Annotated[Optional[str], typer.Option("--host", help="KFP API endpoint, e.g. http://localhost:8080; "
                                                "omitted: through the kubeconfig's API server proxy")] = None,
    config: ConfigOpt = None,
    set_: SetOpt = None,
    run_name: Annotated[Optional[str], typer.Option("--run-name")] = None,
    namespace: Annotated[Optional[str], typer.Option("--namespace", "-n", help="multi-user KFP: the profile namespace to run in")] = None,
    service_account: Annotated[Optional[str], typer.Option("--service-account", help="default: KFP's runner (pipeline-runner, or default-editor in a profile)")] = None,
    token: Annotated[Optional[str], typer.Option("--token", envvar="KFP_TOKEN", show_envvar=True, help="bearer token for a multi-user KFP")] = None,
    kube_context: Annotated[Optional[str], typer.Option("--kube-context", help="kubeconfig context when --host is omitted")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="compile and show, submit nothing")] = False,
    debug: DebugOpt = False,
) -> None:
    """Run the five-phase pipeline on Kubeflow Pipelines."""

    def body() -> None:
        submit_pipeline = _pipeline_submit().submit_pipeline
        typer.echo(submit_pipeline(_load(config, set_), host, run_name, dry_run, namespace=namespace,
                                   service_account=service_account, token=token, kube_context=kube_context,
                                   env=os.environ))

    guarded(body, debug)


def doctor_command(
    kubeconfig: KubeconfigOpt = None,
    config: ConfigOpt = None,
    set_: SetOpt = None,
    kfp_host: Annotated[Optional[str], typer.Option("--kfp-host", help="also check this KFP endpoint")] = None,
    namespace: Annotated[Optional[str], typer.Option("--namespace", "-n", help="default: kube.namespace")] = None,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="verify the checkpoints under this folder (default: run.output_root when it exists)")] = None,
    debug: DebugOpt = False,
) -> None:
    """Check the local setup and, when credentials exist, the cluster; one line per check with its fix."""

    def body() -> None:
        from astrobio.kube.doctor import failures, render_report, run_doctor
        from astrobio.kube.submit import with_namespace

        cfg = with_namespace(_load(config, set_), namespace)
        default_output = Path(cfg.run.output_root)
        checked = output if output is not None else (default_output if default_output.is_dir() else None)
        checks = run_doctor(cfg, os.environ, kubeconfig, kfp_host, config=config, output=checked,
                            audit_report=default_root() / "benchmarks" / "results" / "audit.json")
        typer.echo(render_report(checks))
        failed = failures(checks)
        if failed:
            raise RuntimeFailure(f"{len(failed)} check(s) failed: {', '.join(c.name for c in failed)}")

    guarded(body, debug)
