"""A run whose pod lost its disk resumes from the checkpoints mirrored to the S3 store.

What a PyTorchJob pod goes through: `astrobio train` on an s3:// store, SIGTERM (eviction; the
trainer checkpoints, mirrors and exits 143), the working folder deleted (a new pod's emptyDir),
the same command again. Before the mirror the rerun started at step 0.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from astrobio.store import open_store
from astrobio.store.checkpoint_mirror import CheckpointMirror
from tests.cli_helpers import ROOT, SMOKE
from tests.s3server import running_s3_server, unique_bucket

STEPS = 24
SETS = [f"components.graph_vae.trainer.max_steps={STEPS}", "trainer.checkpoint.every=6", "trainer.checkpoint.keep_last=2",
        "trainer.log_every=1", "trainer.eval_every=8", "components.graph_vae.trainer.eval_every=8"]


def train_cmd(out: Path, bucket: str, run_id: str) -> list[str]:
    sets = [*SETS, f"store.uri=s3://{bucket}/team", f"run.run_id={run_id}"]
    return [sys.executable, "-m", "astrobio", "train", "-c", "graph_vae", "--config", str(SMOKE), "--output", str(out),
            *[p for s in sets for p in ("--set", s)]]


def weights(out: Path) -> str:
    return hashlib.sha256((out / "artifact" / "model.safetensors").read_bytes()).hexdigest()


def test_empty_disk_resumes_at_the_checkpointed_step_with_the_same_result(tmp_path: Path) -> None:
    with running_s3_server() as server:
        env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1", **server.env()}
        bucket = unique_bucket()
        store = open_store(f"s3://{bucket}/team", env)
        store.ensure_bucket()  # type: ignore[attr-defined]

        straight = subprocess.run(train_cmd(tmp_path / "straight", bucket, "straight"), cwd=ROOT, env=env,
                                  capture_output=True, text=True, timeout=600)
        assert straight.returncode == 0, straight.stderr[-3000:]

        out = tmp_path / "pod"
        proc = subprocess.Popen(train_cmd(out, bucket, "cut"), cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)
        assert proc.stderr is not None
        seen = []
        for line in proc.stderr:
            seen.append(line)
            step = re.match(r"\[graph_vae\] step (\d+)/", line)
            if step and int(step.group(1)) >= 9:
                break
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=120) == 143, "".join(seen) + proc.stderr.read()
        text = "".join(seen) + proc.stderr.read()
        stopped = int(re.search(r"stopped at step (\d+)", text).group(1))  # type: ignore[union-attr]
        assert 9 <= stopped < STEPS

        mirror = CheckpointMirror(store, "runs/cut/pretrain/graph_vae/checkpoints", keep_last=2)
        assert mirror.complete_steps()[0] == stopped  # mirrored before the exit
        assert len(mirror.complete_steps()) <= 2  # keep-last-K in the store too
        shutil.rmtree(out)  # the new pod's empty disk

        rerun = subprocess.run(train_cmd(out, bucket, "cut"), cwd=ROOT, env=env, capture_output=True, text=True,
                               timeout=600)
        assert rerun.returncode == 0, rerun.stderr[-3000:]
        assert f"restored checkpoint step-{stopped:08d} from s3://{bucket}/team/" in rerun.stderr
        assert re.search(rf"^resumed from \S+ at step {stopped}$", rerun.stderr, re.MULTILINE), rerun.stderr[-3000:]
        assert f"[graph_vae] step {stopped}/" not in rerun.stderr  # no step before the checkpoint ran again
        assert weights(out) == weights(tmp_path / "straight")  # as if never interrupted
