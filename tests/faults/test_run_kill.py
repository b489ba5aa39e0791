"""Fault suite: `astrobio run` SIGKILLed (whole process group) within a phase and between phases.

The run is the real local pipeline (kfp.local, one subprocess per step, `astrobio train` under each
launcher step). graph_vae trains for real on a tiny config so it can be killed after a checkpoint
and must resume from it; the other steps use the fast stub (tests/phases/train_dispatch.py), so
the three runs take well under a minute. What is measured: which complete artifacts were rewritten
(COMPLETE mtimes), the step graph_vae resumed at, the process tree left after each kill, and the
final run.json.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from astrobio.pipeline.launcher import TRAIN_COMMAND_ENV
from tests.cli_helpers import ROOT, SMOKE
from tests.phases.train_dispatch import REAL_TRAIN_ENV

RUN_ID = "kill1"
STEPS, EVERY = 200, 10  # a long runway after the resumed checkpoint: SIGTERM must land mid-training
PHASE1 = ("causal", "datacube", "graph_vae", "spectra")
GRAPH_VAE = ["--set", "components.graph_vae.data.sources=[textbook]",
             "--set", "components.graph_vae.trainer.early_stopping.metric=null",
             "--set", f"components.graph_vae.trainer.max_steps={STEPS}",
             "--set", f"components.graph_vae.trainer.eval_every={STEPS}",
             "--set", "components.graph_vae.trainer.log_every=5",
             "--set", f"components.graph_vae.trainer.checkpoint.every={EVERY}"]


def start_run(tmp: Path, log_name: str) -> subprocess.Popen[bytes]:
    """`astrobio run --phases 1-2` as a user starts it, in its own session so the whole tree can be killed."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1",
           TRAIN_COMMAND_ENV: f"{sys.executable} {ROOT / 'tests' / 'phases' / 'train_dispatch.py'}",
           REAL_TRAIN_ENV: "graph_vae"}
    env.pop("FAKE_TRAIN_FAIL", None)
    cmd = [sys.executable, "-m", "astrobio", "run", "--config", str(SMOKE), "--phases", "1-2", "-o", str(tmp / "out"),
           "--set", f"store.uri={tmp / 'store'}", "--set", f"run.run_id={RUN_ID}", *GRAPH_VAE]
    with open(tmp / log_name, "wb") as log:
        return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def step_logs(tmp: Path) -> dict[Path, int]:
    """Sizes of the run's per-step log files: every run of the same run id appends to them."""
    return {p: p.stat().st_size for p in (tmp / "out" / RUN_ID / "logs").glob("*.log")}


def run_text(tmp: Path, log_name: str, before: dict[Path, int]) -> str:
    """What one run wrote: its terminal output, then what it appended to each step log (the
    trainings' own lines live there since `astrobio run` keeps the terminal to events)."""
    parts = [(tmp / log_name).read_text(errors="replace")]
    for path in sorted((tmp / "out" / RUN_ID / "logs").glob("*.log")):
        with path.open("rb") as handle:
            handle.seek(before.get(path, 0))
            parts.append(handle.read().decode(errors="replace"))
    return "\n".join(parts)


def await_condition(what: str, check: Callable[[], bool], proc: subprocess.Popen[bytes], deadline_s: float = 120) -> None:
    """Poll `check` until true; fail if the run exits first or the deadline passes."""
    deadline = time.monotonic() + deadline_s
    while not check():
        assert proc.poll() is None, f"the run exited ({proc.returncode}) before {what}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def _stat(pid: int) -> tuple[str, int, int] | None:
    """(state, session id, start time) of a live /proc entry, None if it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = raw[raw.rindex(")") + 2:].split()  # after "pid (comm) "
    return fields[0], int(fields[3]), int(fields[19])


def session_processes(sid: int) -> dict[int, str]:
    """Every process of session `sid` that is not a zombie (pid -> state): what a kill must leave empty."""
    alive = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            info = _stat(int(entry.name))
            if info is not None and info[1] == sid and info[0] != "Z":
                alive[int(entry.name)] = info[0]
    return alive


def kill_group(proc: subprocess.Popen[bytes]) -> int:
    """SIGKILL the run's process group; return how many processes it had; assert none survives."""
    before = session_processes(proc.pid)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    deadline = time.monotonic() + 10
    while (left := session_processes(proc.pid)) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not left, f"orphans after SIGKILL of the process group: {left}"
    return len(before)


def completes(store: Path) -> dict[str, int]:
    return {str(p.parent.relative_to(store)): p.stat().st_mtime_ns for p in store.glob(f"runs/{RUN_ID}/*/*/COMPLETE")}


def checkpoint_steps(tmp: Path) -> list[int]:
    folder = tmp / "out" / RUN_ID / "graph_vae" / "checkpoints"
    return sorted(int(p.name.split("-")[1]) for p in folder.glob("step-*")) if folder.is_dir() else []


def trained_steps(log: str) -> list[int]:
    return [int(n) for n in re.findall(rf"\[graph_vae\] step (\d+)/{STEPS}", log)]


def resumed_at(log: str, tmp: Path) -> int:
    """The step graph_vae resumed from, checking it found its checkpoint in the run's stable output folder."""
    found = re.search(r"resumed from (\S+) at step (\d+)", log)
    assert found is not None, log[-3000:]
    assert found[1].startswith(str(tmp / "out" / RUN_ID / "graph_vae" / "checkpoints")), found[1]
    return int(found[2])


def test_run_killed_within_and_between_phases_resumes_without_redoing_work(tmp_path: Path, fault_table) -> None:
    store = tmp_path / "store"
    phase1 = {f"runs/{RUN_ID}/pretrain/{c}" for c in PHASE1}
    # (b) SIGKILL within a phase: graph_vae is killed after its first checkpoint
    first = start_run(tmp_path, "run1.log")
    await_condition("graph_vae's first checkpoint", lambda: bool(checkpoint_steps(tmp_path)), first)
    killed_b = kill_group(first)
    at_kill = max(checkpoint_steps(tmp_path))
    assert f"runs/{RUN_ID}/pretrain/graph_vae" not in completes(store) and at_kill < STEPS
    done_before_b = completes(store)

    # (c) SIGTERM to `astrobio run` alone, as `kill PID` sends it, once graph_vae trained on from its checkpoint
    before2 = step_logs(tmp_path)
    second = start_run(tmp_path, "run2.log")
    await_condition("a checkpoint after the resume", lambda: max(checkpoint_steps(tmp_path)) > at_kill, second)
    tree = len(session_processes(second.pid))
    before_term = max(checkpoint_steps(tmp_path))
    second.send_signal(signal.SIGTERM)
    assert second.wait(timeout=90) == 143
    left = session_processes(second.pid)
    log2 = run_text(tmp_path, "run2.log", before2)
    assert not left, f"orphans after SIGTERM to astrobio run: {left}"
    assert resumed_at(log2, tmp_path) == at_kill and min(trained_steps(log2)) > at_kill
    at_term = max(checkpoint_steps(tmp_path))  # the trainer saves at the step the signal reached it
    assert before_term <= at_term < STEPS and at_term >= max(trained_steps(log2))
    error = json.loads((tmp_path / "out" / "run.json").read_text())["error"]
    assert "SIGTERM" in error and "killed" not in error, error  # the trainer exited by itself, within the grace

    # (a) SIGKILL between phases: the rerun is killed the moment phase 1's last artifact is COMPLETE
    before3 = step_logs(tmp_path)
    third = start_run(tmp_path, "run3.log")
    await_condition("phase 1 complete", lambda: phase1 <= set(completes(store)), third)
    killed_a = kill_group(third)
    log3 = run_text(tmp_path, "run3.log", before3)
    after_a = completes(store)
    assert set(after_a) == phase1, "phase 2 finished before the kill: not a kill between phases"
    assert resumed_at(log3, tmp_path) == at_term
    assert min(trained_steps(log3)) > at_term and max(trained_steps(log3)) == STEPS, "steps before the checkpoint ran again"
    for prefix, mtime in done_before_b.items():
        assert after_a[prefix] == mtime, f"{prefix} was redone after a kill within phase 1"

    # the same command again: phase 1 reused, phase 2 trained, a complete run.json
    before4 = step_logs(tmp_path)
    fourth = start_run(tmp_path, "run4.log")
    assert fourth.wait(timeout=180) == 0, (tmp_path / "run4.log").read_text(errors="replace")[-3000:]
    log4 = run_text(tmp_path, "run4.log", before4)
    final = completes(store)
    reused = [c for c in PHASE1 if f"pretrain/{c} is already complete; reusing it" in log4]
    assert reused == list(PHASE1) and not trained_steps(log4)
    assert all(final[p] == after_a[p] for p in phase1)
    assert f"runs/{RUN_ID}/integrate/fusion" in final
    run = json.loads((tmp_path / "out" / "run.json").read_text())
    assert run["error"] is None and [p["status"] for p in run["phases"]] == ["complete", "complete"]
    assert all(c["complete"] and c["metrics"] for p in run["phases"] for c in p["components"].values())
    assert not session_processes(fourth.pid)

    fault_table.record(
        "astrobio run SIGKILLed mid-training (phase 1)", trials=1, survived=1, data_lost=0,
        detail=f"killed the group ({killed_b} processes) after graph_vae checkpoint step {at_kill}/{STEPS}; 0 orphans; "
               f"rerun resumed at step {at_kill} from the same output dir, trained steps {min(trained_steps(log2))}+ only; "
               f"{len(done_before_b)} artifacts completed before the kill kept (COMPLETE mtimes)")
    fault_table.record(
        "astrobio run SIGTERMed (parent pid only) mid-training", trials=1, survived=1, data_lost=0,
        detail=f"{tree} processes; exit 143, 0 orphans; trainer checkpointed at step {at_term}; run.json names SIGTERM; "
               f"rerun resumed at step {at_term}, trained steps {min(trained_steps(log3))}-{STEPS} only")
    fault_table.record(
        "astrobio run SIGKILLed between phases 1 and 2", trials=1, survived=1, data_lost=0,
        detail=f"killed the group ({killed_a} processes) when phase 1's 4th COMPLETE appeared; 0 orphans; rerun "
               f"reused {len(reused)}/4 phase-1 artifacts (COMPLETE mtimes unchanged), 0 training steps, trained "
               f"fusion; run.json complete ({run['wall_seconds']}s)")
