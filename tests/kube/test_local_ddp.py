"""The rendered PyTorchJob's container command, run here as two 'pods' with the env the operator gives.

Training Operator v1.9 sets, per replica: MASTER_ADDR/PORT, PET_MASTER_ADDR/PORT, WORLD_SIZE,
RANK, PET_NODE_RANK, PET_NPROC_PER_NODE, PET_NNODES (pkg/controller.v1/pytorch/envvar.go). The
container's torchrun (`python -m astrobio.torchrun`) turns those into the per-process variables the trainer reads; both ranks must
join one process group and exactly one complete artifact must come out.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from astrobio.config import load_config
from astrobio.kube.pytorchjob import render_pytorchjob
from astrobio.store import open_store
from tests.s3server import running_s3_server, unique_bucket

TINY = ["components.graph_vae.data.sources=[textbook]", "trainer.max_steps=4", "trainer.eval_every=2",
        "trainer.early_stopping.metric=null", "kube.gpu.per_node=0", "kube.workers=1", "kube.resources.cpu=1"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def operator_env(job: dict, role: str, index: int, port: int) -> dict[str, str]:
    replicas = job["spec"]["pytorchReplicaSpecs"]
    nproc = job["spec"]["nprocPerNode"]
    rank = index + (1 if role == "Worker" else 0)
    nodes = sum(r["replicas"] for r in replicas.values())
    return {"MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port), "PET_MASTER_ADDR": "127.0.0.1",
            "PET_MASTER_PORT": str(port), "WORLD_SIZE": str(nodes * int(nproc)), "RANK": str(rank),
            "PET_NODE_RANK": str(rank), "PET_NPROC_PER_NODE": nproc, "PET_NNODES": str(nodes),
            "PYTHONUNBUFFERED": "1"}


def test_two_pods_join_and_publish_one_artifact(tmp_path):
    with running_s3_server() as server:
        bucket = unique_bucket()
        store = open_store(f"s3://{bucket}/team", server.env())
        store.ensure_bucket()  # type: ignore[attr-defined]
        run_pods(tmp_path, load_config(None, [*TINY, f"kube.store_uri=s3://{bucket}/team"]), server.env())
        markers = [k for k in store.list("") if k.endswith("COMPLETE") and "/checkpoints/" not in k]
        assert markers == ["runs/ddp-test/pretrain/graph_vae/COMPLETE"]
        assert store.list("runs/ddp-test/pretrain/graph_vae/checkpoints")  # rank 0 mirrored its checkpoints


def run_pods(tmp_path: Path, cfg, store_env: dict[str, str]) -> None:
    """The rendered container command of Master and Worker, as two local processes; both must exit 0."""
    job = render_pytorchjob(cfg, "graph_vae", run_id="ddp-test")
    port = free_port()
    path = str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")
    procs = []
    for role in ("Master", "Worker"):
        (container,) = job["spec"]["pytorchReplicaSpecs"][role]["template"]["spec"]["containers"]
        args = list(container["args"])
        args[args.index("--output") + 1] = str(tmp_path / role.lower())  # each pod has its own emptyDir
        env = {**os.environ, "PATH": path, **{e["name"]: e["value"] for e in container["env"] if "value" in e},
               **operator_env(job, role, 0, port), **store_env}
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
    assert "topology rank=0 " in results[0][1] and "world_size=2" in results[0][1]
    assert "topology rank=1 " in results[1][1] and "world_size=2" in results[1][1]
    assert "artifact:" in results[0][0]
