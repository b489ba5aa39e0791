"""Trial processes: live metrics, stopping (SIGTERM, then SIGKILL), and the study loop around them,
with stand-in trainers so only the tuner's own behaviour is timed."""

from __future__ import annotations

import os
import stat
import sys
import time
from pathlib import Path

from astrobio.tune.load import load_tune_config
from astrobio.tune.optuna_backend import run_study
from astrobio.tune.trial_runner import run_trial

from .conftest import study_trials, tune_tree, write_config

# A trainer stand-in: writes a metrics.jsonl row and a stdout line per "evaluation", then hangs,
# ignoring SIGTERM, so only SIGKILL ends it.
STUBBORN = """
import json, signal, sys, time
from pathlib import Path
signal.signal(signal.SIGTERM, signal.SIG_IGN)
out = Path(sys.argv[sys.argv.index("--output") + 1]); out.mkdir(parents=True, exist_ok=True)
with open(out / "metrics.jsonl", "a") as fh:
    fh.write(json.dumps({"step": 3, "train_loss": 1.0}) + "\\n")
    fh.write(json.dumps({"step": 3, "val_auc": 0.25}) + "\\n"); fh.flush()
print("val_auc=0.25", flush=True)
time.sleep(600)
"""


def _script(folder: Path, body: str) -> str:
    path = folder / "stand-in"
    path.write_text(f"#!{sys.executable}\n{body}\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return str(path)


def test_a_stopped_trial_is_killed_even_if_it_ignores_sigterm(tmp_path):
    reports: list[tuple[int, float]] = []

    def report(step: int, value: float) -> bool:
        reports.append((step, value))
        return True

    start = time.monotonic()
    argv = [_script(tmp_path, STUBBORN), "--output", str(tmp_path / "t")]
    outcome = run_trial(argv, tmp_path / "t", "val_auc", report, env=dict(os.environ), poll_s=0.05, grace_s=0.5)
    assert time.monotonic() - start < 30
    assert reports == [(3, 0.25)]  # the train_loss row of the same step is not a report
    assert outcome.state == "pruned" and outcome.returncode == -9
    assert outcome.printed == {"val_auc": 0.25}
    assert (tmp_path / "t" / "stdout.log").read_text() == "val_auc=0.25\n"


def test_a_finished_trial_is_never_pruned_after_the_fact(tmp_path):
    body = ("import json, sys\nfrom pathlib import Path\nout = Path(sys.argv[-1]); out.mkdir(parents=True, exist_ok=True)\n"
            "(out / 'metrics.jsonl').write_text(json.dumps({'step': 5, 'val_auc': 0.5}) + '\\n')\nprint('val_auc=0.5')")
    outcome = run_trial([_script(tmp_path, body), str(tmp_path / "t")], tmp_path / "t", "val_auc", lambda s, v: True,
                        env=dict(os.environ), poll_s=0.5)
    assert outcome.state == "complete" and outcome.value == 0.5 and outcome.reports == [(5, 0.5)]


COUNTING = """
import os, sys
lr = [a for a in sys.argv if a.startswith("optim.lr=")][-1].split("=")[1]
with open(os.environ["LOG"], "a") as fh:
    fh.write(os.environ.get("OMP_NUM_THREADS", "-") + "\\n")
print("val_ap=0.5"); print("val_auc=" + str(1 - float(lr)))
"""


def test_parallel_trials_and_a_rerun_that_continues_with_a_larger_budget(tmp_path):
    log = tmp_path / "calls.log"
    path = write_config(tmp_path, tune_tree(**{"tune.budget": {"trials": 4, "parallel": 2},
                                               "tune.early_stopping": {"rule": "none"}}))
    fake = _script(tmp_path, COUNTING)
    env = {**os.environ, "LOG": str(log)}
    env.pop("OMP_NUM_THREADS", None)
    run_study(load_tune_config(path), tmp_path / "study", python=fake, env=env, note=lambda _: None)
    assert [t.state.name for t in study_trials(tmp_path / "study")] == ["COMPLETE"] * 4
    assert set(log.read_text().split()) == {str(max(1, (os.cpu_count() or 1) // 2))}
    more = run_study(load_tune_config(path, ["tune.budget.trials=6"]), tmp_path / "study", python=fake, env=env,
                     note=lambda _: None)
    trials = study_trials(tmp_path / "study")
    assert [t.number for t in trials] == list(range(6)) and all(t.state.name == "COMPLETE" for t in trials)
    assert more.best_value == max(t.value for t in trials)
