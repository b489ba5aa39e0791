"""`astrobio doctor`: is this machine, and the cluster it points at, ready to train?"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Optional

import typer

from astrobio.cli.options import ConfigOpt, KubeconfigOpt, NamespaceOpt, SetOpt, guarded_command, load
from astrobio.checkout import default_root
from astrobio.errors import RuntimeFailure


@guarded_command
def doctor_cmd(
    kubeconfig: KubeconfigOpt = None,
    config: ConfigOpt = None,
    set_: SetOpt = None,
    kfp_host: Annotated[Optional[str], typer.Option("--kfp-host", help="also check this KFP endpoint")] = None,
    namespace: NamespaceOpt = None,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="verify the checkpoints under this folder (default: run.output_root when it exists)")] = None,
) -> None:
    """Check the local setup and, when credentials exist, the cluster; one line per check with its fix."""
    from astrobio.doctor.run import failures, render_report, run_doctor
    from astrobio.kube.submission.submit import with_namespace

    cfg = with_namespace(load(config, set_), namespace)
    default_output = Path(cfg.run.output_root)
    checked = output if output is not None else (default_output if default_output.is_dir() else None)
    checks = run_doctor(cfg, os.environ, kubeconfig, kfp_host, config=config, output=checked,
                        audit_report=default_root() / "benchmarks" / "results" / "audit.json")
    typer.echo(render_report(checks))
    failed = failures(checks)
    if failed:
        raise RuntimeFailure(f"{len(failed)} check(s) failed: {', '.join(c.name for c in failed)}")
