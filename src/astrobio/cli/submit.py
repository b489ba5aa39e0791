"""`astrobio submit train | pipeline`: training jobs and the five-phase pipeline on a Kubeflow cluster."""

from __future__ import annotations

import os
from typing import Annotated, Optional

import typer

from astrobio.cli.options import ApiOpt, ComponentOpt, ConfigOpt, KubeconfigOpt, NamespaceOpt, SetOpt, guarded_command, load
from astrobio.cli.render import check_api
from astrobio.errors import RuntimeFailure, UsageError


@guarded_command
def submit_train_cmd(
    component: ComponentOpt,
    config: ConfigOpt = None,
    set_: SetOpt = None,
    backend: Annotated[str, typer.Option("--backend", help="where to train: kubeflow")] = "kubeflow",
    namespace: NamespaceOpt = None,
    api: ApiOpt = "pytorchjob",
    dry_run: Annotated[bool, typer.Option("--dry-run", help="print the exact object, submit nothing")] = False,
    wait: Annotated[bool, typer.Option("--wait/--no-wait", help="wait for the job, printing its state")] = True,
    kubeconfig: KubeconfigOpt = None,
) -> None:
    """Submit one component's training as a PyTorchJob (or TrainJob); prints the artifact URI."""
    from astrobio.kube.submission.submit import submit_train

    if backend != "kubeflow":
        raise UsageError(f"--backend {backend!r}: only 'kubeflow' submits to a cluster "
                         "(train locally with `astrobio train`)")
    result = submit_train(load(config, set_), component, namespace, dry_run, check_api(api), wait,
                          env=os.environ, kubeconfig=kubeconfig)
    typer.echo(result if dry_run else f"artifact: {result}", nl=not dry_run)


@guarded_command
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
) -> None:
    """Run the five-phase pipeline on Kubeflow Pipelines."""
    try:
        from astrobio.pipeline.submit import submit_pipeline
    except ImportError as exc:
        raise RuntimeFailure(f"the KFP pipeline module is not available ({exc})") from None
    typer.echo(submit_pipeline(load(config, set_), host, run_name, dry_run, namespace=namespace,
                               service_account=service_account, token=token, kube_context=kube_context,
                               env=os.environ))
