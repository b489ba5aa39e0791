"""SIGTERM with a grace period (pod eviction): checkpoint, exit 143 well inside Kubernetes' default
30 s terminationGracePeriodSeconds, and the restart resumes from that checkpoint.

Three trials chained in one folder: each run is signalled once it has printed a given step, and the
next run must resume from the checkpoint the previous one wrote on its way out.
"""

from __future__ import annotations

import re
import signal
import subprocess
import time

from astrobio.trainer.checkpoint import list_checkpoints, verify
from tests.faults.driver import CHILD_ENV, ROOT, command, resumed_step, run_driver

GRACE_S = 30.0   # Kubernetes' default terminationGracePeriodSeconds
ASSERT_S = 10.0  # what the trainer must do better than
ARGS = ("--log-every", "1", "--every", "100000", "--eval-every", "100000")


def terminate_at(out, after_step: int) -> tuple[int, float, int | None, int, str]:
    """Start a run, SIGTERM it once it printed `after_step`; (exit code, seconds to exit, resumed, stopped step, stderr)."""
    proc = subprocess.Popen(command(out, 100_000, *ARGS), cwd=ROOT, env=CHILD_ENV, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    seen: list[str] = []
    for line in proc.stderr:
        seen.append(line)
        found = re.match(r"\[toy\] step (\d+)/", line)
        if found and int(found.group(1)) >= after_step:
            break
    else:
        raise AssertionError("".join(seen[-20:]))
    sent = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    code = proc.wait(timeout=GRACE_S)
    elapsed = time.monotonic() - sent
    text = "".join(seen) + proc.stderr.read()
    stopped = re.search(r"^preempted: stopped at step (\d+)", text, re.MULTILINE)
    assert stopped, text[-2000:]
    return code, elapsed, resumed_step(text), int(stopped.group(1)), text


def test_sigterm_checkpoints_within_grace_and_resumes(tmp_path, fault_table):
    out = tmp_path / "out"
    previous: int | None = None
    timings: list[float] = []
    survived = lost = 0
    for after in (3, 40, 120):  # each relative to where the run resumed
        code, elapsed, resumed, stopped, text = terminate_at(out, after + (previous or 0))
        assert code == 143, text[-2000:]
        assert elapsed < ASSERT_S, elapsed
        assert resumed == previous, (resumed, previous)
        newest = list_checkpoints(out / "checkpoints")[0]
        assert verify(newest).step == stopped, (newest, stopped)
        timings.append(elapsed)
        survived += 1
        previous = stopped
    last = run_driver(out, previous + 2, *ARGS)  # type: ignore[operator]
    assert last.returncode == 0, last.stderr[-2000:]
    assert resumed_step(last.stderr) == previous, last.stderr[-2000:]
    fault_table.record(
        "SIGTERM (pod eviction), 30 s grace", trials=3, survived=survived, data_lost=lost,
        detail=f"signal -> checkpoint written + exit 143 in {', '.join(f'{t:.2f}' for t in timings)} s "
               f"(grace {GRACE_S:.0f} s, asserted < {ASSERT_S:.0f} s); each restart resumed at the signalled step")
