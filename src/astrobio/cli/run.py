"""`astrobio run` (the five phases locally, on the cluster's pipeline graph) and `astrobio report`."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from astrobio.cli.options import ConfigOpt, SetOpt, StoreOpt, guarded_command, load


@guarded_command
def run_cmd(
    config: ConfigOpt = None,
    set_: SetOpt = None,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="run folder (default: run.output_root); run.json goes here")] = None,
    phases: Annotated[str, typer.Option("--phases", help="phases to run, e.g. 1-3 (earlier complete phases are reused)")] = "1-5",
) -> None:
    """Run the five phases locally on the cluster's pipeline graph; rerunning resumes."""
    from astrobio.errors import RuntimeFailure
    from astrobio.phases.interrupt import Terminated
    from astrobio.phases.run import parse_phase_range, run_phases

    cfg = load(config, set_)
    _, last = parse_phase_range(phases)
    out = output or Path(cfg.run.output_root)
    try:
        summaries, error = run_phases(cfg, out, last, dict(os.environ))
    except Terminated:
        print_run_summary(out)  # where the interrupted run stands; rerunning resumes it
        raise
    run = print_run_summary(out)
    if error:
        failed = next((p for p in summaries if p.status == "failed"), None)
        where = f"phase {failed.number} {failed.name} " if failed else ""
        raise RuntimeFailure(f"{where}failed: {error}; logs in {run['logs']}, report {run['report']}")


def print_run_summary(out: Path) -> dict[str, Any]:
    """Print the summary table of run.json and return the run record."""
    from astrobio.phases.run import RUN_FILE
    from astrobio.report.summary import SummaryRow
    from astrobio.report.terminal import print_summary

    run = json.loads((out / RUN_FILE).read_text(encoding="utf-8"))
    print_summary(run, [SummaryRow(**row) for row in run["summary"]], sys.stdout)
    return run


@guarded_command
def report_cmd(
    target: Annotated[str, typer.Argument(help="run folder (holds run.json), run id, or store URI .../runs/<run_id>")],
    store: StoreOpt = None,
    config: ConfigOpt = None,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="HTML file (default: report.html in the run folder, else report-<run_id>.html)")] = None,
) -> None:
    """Write the self-contained HTML report of a finished (or failed) run."""
    from astrobio.report.build import write_report
    from astrobio.report.locate import locate_run

    cfg = load(config, None)
    run, default_path, workdirs = locate_run(target, store or cfg.store.uri, Path(cfg.run.output_root), dict(os.environ))
    path = write_report(run, output or default_path, dict(os.environ), workdirs)
    print(f"report: {path}")
