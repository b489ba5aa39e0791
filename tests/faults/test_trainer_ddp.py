"""One DDP rank dies (SIGKILL, as the OOM killer does) during a real `astrobio train --nproc 2`:
the job fails within the collective timeout instead of hanging, names the dead rank on stderr and
in the launcher's failure report, and a restart resumes from the last checkpoint."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.cli_helpers import ROOT, SMOKE, run_cli

DDP_TIMEOUT_S = 20
MARGIN_S = 15


def args(out: Path, store: Path, steps: int, *extra: str) -> list[str]:
    c = "components.graph_vae"
    return ["train", "-c", "graph_vae", "--config", str(SMOKE), "--output", str(out), "--set", f"store.uri={store}",
            "--set", f"{c}.data.sources=[textbook]", "--set", f"{c}.trainer.early_stopping.metric=null",
            "--set", f"{c}.trainer.eval_every=100000", "--set", f"{c}.trainer.log_every=1",
            "--set", f"{c}.trainer.checkpoint.every=5", "--set", f"{c}.trainer.ddp_timeout_s={DDP_TIMEOUT_S}",
            "--set", f"{c}.trainer.max_steps={steps}", *extra]


def rank_pid(launcher: int, rank: int) -> int:
    """The worker process of `rank` among the launcher's children (torchrun sets RANK in its env)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            environ = (entry / "environ").read_bytes().split(b"\0")
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue  # a process that exited (or is not ours) while we looked
        if parent == launcher and f"RANK={rank}".encode() in environ:
            return int(entry.name)
    raise AssertionError(f"no rank {rank} under pid {launcher}")


def test_dead_rank_fails_fast_is_named_and_restart_resumes(tmp_path, fault_table):
    out, store = tmp_path / "out", tmp_path / "store"
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "astrobio", *args(out, store, 100_000, "--nproc", "2")], cwd=ROOT,
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    seen: list[str] = []
    for line in proc.stderr:  # rank 0's progress: checkpoint 10 is on disk once step 12 is printed
        seen.append(line)
        if re.search(r"\] step 12/", line):
            break
    else:
        raise AssertionError("".join(seen[-30:]))
    victim = rank_pid(proc.pid, 1)
    killed = time.monotonic()
    os.kill(victim, signal.SIGKILL)
    code = proc.wait(timeout=DDP_TIMEOUT_S + MARGIN_S)
    elapsed = time.monotonic() - killed
    text = "".join(seen) + proc.stderr.read()
    assert code == 1, text[-3000:]
    errors = [l for l in text.splitlines() if l.startswith("error: rank 1 of 2")]
    assert len(errors) == 1 and f"pid {victim}" in errors[0] and "killed by SIGKILL" in errors[0], text[-3000:]
    assert "Traceback" not in text, text[-3000:]
    report = json.loads(next(store.rglob("failures/launcher.json")).read_text())
    assert report["dead_rank"] == 1 and {"rank": 1, "signal": "SIGKILL"}.items() <= \
        next(r for r in report["ranks"] if r["rank"] == 1).items()
    last = max(int(p.name.split("-")[1]) for p in (out / "checkpoints").glob("step-*"))
    assert last >= 10

    restart = run_cli(*args(out, store, last + 2), env={"OMP_NUM_THREADS": "1"})
    assert restart.returncode == 0, restart.stderr[-3000:]
    assert f"at step {last}" in restart.stderr
    fault_table.record(
        "one DDP rank SIGKILLed (2 ranks, gloo)", trials=1, survived=1, data_lost=0,
        detail=f"job exited 1 in {elapsed:.1f} s after the kill (ddp_timeout_s={DDP_TIMEOUT_S}); stderr + "
               f"failures/launcher.json name rank 1 (SIGKILL); restart with 1 process resumed at step {last}")
