"""The `astrobio` command tree, wired in one place: which function answers which command.

Commands parse and validate everything before they write anything; errors are one line on stderr
with exit code 2 (usage/config) or 1 (runtime), see `guard.py`; `--debug` shows tracebacks. Each
command module imports its heavy dependencies inside the command, keeping `astrobio --help` fast.
"""

from __future__ import annotations

import typer

from astrobio.cli import doctor, info, models, render, run, submit, train, tune

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="astrobio: train the astrobiology models, locally or on Kubeflow.")
config_app = typer.Typer(no_args_is_help=True, help="Inspect the resolved configuration.")
models_app = typer.Typer(no_args_is_help=True, help="Weights files and the versioned model registry (inspect, list, show, promote).")
render_app = typer.Typer(no_args_is_help=True, help="Render images, manifests, jobs and the pipeline (no cluster needed).")
submit_app = typer.Typer(no_args_is_help=True, help="Submit training or the pipeline to a Kubeflow cluster.")

app.command("components")(info.components_cmd)
app.command("train")(train.train_cmd)
app.command("run")(run.run_cmd)
app.command("report")(run.report_cmd)
app.command("tune")(tune.tune_cmd)
app.command("doctor")(doctor.doctor_cmd)
app.add_typer(config_app, name="config")
config_app.command("show")(info.config_show_cmd)
app.add_typer(models_app, name="models")
models_app.command("inspect")(models.models_inspect)
models_app.command("list")(models.models_list)
models_app.command("show")(models.models_show)
models_app.command("promote")(models.models_promote)
app.add_typer(render_app, name="render", help="Render images, manifests, jobs and the KFP pipeline (no cluster needed).")
render_app.command("images")(render.render_images_cmd)
render_app.command("manifests")(render.render_manifests_cmd)
render_app.command("job")(render.render_job_cmd)
render_app.command("pipeline")(render.render_pipeline_cmd)
render_app.command("chart")(render.render_chart_cmd)
render_app.command("all")(render.render_all_cmd)
app.add_typer(submit_app, name="submit", help="Submit training jobs or the pipeline to a Kubeflow cluster.")
submit_app.command("train")(submit.submit_train_cmd)
submit_app.command("pipeline")(submit.submit_pipeline_cmd)


def main() -> None:
    """The console script: run the command, then leave without interpreter teardown (`process_exit`)."""
    from astrobio.process_exit import exit_process

    try:
        app()
    except SystemExit as done:
        exit_process(done.code)
    exit_process(0)
