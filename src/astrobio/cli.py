"""`astrobio`: the one entry point (train, config, components, models).

Commands parse and validate everything before they write anything; errors are one line on stderr
with exit code 2 (usage/config) or 1 (runtime). `--debug` shows tracebacks.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from astrobio.cli_support import guarded, install_stop_handler, launch_torchrun, metrics_table, print_table, strip_option
from astrobio.kube.cli import doctor_command, render_app, submit_app
from astrobio.production.cli import models_list, models_promote, models_show
from astrobio.tune.cli import tune_command

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="astrobio: train the astrobiology models, locally or on Kubeflow.")
config_app = typer.Typer(no_args_is_help=True, help="Inspect the resolved configuration.")
models_app = typer.Typer(no_args_is_help=True, help="Weights files and the versioned model registry (inspect, list, show, promote).")
app.add_typer(config_app, name="config")
app.add_typer(models_app, name="models")
app.add_typer(render_app, name="render", help="Render images, manifests, jobs and the KFP pipeline (no cluster needed).")
app.add_typer(submit_app, name="submit", help="Submit training jobs or the pipeline to a Kubeflow cluster.")
app.command("doctor")(doctor_command)
app.command("tune")(tune_command)
models_app.command("list")(models_list)
models_app.command("show")(models_show)
models_app.command("promote")(models_promote)

ConfigOpt = Annotated[Optional[Path], typer.Option("--config", "-f", help="YAML run config (e.g. configs/smoke.yaml)")]
SetOpt = Annotated[Optional[list[str]], typer.Option("--set", help="override KEY=VALUE, e.g. optim.lr=3e-4 (repeatable)")]
DebugOpt = Annotated[bool, typer.Option("--debug", help="show tracebacks")]


@app.command("components")
def components_cmd(debug: DebugOpt = False) -> None:
    """List the registered model components."""
    from astrobio.registry import component_names, get_spec

    def body() -> None:
        for name in component_names():
            spec = get_spec(name)
            print(f"{name:12s} phase={spec.phase:10s} image={spec.image:24s} {spec.description}")

    guarded(body, debug)


@config_app.command("show")
def config_show(config: ConfigOpt = None, set_: SetOpt = None, debug: DebugOpt = False) -> None:
    """Print the resolved config (file + overrides + defaults) as YAML."""
    from astrobio.config import load_config, to_yaml

    guarded(lambda: print(to_yaml(load_config(config, set_ or [])), end=""), debug)


@app.command("train")
def train_cmd(
    component: Annotated[str, typer.Option("--component", "-c", help="registered component name")],
    config: ConfigOpt = None,
    set_: SetOpt = None,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="working folder (default: <run.output_root>/<run_id>/<component>)")] = None,
    nproc: Annotated[int, typer.Option("--nproc", min=1, max=64, help="local DDP ranks via torchrun")] = 1,
    debug: DebugOpt = False,
) -> None:
    """Train one component; rerunning the same command resumes from its newest valid checkpoint."""
    guarded(lambda: _train(component, config, set_ or [], output, nproc), debug)


def _train(component: str, config: Path | None, overrides: list[str], output: Path | None, nproc: int) -> None:
    from astrobio.config import config_hash, load_config, to_yaml
    from astrobio.errors import AstrobioError, RuntimeFailure, TransientFailure, UsageError
    from astrobio.failure import capture_tail, save_failure, save_launch_failure
    from astrobio.registry import get_spec
    from astrobio.store import artifact_prefix, open_store, publish_dir
    from astrobio.store.checkpoint_mirror import checkpoint_mirror
    from astrobio.store.user_files import localize_section
    from astrobio.trainer import Preempted, StopFlag, TrainJob, train
    from astrobio.trainer.atomic import write_text_atomic
    from astrobio.trainer.distributed import DistEnv, RankExit, shutdown
    from astrobio.upstream import resolve_inputs

    cfg = load_config(config, overrides)
    spec = get_spec(component)
    env = DistEnv.from_env(os.environ)
    if nproc > 1:
        if env.is_distributed:
            raise_usage("--nproc: already running under torchrun (WORLD_SIZE>1); drop --nproc")
        if not spec.supports_ddp:
            raise_usage(f"--nproc {nproc}: component '{component}' trains in a single process")
    run_id = cfg.run.effective_run_id
    section = cfg.component(component)
    out = output or Path(cfg.run.output_root) / run_id / component
    store = open_store(cfg.store.uri, os.environ)
    store.check()  # unreachable endpoint, bad keys, missing bucket: exit 2 now, not after training
    prefix = artifact_prefix(run_id, spec.phase, component)
    if nproc > 1:
        def report(failures: list[RankExit], cause: RankExit) -> str:
            key = save_launch_failure(store, prefix, failures, cause)
            return f"{store.uri.rstrip('/')}/{key}" if key else "not saved (store unreachable)"

        raise SystemExit(launch_torchrun(nproc, strip_option(sys.argv[1:], "--nproc"), report))

    def publish(folder: Path) -> str:
        try:
            publish_dir(store, folder, prefix)
        except AstrobioError as exc:  # the training itself is safe: say so, and how to finish
            kind = next(k for k in (UsageError, TransientFailure, RuntimeFailure) if isinstance(exc, k)) \
                if isinstance(exc, (UsageError, RuntimeFailure)) else RuntimeFailure  # keeps the exit code
            raise kind(f"{exc}; the trained model is checkpointed in {out}: run the same command again "
                            f"once the store is reachable and it publishes without retraining") from exc
        return f"{store.uri.rstrip('/')}/{prefix}"

    print(env.topology(), file=sys.stderr, flush=True)
    created = env.is_main and not out.exists()
    if env.is_main:
        out.mkdir(parents=True, exist_ok=True)
        write_text_atomic(out / "config.yaml", to_yaml(cfg))
    stop = StopFlag()
    install_stop_handler(stop)
    with capture_tail() as tail:
        try:
            section = resolve_inputs(section, spec, store, run_id, out)
            local = localize_section(section, f"components.{component}", os.environ, out / "inputs" / "s3",
                                     lambda line: print(line, file=sys.stderr, flush=True))
            job = TrainJob(spec=spec, cfg=local, seed=cfg.run.seed, output_dir=out, run_id=run_id,
                           config_hash=config_hash(section), publish=publish,
                           mirror=checkpoint_mirror(store, prefix, section.trainer.checkpoint.keep_last))
            result = train(job, env, stop)
        except UsageError:
            if created:
                discard_unstarted(out)
            raise  # bad input: nothing to keep for a post-mortem
        except Preempted:
            raise  # resumable stop
        except Exception as exc:
            key = save_failure(store, prefix, env.rank, exc, list(tail))
            if key is not None:
                print(f"failure report: {store.uri.rstrip('/')}/{key}", file=sys.stderr)
            raise
        finally:
            shutdown(env)
    if env.is_main:
        print_table(metrics_table(f"{component}: held-out metrics vs baselines (step {result.step})", result.metrics))
        print(f"artifact: {result.artifact_uri or result.artifact_dir}")


def discard_unstarted(out: Path) -> None:
    """Remove an output folder this command created when bad input (weights, data, upstream
    artifacts) was refused before any training wrote to it: it holds only the config snapshot and
    perhaps the data cache, and leaving it would look like a started run. A folder with
    checkpoints or metrics is kept."""
    if all(p.name in ("config.yaml", "cache") for p in out.iterdir()):
        shutil.rmtree(out)


@app.command("run")
def run_cmd(
    config: ConfigOpt = None,
    set_: SetOpt = None,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="run folder (default: run.output_root); run.json goes here")] = None,
    phases: Annotated[str, typer.Option("--phases", help="phases to run, e.g. 1-3 (earlier complete phases are reused)")] = "1-5",
    debug: DebugOpt = False,
) -> None:
    """Run the five phases locally on the cluster's pipeline graph; rerunning resumes."""
    guarded(lambda: _run(config, set_ or [], output, phases), debug)


def _run(config: Path | None, overrides: list[str], output: Path | None, phases: str) -> None:
    import json

    from astrobio.config import load_config
    from astrobio.errors import RuntimeFailure
    from astrobio.phases.interrupt import Terminated
    from astrobio.phases.run import RUN_FILE, parse_phase_range, run_phases
    from astrobio.report.summary import SummaryRow
    from astrobio.report.terminal import print_summary

    cfg = load_config(config, overrides)
    _, last = parse_phase_range(phases)
    out = output or Path(cfg.run.output_root)
    def summary() -> dict[str, Any]:
        run = json.loads((out / RUN_FILE).read_text(encoding="utf-8"))
        print_summary(run, [SummaryRow(**row) for row in run["summary"]], sys.stdout)
        return run

    try:
        summaries, error = run_phases(cfg, out, last, dict(os.environ))
    except Terminated:
        summary()  # where the interrupted run stands; rerunning resumes it
        raise
    run = summary()
    if error:
        failed = next((p for p in summaries if p.status == "failed"), None)
        where = f"phase {failed.number} {failed.name} " if failed else ""
        raise RuntimeFailure(f"{where}failed: {error}; logs in {run['logs']}, report {run['report']}")


@app.command("report")
def report_cmd(
    target: Annotated[str, typer.Argument(help="run folder (holds run.json), run id, or store URI .../runs/<run_id>")],
    store: Annotated[Optional[str], typer.Option("--store", help="store URI to look a run id up in (default: the config's)")] = None,
    config: ConfigOpt = None,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="HTML file (default: report.html in the run folder, else report-<run_id>.html)")] = None,
    debug: DebugOpt = False,
) -> None:
    """Write the self-contained HTML report of a finished (or failed) run."""
    def body() -> None:
        from astrobio.config import load_config
        from astrobio.report.build import write_report
        from astrobio.report.locate import locate_run

        cfg = load_config(config, [])
        run, default_path, workdirs = locate_run(target, store or cfg.store.uri, Path(cfg.run.output_root), dict(os.environ))
        path = write_report(run, output or default_path, dict(os.environ), workdirs)
        print(f"report: {path}")

    guarded(body, debug)


def raise_usage(message: str) -> None:
    from astrobio.errors import UsageError

    raise UsageError(message)


@models_app.command("inspect")
def models_inspect(
    file: Annotated[Path, typer.Argument(help="weights file: state dict, checkpoint, Lightning .ckpt, or safetensors")],
    component: Annotated[str, typer.Option("--component", "-c")],
    config: ConfigOpt = None,
    set_: SetOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Compare a weights file key by key with a component's architecture, without training."""

    def body() -> None:
        from astrobio.config import load_config
        from astrobio.registry import get_spec
        from astrobio.trainer.pretrained import inspect_weights

        cfg = load_config(config, set_ or [])
        spec = get_spec(component)
        section = cfg.component(component)
        data = spec.build_data(section, 0, 1, None)
        report = inspect_weights(file, spec.build_model(section, data))
        print(report.render())
        if not report.clean:
            raise SystemExit(1)

    guarded(body, debug)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
