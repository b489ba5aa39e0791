"""The rendered PyTorchJob's container command, run here as two 'pods' with the env the operator gives.

Training Operator v1.9 sets torchrun's topology through env (tests/kube/operator_pods.py models
`pkg/controller.v1/pytorch/envvar.go` and `elastic.go`): in the default layout two Workers meet in a
c10d rendezvous at PET_RDZV_ENDPOINT (worker-0's pytorchjob-port); in the master-worker layout
MASTER_ADDR/PET_MASTER_ADDR, RANK and PET_NODE_RANK drive a static rendezvous. Pod names are
replaced by 127.0.0.1 and the port by a free one. The container's torchrun turns those into the
per-process variables the trainer reads; both ranks must join one process group and exactly one
complete artifact must come out.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from astrobio.config import load_config
from astrobio.kube.render.pytorchjob import render_pytorchjob
from astrobio.store import open_store
from tests.s3server import running_s3_server, unique_bucket

from .operator_pods import operator_pods

TINY = ["components.graph_vae.data.sources=[textbook]", "trainer.max_steps=4", "trainer.eval_every=2",
        "trainer.early_stopping.metric=null", "kube.gpu.per_node=0", "kube.workers=1", "kube.resources.cpu=1"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def local_env(env: dict[str, str], job_name: str, port: int) -> dict[str, str]:
    """The operator's env with its pod names pointing here."""
    out = {}
    for key, value in env.items():
        for pod in ("master-0", "worker-0"):
            value = value.replace(f"{job_name}-{pod}:23456", f"127.0.0.1:{port}").replace(f"{job_name}-{pod}", "127.0.0.1")
        out[key] = str(port) if key in ("MASTER_PORT", "PET_MASTER_PORT") else value
    return out


@pytest.mark.parametrize("layout", ["auto", "master-worker"])
def test_two_pods_join_and_publish_one_artifact(tmp_path, layout):
    """Against the S3 test server: a cluster job always writes to an s3:// store (kube.store_uri)."""
    with running_s3_server() as server:
        bucket = unique_bucket()
        store = open_store(f"s3://{bucket}/team", server.env())
        store.ensure_bucket()  # type: ignore[attr-defined]
        cfg = load_config(None, [*TINY, f"kube.store_uri=s3://{bucket}/team", f"kube.layout={layout}"])
        results = run_pods(tmp_path, cfg, server.env())
        markers = [k for k in store.list("") if k.endswith("COMPLETE") and "/checkpoints/" not in k]
        assert markers == ["runs/ddp-test/pretrain/graph_vae/COMPLETE"]
        assert store.list("runs/ddp-test/pretrain/graph_vae/checkpoints")  # rank 0 mirrored its checkpoints
    ranks = sorted(next(line.split("rank=")[1].split()[0] for line in err.splitlines() if "topology rank=" in line)
                   for _, err in results)
    assert ranks == ["0", "1"] and all("world_size=2" in err for _, err in results)  # c10d picks who is rank 0
    assert any("artifact:" in out for out, _ in results)


def run_pods(tmp_path: Path, cfg, store_env: dict[str, str]) -> list[tuple[str, str]]:
    """The rendered container command of both pods as local processes; both must exit 0."""
    job = render_pytorchjob(cfg, "graph_vae", run_id="ddp-test")
    port = free_port()
    path = str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")
    procs = []
    pods = operator_pods(job)
    assert len(pods) == 2
    for pod in pods:
        (container,) = pod.spec["containers"]
        args = list(container["args"])
        args[args.index("--output") + 1] = str(tmp_path / pod.name)  # each pod has its own emptyDir
        env = {**os.environ, "PATH": path, **local_env(pod.env(), job["metadata"]["name"], port), **store_env}
        procs.append(subprocess.Popen([*container["command"], *args], env=env, text=True,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE))
    results = []
    for proc in procs:
        try:
            results.append(proc.communicate(timeout=240))
        finally:
            proc.kill()
    for proc, (out, err) in zip(procs, results):
        assert proc.returncode == 0, err[-3000:]
    return results
