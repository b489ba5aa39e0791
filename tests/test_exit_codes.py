"""Exit codes that `restartPolicy: ExitCode` can act on (README "Exit codes").

Upstream behaviour (Training Operator v1.9.0, read from its source):
- pkg/util/train/train_util.go: `func IsRetryableExitCode(exitCode int32) bool { return exitCode >= 128 }`
- pkg/controller.v1/common/pod.go: for a failed pod, `spec.RestartPolicy == RestartPolicyExitCode &&
  IsRetryableExitCode(exitCode)` deletes the pod so it is recreated ("job ... is restarting"); with a
  non-retryable code the job gets the `Failed` condition. The code is that of the default container
  (`pytorch`).
- pkg/core/pod.go `SetRestartPolicy`: ExitCode sets the pod's own restartPolicy to Never, so every
  retry is a new pod (empty disk).
torchrun itself exits 1 whatever the rank's code was (its ChildFailedError escapes uncaught), which
the first test shows, so the pods run `python -m astrobio.torchrun`.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from astrobio.config import load_config
from astrobio.errors import EXIT_TRANSIENT, is_transient_runtime
from astrobio.kube.render.pytorchjob import render_pytorchjob
from astrobio.kube.validate import default_schema_dir
from astrobio.catalog import component_names
from tests.cli_helpers import ROOT, SMOKE
from tests.s3server import closed_port

ENV = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}


def launch(*args: str, wrapper: bool = True, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    head = ["-m", "astrobio.torchrun"] if wrapper else ["-m", "torch.distributed.run"]
    return subprocess.run([sys.executable, *head, "--standalone", "--nproc-per-node=1", *args], cwd=ROOT,
                          env={**ENV, **(env or {})}, capture_output=True, text=True, timeout=300)


def rank_script(tmp_path: Path, body: str) -> str:
    path = tmp_path / "rank.py"
    path.write_text("import os, signal, sys\n" + body + "\n")
    return str(path)


def test_plain_torchrun_loses_the_ranks_exit_code(tmp_path):
    """Why the wrapper exists: a rank exiting 200 (retryable) makes torchrun exit 1 (permanent)."""
    assert launch(rank_script(tmp_path, "sys.exit(200)"), wrapper=False).returncode == 1


@pytest.mark.parametrize(("body", "code"), [
    ("sys.exit(200)", 200),                          # store outage: retried
    ("sys.exit(2)", 2),                              # config error: permanent
    ("os.kill(os.getpid(), signal.SIGKILL)", 137),   # OOM killer: retried
])
def test_wrapper_passes_on_the_ranks_exit_code(tmp_path, body, code):
    proc = launch(rank_script(tmp_path, body))
    assert proc.returncode == code, proc.stderr[-2000:]


def test_store_outage_in_a_pod_exits_transient_and_config_error_exits_2(tmp_path):
    """The pod's own command line, the store down: 200 (the operator restarts the pod); a bad
    `--set`: 2 (the job fails at once instead of burning its backoffLimit)."""
    port = closed_port()
    env = {"ASTROBIO_S3_ENDPOINT": f"http://127.0.0.1:{port}", "AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "s"}
    train = ["-m", "astrobio", "train", "-c", "graph_vae", "--config", str(SMOKE), "--output", str(tmp_path / "o")]
    down = launch(*train, "--set", "store.uri=s3://astrobio/runs-test", env=env)
    bad = launch(*train, "--set", "trainer.max_steps=-1", env=env)
    assert down.returncode == EXIT_TRANSIENT, down.stderr[-2000:]
    assert f"127.0.0.1:{port}" in down.stderr and "after 4 attempts" in down.stderr
    assert bad.returncode == 2, bad.stderr[-2000:]


def test_distributed_errors_are_transient_others_are_not():
    import torch.distributed as dist

    assert is_transient_runtime(dist.DistNetworkError("peer closed"))
    assert is_transient_runtime(dist.DistBackendError("nccl watchdog"))
    assert not is_transient_runtime(RuntimeError("shape mismatch"))
    assert not is_transient_runtime(ValueError("x"))


@pytest.mark.parametrize("component", component_names())
def test_every_replica_restarts_on_exit_code(component):
    cfg = load_config(ROOT / "configs" / "default.yaml", ["kube.workers=2"])
    job = render_pytorchjob(cfg, component)
    for spec in job["spec"]["pytorchReplicaSpecs"].values():
        assert spec["restartPolicy"] == "ExitCode"
        container = spec["template"]["spec"]["containers"][0]
        assert container["command"] == ["python", "-m", "astrobio.torchrun"]


def test_the_shipped_crd_offers_exit_code():
    """The v1.9 CRD's ReplicaSpec.restartPolicy description lists ExitCode (the schema is a free string)."""
    crd = yaml.safe_load((default_schema_dir() / "crds" / "kubeflow.org_pytorchjobs.yaml").read_text())
    schema = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    replica = schema["properties"]["spec"]["properties"]["pytorchReplicaSpecs"]["additionalProperties"]
    assert "ExitCode" in replica["properties"]["restartPolicy"]["description"]
