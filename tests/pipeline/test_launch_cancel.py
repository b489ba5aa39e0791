"""Kubeflow mode on a real KFP: the PyTorchJob goes to the step pod's own namespace, is owned by
the step pod, and a cancelled run (SIGTERM to the step) deletes it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from astrobio.config import AstrobioConfig, load_config
from astrobio.pipeline.pod_identity import NAME_ENV, NAMESPACE_ENV, UID_ENV, PodIdentity, pod_identity
from astrobio.pipeline.pytorchjob_launch import StepCancelled, launch_pytorchjob, render_for_pod
from tests.cli_helpers import fresh_python_env
from tests.pipeline.fakes import FakeTrainingClient
from tests.pipeline.helpers import DEFAULT_CONFIG, ROOT

POD = PodIdentity("team-a", "astrobio-five-phase-x7k-2231", "6f1c0d1e-uid", "test")


@pytest.fixture(scope="module")
def s3_cfg() -> AstrobioConfig:
    return load_config(DEFAULT_CONFIG, ["store.uri=s3://astrobio/team", "run.run_id=r1"])


def test_namespace_comes_from_the_pod_never_from_the_config(tmp_path: Path) -> None:
    """Standalone KFP runs steps in `kubeflow`, multi-user KFP in the user's profile: the launcher
    reads the downward-API env, else the service-account namespace file that KFP's own launcher
    reads (kubeflow/pipelines backend/src/v2/config/env.go, InPodNamespace)."""
    env = {NAMESPACE_ENV: "team-a", NAME_ENV: "p", UID_ENV: "u"}
    assert pod_identity(env, "astrobio") == PodIdentity("team-a", "p", "u", f"${NAMESPACE_ENV}")
    ns_file = tmp_path / "namespace"
    ns_file.write_text("kubeflow\n")
    found = pod_identity({NAME_ENV: "p"}, "astrobio", namespace_file=ns_file)
    assert (found.namespace, found.name, found.owner_reference()) == ("kubeflow", "p", None)
    outside = pod_identity({}, "astrobio", namespace_file=tmp_path / "absent")
    assert outside.namespace == "astrobio" and "not in a pod" in outside.source


def test_the_job_is_rendered_for_the_pod_namespace_and_owned_by_the_pod(s3_cfg: AstrobioConfig) -> None:
    """Garbage collection deletes dependents of a deleted owner only in the owner's namespace, so the
    job must live beside the pod; the reference is not a controller and does not block deletion."""
    job = render_for_pod(s3_cfg, "graph_vae", POD)
    assert s3_cfg.kube.namespace == "astrobio"
    assert job["metadata"]["namespace"] == "team-a"
    assert job["metadata"]["ownerReferences"] == [
        {"apiVersion": "v1", "kind": "Pod", "name": POD.name, "uid": POD.uid}]


def test_job_is_created_in_the_pod_namespace(s3_cfg: AstrobioConfig) -> None:
    client = FakeTrainingClient(["Succeeded"])
    details = launch_pytorchjob(s3_cfg, "graph_vae", training_client=client, log=lambda _: None, identity=POD)
    ((job, namespace),) = client.created
    assert namespace == "team-a" == job.metadata.namespace
    assert job.metadata.owner_references[0].uid == POD.uid
    assert details == {"PyTorchJob": "team-a/astrobio-graph-vae-r1"}


def test_sigterm_while_waiting_deletes_the_job(s3_cfg: AstrobioConfig) -> None:
    """KFP terminates a run by setting the Workflow's activeDeadlineSeconds to 0 (kubeflow/pipelines
    backend/src/common/util/execution_spec.go); Argo's emissary forwards the SIGTERM to the step's
    command (argoproj/argo-workflows cmd/argoexec/commands/emissary.go). A real SIGTERM to this
    process mid-wait must delete the job and end the step with 143."""
    client = FakeTrainingClient(["Running"])
    logs: list[str] = []
    polls: list[float] = []

    def sleep(seconds: float) -> None:
        polls.append(seconds)
        if len(polls) == 2:
            os.kill(os.getpid(), signal.SIGTERM)

    previous = signal.getsignal(signal.SIGTERM)
    with pytest.raises(StepCancelled) as info:
        launch_pytorchjob(s3_cfg, "graph_vae", training_client=client, log=logs.append, identity=POD,
                          poll_s=1.0, sleep=sleep)
    assert info.value.exit_code == 143
    ((name, namespace, options),) = client.deleted
    assert (name, namespace) == ("astrobio-graph-vae-r1", "team-a")
    assert options.propagation_policy == "Background"
    assert "PyTorchJob team-a/astrobio-graph-vae-r1: deleted (run cancelled)" in logs
    assert signal.getsignal(signal.SIGTERM) == previous  # the handler is only armed while waiting


def test_no_delete_when_the_job_finishes(s3_cfg: AstrobioConfig) -> None:
    client = FakeTrainingClient(["Running", "Succeeded"])
    launch_pytorchjob(s3_cfg, "graph_vae", training_client=client, log=lambda _: None, identity=POD,
                      sleep=lambda _: None)
    assert client.deleted == []


STEP_SCRIPT = textwrap.dedent("""
    import sys
    sys.path.insert(0, {root!r})
    from astrobio.config import load_config
    from astrobio.errors import AstrobioError
    from astrobio.pipeline.launcher import report_failure_and_exit
    from astrobio.pipeline.pod_identity import PodIdentity
    from astrobio.pipeline.pytorchjob_launch import launch_pytorchjob
    from tests.pipeline.fakes import FakeTrainingClient

    class Client(FakeTrainingClient):
        def delete_job(self, name, namespace=None, delete_options=None, **_):
            print(f"DELETE {{namespace}}/{{name}} {{delete_options.propagation_policy}}", flush=True)

    from pathlib import Path
    cfg = load_config(Path({config!r}), ["store.uri=s3://astrobio/team", "run.run_id=r1"])
    try:
        launch_pytorchjob(cfg, "graph_vae", training_client=Client(["Running"]), poll_s=0.05,
                          identity=PodIdentity("team-a", "pod", "uid", "test"))
    except AstrobioError as exc:
        report_failure_and_exit(exc)
""")


def test_a_step_process_killed_with_sigterm_deletes_its_job_and_exits_143() -> None:
    """The whole step process as the KFP shim runs it: SIGTERM from outside -> delete -> exit 143."""
    script = STEP_SCRIPT.format(root=str(ROOT), config=str(DEFAULT_CONFIG))
    env = fresh_python_env(with_root=True)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)
    assert proc.stdout is not None
    for line in proc.stdout:  # wait until it is polling the job
        if "Running" in line:
            break
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    assert "DELETE team-a/astrobio-graph-vae-r1 Background" in out
    assert err.strip().splitlines()[-1] == ("error: run cancelled (SIGTERM): PyTorchJob "
                                            "team-a/astrobio-graph-vae-r1 deleted")
