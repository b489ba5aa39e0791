"""The trainer's output reader goes away: the trainer still checkpoints and exits, and resumes there.

`astrobio run` reads a step's output through a pipe (kfp.local) and, stopped by SIGTERM, forwards
the signal and closes that pipe; Ctrl-C on `astrobio train | tee log` kills tee alike. The trainer
asked to checkpoint used to die at its next progress line (BrokenPipeError), losing up to
`checkpoint.every` steps: `test_run_kill.py` caught it now and then, when the signal landed just
before a logged step. Here it is staged every time: the driver logs every step and checkpoints
only when stopped, so a crash on the closed pipe leaves no checkpoint at all.
"""

from __future__ import annotations

import re
import signal
import subprocess
from pathlib import Path

from astrobio.trainer.checkpoint import list_checkpoints, verify
from tests.faults.driver import CHILD_ENV, ROOT, command, resumed_step, run_driver

ARGS = ("--log-every", "1", "--every", "100000", "--eval-every", "100000", "--step-sleep", "0.2")
STEPS = 100_000


def close_reader_at(out: Path, after_step: int, signal_first: bool) -> tuple[int, int, int]:
    """Start a run whose stdout and stderr share one pipe, as under kfp.local; once it printed
    `after_step`, optionally SIGTERM it, then close the pipe. (exit code, last step read, checkpoint step)."""
    proc = subprocess.Popen(command(out, STEPS, *ARGS), cwd=ROOT, env=CHILD_ENV, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    seen: list[str] = []
    last = -1
    for line in proc.stdout:
        seen.append(line)
        found = re.match(r"\[toy\] step (\d+)/", line)
        if found and (last := int(found.group(1))) >= after_step:
            break
    else:
        raise AssertionError("".join(seen[-20:]))
    if signal_first:
        proc.send_signal(signal.SIGTERM)
    proc.stdout.close()  # the reader is gone: every later write of the trainer finds a closed pipe
    code = proc.wait(timeout=60)
    newest = list_checkpoints(out / "checkpoints")
    assert newest, f"exit {code} without a checkpoint; it printed: {''.join(seen[-5:])}"
    return code, last, verify(newest[0]).step


def test_trainer_checkpoints_when_its_output_reader_goes_away(tmp_path: Path, fault_table) -> None:
    out = tmp_path / "out"
    term_code, term_seen, term_step = close_reader_at(out, 3, signal_first=True)
    gone_code, gone_seen, gone_step = close_reader_at(out, term_step + 3, signal_first=False)
    last = run_driver(out, gone_step + 2, *ARGS[:-2])
    fault_table.record(
        "trainer's output reader gone (SIGTERM then pipe closed; pipe closed alone)", trials=2,
        survived=int(term_code == 143 and term_step >= term_seen) + int(gone_code == 141 and gone_step > gone_seen),
        data_lost=int(term_step < term_seen) + int(gone_step <= gone_seen),
        detail=f"SIGTERM + closed pipe after step {term_seen}: exit {term_code}, checkpoint step {term_step}; "
               f"closed pipe alone after step {gone_seen}: exit {gone_code} (SIGPIPE), checkpoint step {gone_step}; "
               f"the rerun resumed at step {resumed_step(last.stderr)}")
    assert term_code == 143 and term_step >= term_seen, (term_code, term_seen, term_step)
    assert gone_code == 141 and gone_step > gone_seen, (gone_code, gone_seen, gone_step)
    assert last.returncode == 0 and resumed_step(last.stderr) == gone_step, last.stderr[-2000:]
