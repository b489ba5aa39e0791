"""`astrobio train`: one component, locally (one process or N torchrun ranks); rerunning resumes."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from collections.abc import Callable
from typing import Annotated, Any, Optional

import typer

from astrobio.cli.local_launch import install_stop_handler, launch_torchrun, strip_option
from astrobio.cli.output_closed import stop_when_output_closes
from astrobio.cli.options import ComponentOpt, ConfigOpt, SetOpt, guarded_command, load
from astrobio.cli.tables import metrics_table, print_table
from astrobio.console import to_stderr
from astrobio.errors import UsageError

OutputOpt = Annotated[Optional[Path], typer.Option("--output", "-o", help="working folder (default: <run.output_root>/<run_id>/<component>)")]
NprocOpt = Annotated[int, typer.Option("--nproc", min=1, max=64, help="local DDP ranks via torchrun")]


@guarded_command
def train_cmd(component: ComponentOpt, config: ConfigOpt = None, set_: SetOpt = None, output: OutputOpt = None,
              nproc: NprocOpt = 1) -> None:
    """Train one component; rerunning the same command resumes from its newest valid checkpoint."""
    run_train(component, config, set_ or [], output, nproc)


def run_train(component: str, config: Path | None, overrides: list[str], output: Path | None, nproc: int) -> None:
    """Resolve config and store, then train here or relaunch under torchrun with `nproc` ranks."""
    from astrobio.catalog import get_spec
    from astrobio.store import artifact_prefix, open_store
    from astrobio.trainer.distributed import DistEnv

    cfg = load(config, overrides)
    spec = get_spec(component)
    env = DistEnv.from_env(os.environ)
    check_nproc(nproc, env.is_distributed, spec.supports_ddp, component)
    run_id = cfg.run.effective_run_id
    out = output or cfg.run.folder / component
    store = open_store(cfg.store.uri, os.environ)
    store.check()  # unreachable endpoint, bad keys, missing bucket: exit 2 now, not after training
    prefix = artifact_prefix(run_id, spec.phase, component)
    if nproc > 1:
        raise SystemExit(launch_torchrun(nproc, strip_option(sys.argv[1:], "--nproc"), failure_reporter(store, prefix)))
    result = train_here(cfg, spec, env, store, prefix, out)
    if env.is_main:
        print_table(metrics_table(f"{component}: held-out metrics vs baselines (step {result.step})", result.metrics))
        print(f"artifact: {result.artifact_uri or result.artifact_dir}")


def check_nproc(nproc: int, under_torchrun: bool, supports_ddp: bool, component: str) -> None:
    """--nproc starts torchrun here; refuse it inside torchrun or for a single-process component."""
    if nproc > 1 and under_torchrun:
        raise UsageError("--nproc: already running under torchrun (WORLD_SIZE>1); drop --nproc")
    if nproc > 1 and not supports_ddp:
        raise UsageError(f"--nproc {nproc}: component '{component}' trains in a single process")


def failure_reporter(store: Any, prefix: str) -> Callable[[list, Any], str]:
    """Where a failed torchrun launch saves its record (rank exits and the first cause)."""
    from astrobio.failure import save_launch_failure

    def report(failures: list, cause: Any) -> str:
        key = save_launch_failure(store, prefix, failures, cause)
        return f"{store.uri.rstrip('/')}/{key}" if key else "not saved (store unreachable)"

    return report


def publisher(store: Any, prefix: str, out: Path) -> Callable[[Path], str]:
    """Publish a finished artifact folder; a store failure keeps the exit code and says how to finish
    (the training itself is checkpointed, so the same command publishes without retraining)."""
    from astrobio.errors import AstrobioError, RuntimeFailure, TransientFailure
    from astrobio.store import publish_dir

    def publish(folder: Path) -> str:
        try:
            publish_dir(store, folder, prefix)
        except AstrobioError as exc:
            kind = next((k for k in (UsageError, TransientFailure, RuntimeFailure) if isinstance(exc, k)), RuntimeFailure)
            raise kind(f"{exc}; the trained model is checkpointed in {out}: run the same command again "
                       f"once the store is reachable and it publishes without retraining") from exc
        return f"{store.uri.rstrip('/')}/{prefix}"

    return publish


def train_here(cfg: Any, spec: Any, env: Any, store: Any, prefix: str, out: Path) -> Any:
    """Train in this process (one rank): snapshot the config, fetch inputs, run the loop; a failure
    leaves a report in the store, bad input leaves no half-made output folder."""
    from astrobio.config import config_hash, to_yaml
    from astrobio.errors import Preempted
    from astrobio.failure import capture_tail, save_failure
    from astrobio.store.checkpoint_mirror import checkpoint_mirror
    from astrobio.store.user_files import localize_section
    from astrobio.trainer import StopFlag, TrainingRun, train
    from astrobio.trainer.atomic import write_text_atomic
    from astrobio.trainer.distributed import shutdown
    from astrobio.upstream import resolve_inputs

    run_id, component = cfg.run.effective_run_id, spec.name
    section = cfg.component(component)
    print(env.topology(), file=sys.stderr, flush=True)
    created = env.is_main and not out.exists()
    if env.is_main:
        out.mkdir(parents=True, exist_ok=True)
        write_text_atomic(out / "config.yaml", to_yaml(cfg))
    stop = StopFlag()
    install_stop_handler(stop)
    with stop_when_output_closes(stop), capture_tail() as tail:
        try:
            section = resolve_inputs(section, spec, store, run_id, out)
            local = localize_section(section, f"components.{component}", os.environ, out / "inputs" / "s3", to_stderr)
            job = TrainingRun(spec=spec, cfg=local, seed=cfg.run.seed, output_dir=out, run_id=run_id,
                           config_hash=config_hash(section), publish=publisher(store, prefix, out),
                           mirror=checkpoint_mirror(store, prefix, section.trainer.checkpoint.keep_last))
            return train(job, env, stop)
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


def discard_unstarted(out: Path) -> None:
    """Remove an output folder this command created when bad input (weights, data, upstream
    artifacts) was refused before any training wrote to it: it holds only the config snapshot and
    perhaps the data cache, and leaving it would look like a started run. A folder with
    checkpoints or metrics is kept."""
    if all(p.name in ("config.yaml", "cache") for p in out.iterdir()):
        shutil.rmtree(out)
