"""SIGKILL at random steps and inside checkpoint writes: the next start resumes from the last valid
checkpoint and training ends bit-for-bit where an uninterrupted run ends.

One chain of real processes in one output folder: each run is killed at its point, the next run
resumes (and is killed at the next point), the last run finishes. Every checkpoint a resumed run
writes, and the final weights, are compared with an uninterrupted reference run.
"""

from __future__ import annotations

import random
import re
import signal
import subprocess
import threading
from pathlib import Path

import torch

from astrobio.trainer.checkpoint import MODEL_FILE, list_checkpoints, load_weights, verify
from tests.faults.driver import CHILD_ENV, ROOT, command, resumed_step, run_driver

STEPS, EVERY = 60, 5


def same_weights(a: Path, b: Path) -> bool:
    wa, wb = load_weights(a), load_weights(b)
    return wa.keys() == wb.keys() and all(torch.equal(wa[k], wb[k]) for k in wa)


def newest_valid_step(root: Path) -> int | None:
    for path in list_checkpoints(root):
        try:
            return verify(path).step
        except ValueError:
            continue
    return None


def kill_points(seed: int = 8) -> list[tuple[int, list[str]]]:
    """5 random steps (killed after the step) + 2 kills inside a checkpoint write, in step order."""
    rng = random.Random(seed)
    steps = sorted(rng.sample([s for s in range(2, STEPS) if s % EVERY], 5))
    points = [(s, ["--kill-after-step", str(s)]) for s in steps]
    writes = rng.sample([s for s in range(2 * EVERY, STEPS, EVERY)], 2)
    points += [(writes[0], ["--kill-in-write", str(writes[0]), "before-rename"]),
               (writes[1], ["--kill-in-write", str(writes[1]), "mid-file"])]
    return sorted(points, key=lambda p: (p[0], p[1][0]))


def test_sigkill_at_random_steps_and_mid_checkpoint(tmp_path, fault_table):
    ref = tmp_path / "ref"
    done = run_driver(ref, STEPS, "--every", str(EVERY))
    assert done.returncode == 0, done.stderr[-2000:]
    ref_ckpts = {p.name: p for p in list_checkpoints(ref / "checkpoints")}

    out = tmp_path / "killed"
    points = kill_points()
    latest: int | None = None          # newest checkpoint that was complete before the last kill
    outcomes: list[tuple[bool, bool]] = []   # (survived, lost checkpointed steps) per kill
    for i, (step, fault) in enumerate(points):
        before = {p.name for p in list_checkpoints(out / "checkpoints")}
        proc = run_driver(out, STEPS, "--every", str(EVERY), *fault)
        assert proc.returncode == -signal.SIGKILL, (fault, proc.returncode, proc.stderr[-2000:])
        if i > 0:  # this run resumed after the previous kill
            outcomes[-1] = judge(outcomes[-1], proc.stderr, latest, out, before, ref_ckpts)
        # the last valid checkpoint is what verifies on disk after the kill: checkpoints are written
        # in the background, so one still in flight when the kill came is not (yet) one of them
        latest = newest_valid_step(out / "checkpoints")
        outcomes.append((False, True))
    before = {p.name for p in list_checkpoints(out / "checkpoints")}
    final = run_driver(out, STEPS, "--every", str(EVERY))
    assert final.returncode == 0, final.stderr[-2000:]
    outcomes[-1] = judge(outcomes[-1], final.stderr, latest, out, before, ref_ckpts)
    exact = same_weights(ref / "artifact" / MODEL_FILE, out / "artifact" / MODEL_FILE)
    stale = sorted(p.name for p in (out / "checkpoints").glob(".*"))

    survived = sum(ok for ok, _ in outcomes) if exact else 0
    lost = sum(bad for _, bad in outcomes)
    assert exact, "final weights differ from the uninterrupted run"
    assert all(ok for ok, _ in outcomes), list(zip(points, outcomes))
    assert stale == [], stale  # each restart tidies what a kill inside a write left behind
    for path in list_checkpoints(out / "checkpoints"):
        verify(path)
    fault_table.record(
        "SIGKILL at random steps + mid-checkpoint-write", trials=len(points), survived=survived, data_lost=lost,
        detail=f"killed after steps {[s for s, f in points if f[0] == '--kill-after-step']} and inside the "
               f"writes of checkpoints {[s for s, f in points if f[0] == '--kill-in-write']} (before rename, "
               f"mid state.pt); each restart resumed from the newest complete checkpoint; final weights "
               f"bit-identical to an uninterrupted {STEPS}-step run; {len(stale)} temp folders left after restarts")


def judge(previous: tuple[bool, bool], stderr: str, expected: int | None, out: Path, before: set[str],
          ref: dict[str, Path]) -> tuple[bool, bool]:
    """(survived, data lost) for the kill before this run: resumed where expected, and every
    checkpoint this run wrote equals the reference's at that step."""
    got = resumed_step(stderr)
    new = [p for p in list_checkpoints(out / "checkpoints") if p.name not in before]
    equal = all(same_weights(p / MODEL_FILE, ref[p.name] / MODEL_FILE) for p in new)
    return (got == expected and equal, got != expected or not equal)


KILLS, LONG_STEPS, LONG_EVERY, STEP_SLEEP = 4, 80, 5, 0.2
"""An 80-step run at ~0.2 s a step, so the toy's checkpoint write (in a background thread) ends
within a step, as a real model's write ends well within its step time. With 20 ms steps a write
in flight during a kill was measured to lose 13 steps at interval 10: the bound below holds only
while a write is shorter than a step, and this test keeps that condition explicit."""


def run_until_killed(out: Path, delay: float) -> tuple[int | None, int, str]:
    """Start the driver, SIGKILL it from outside `delay` seconds after its first step; return
    (step it resumed from, last step it reported before the kill, its stderr)."""
    proc = subprocess.Popen(command(out, LONG_STEPS, "--every", str(LONG_EVERY), "--print-steps",
                                    "--step-sleep", str(STEP_SLEEP)),
                            cwd=ROOT, env=CHILD_ENV, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    lines: list[str] = []
    timer: threading.Timer | None = None
    for line in proc.stderr:
        lines.append(line)
        if timer is None and line.startswith("step "):
            timer = threading.Timer(delay, proc.send_signal, (signal.SIGKILL,))
            timer.start()
    proc.wait(timeout=120)
    if timer is not None:
        timer.join()
    stderr = "".join(lines)
    assert proc.returncode == -signal.SIGKILL, (proc.returncode, stderr[-2000:])
    reached = max(int(m) for m in re.findall(r"^step (\d+)$", stderr, re.MULTILINE))
    return resumed_step(stderr), reached, stderr


def test_sigkill_from_an_external_killer_at_random_times(tmp_path, fault_table):
    """An outside SIGKILL at a random (seeded) moment loses at most one checkpoint interval of the
    progress the run had reached before the kill; the chain still ends on the uninterrupted weights."""
    rng = random.Random(11)
    ref = tmp_path / "ref"
    done = run_driver(ref, LONG_STEPS, "--every", str(LONG_EVERY))
    assert done.returncode == 0, done.stderr[-2000:]
    out = tmp_path / "killed"
    reached_before: list[int] = []
    resumed_at: list[int | None] = []
    for _ in range(KILLS):
        resumed, reached, _stderr = run_until_killed(out, rng.uniform(0.5, 2.5))
        resumed_at.append(resumed)
        reached_before.append(reached)
    final = run_driver(out, LONG_STEPS, "--every", str(LONG_EVERY))
    resumed_at.append(resumed_step(final.stderr))
    exact = final.returncode == 0 and same_weights(ref / "artifact" / MODEL_FILE, out / "artifact" / MODEL_FILE)
    lost = [reached - (resumed or 0) for reached, resumed in zip(reached_before, resumed_at[1:])]
    ok = [0 <= n <= LONG_EVERY and exact for n in lost]
    fault_table.record(
        "SIGKILL from an external killer at random times", trials=KILLS, survived=sum(ok),
        data_lost=sum(n > LONG_EVERY for n in lost),
        detail=f"seed 11, {KILLS} kills 0.5-2.5 s into each run: reached steps {reached_before}, resumed at "
               f"{resumed_at[1:]}, lost {lost} steps (bound: one interval = {LONG_EVERY}); final weights "
               f"{'bit-identical to' if exact else 'DIFFER from'} an uninterrupted {LONG_STEPS}-step run")
    assert final.returncode == 0, final.stderr[-2000:]
    assert all(0 <= n <= LONG_EVERY for n in lost), list(zip(reached_before, resumed_at[1:]))
    assert exact, "final weights differ from the uninterrupted run"
