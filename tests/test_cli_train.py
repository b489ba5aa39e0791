"""`astrobio train` end to end through the real CLI: resume, DDP, preemption, S3 publishing.

Uses the small bundled e_coli_core (textbook) network so each run takes seconds; the smoke-config
comparison against baselines lives in tests/components/graph_vae.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from moto.core.authorization import enable_iam_authentication

from astrobio.errors import EXIT_TRANSIENT
from astrobio.store import COMPLETE, open_store
from tests.cli_helpers import ROOT, SMOKE, assert_one_line_error, run_cli
from tests.s3server import closed_port, create_iam_credentials, running_s3_server, unique_bucket

FAST = ["--set", "components.graph_vae.data.sources=[textbook]", "--set", "components.graph_vae.trainer.eval_every=10",
        "--set", "components.graph_vae.trainer.early_stopping.metric=null", "--set", "components.graph_vae.trainer.checkpoint.every=10"]


def train_args(out: Path, store: str, steps: int, *extra: str) -> list[str]:
    return ["train", "-c", "graph_vae", "--config", str(SMOKE), "--output", str(out), *FAST,
            "--set", f"store.uri={store}", "--set", f"components.graph_vae.trainer.max_steps={steps}", *extra]


def test_train_publishes_then_rerun_resumes(tmp_path):
    store = tmp_path / "store"
    first = run_cli(*train_args(tmp_path / "out", str(store), 20))
    assert first.returncode == 0, first.stderr[-3000:]
    art = store / "runs" / "smoke" / "pretrain" / "graph_vae"
    assert (art / COMPLETE).is_file() and (art / "model.safetensors").is_file()
    manifest = json.loads((art / "MANIFEST.json").read_text())
    assert "model_card.json" in manifest["files"]
    assert "test_auc" in first.stdout and "baseline aa" in first.stdout
    second = run_cli(*train_args(tmp_path / "out", str(store), 20))
    assert second.returncode == 0, second.stderr[-3000:]
    assert "resumed from" in second.stderr and "at step 20" in second.stderr
    assert "step 10/20" not in second.stderr  # no step was trained again


def test_nproc_2_runs_two_ranks_and_writes_one_artifact(tmp_path):
    store = tmp_path / "store"
    proc = run_cli(*train_args(tmp_path / "out", str(store), 10, "--nproc", "2"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "rank=0" in proc.stderr and "rank=1" in proc.stderr and "world_size=2" in proc.stderr
    assert proc.stdout.count("held-out metrics vs baselines") == 1  # only rank 0 reports
    artifacts = list(store.glob("runs/*/*/*/COMPLETE"))
    assert len(artifacts) == 1
    longer = run_cli(*train_args(tmp_path / "out", str(store), 14, "--nproc", "2"))
    assert longer.returncode == 0, longer.stderr[-3000:]
    assert "at step 10" in longer.stderr  # rank 0's checkpoint, shared with rank 1


@pytest.mark.parametrize(("sig", "code", "word"), [(signal.SIGTERM, 143, "preempted"), (signal.SIGINT, 130, "interrupted")])
def test_stop_signal_checkpoints_and_exits_resumable(tmp_path, sig, code, word):
    """SIGTERM (pod eviction) and a first Ctrl-C both finish the step, checkpoint and exit resumable."""
    out = tmp_path / "out"
    args = train_args(out, str(tmp_path / "store"), 100000, "--set", "components.graph_vae.trainer.log_every=1",
                      "--set", "components.graph_vae.trainer.checkpoint.every=100000", "--set", "components.graph_vae.trainer.eval_every=100000")
    proc = subprocess.Popen([sys.executable, "-m", "astrobio", *args], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert proc.stderr is not None
    for line in proc.stderr:  # wait until it is really training
        if "step 3/" in line:
            break
    sent = time.monotonic()
    proc.send_signal(sig)
    got = proc.wait(timeout=60)
    elapsed = time.monotonic() - sent
    rest = proc.stderr.read()
    assert got == code, rest[-2000:]
    assert elapsed < 20, elapsed
    assert f"{word}: stopped at step" in rest
    ckpts = sorted((out / "checkpoints").glob("step-*"))
    assert len(ckpts) == 1
    step = int(ckpts[0].name.split("-")[1])
    resumed = run_cli(*train_args(out, str(tmp_path / "store"), step + 2))
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert f"at step {step}" in resumed.stderr


def test_publish_to_s3_server(tmp_path):
    with running_s3_server() as server:
        bucket = unique_bucket()
        env = server.env()
        open_store(f"s3://{bucket}", env).ensure_bucket()
        proc = run_cli(*train_args(tmp_path / "out", f"s3://{bucket}/team", 10), env=env)
        assert proc.returncode == 0, proc.stderr[-3000:]
        store = open_store(f"s3://{bucket}/team", env)
        keys = store.list("runs/smoke/pretrain/graph_vae")
        assert "runs/smoke/pretrain/graph_vae/COMPLETE" in keys
        assert f"s3://{bucket}/team/runs/smoke/pretrain/graph_vae" in proc.stdout
        assert env["AWS_SECRET_ACCESS_KEY"] not in proc.stdout + proc.stderr


def test_unreachable_s3_endpoint_fails_before_training(tmp_path):
    env = {"ASTROBIO_S3_ENDPOINT": f"http://127.0.0.1:{closed_port()}", "AWS_ACCESS_KEY_ID": "k",
           "AWS_SECRET_ACCESS_KEY": "s3cr3t-value"}
    started = time.monotonic()
    proc = run_cli(*train_args(tmp_path / "out", "s3://bucket-x", 10), env=env)
    line = assert_one_line_error(proc, EXIT_TRANSIENT, env["ASTROBIO_S3_ENDPOINT"], "after 4 attempts")  # retried on a cluster
    assert "s3cr3t-value" not in proc.stderr + proc.stdout
    assert time.monotonic() - started < 60
    assert not (tmp_path / "out").exists(), line


def test_missing_s3_credentials_named(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MINIO_", "ASTROBIO_S3"))}
    proc = subprocess.run([sys.executable, "-m", "astrobio", *train_args(tmp_path / "o", "s3://bucket-x", 10)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert_one_line_error(proc, 2, "ASTROBIO_S3_ENDPOINT")


def test_wrong_s3_credentials_are_refused(tmp_path):
    with running_s3_server() as server:
        bucket = unique_bucket()
        access, secret = create_iam_credentials(server)
        with enable_iam_authentication():
            open_store(f"s3://{bucket}", server.env(access, secret)).ensure_bucket()
            env = server.env(access, "wrong-secret-123")
            proc = run_cli(*train_args(tmp_path / "out", f"s3://{bucket}", 10), env=env)
        assert_one_line_error(proc, 2, server.url)
        assert "wrong-secret-123" not in proc.stderr + proc.stdout
