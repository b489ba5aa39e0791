"""The Optuna backend: real `astrobio train` trials, failures recorded, a resumable study, best.yaml.

The full study (six trials, median stopping, best.yaml retrained) is marked slow; the fast tests
share one two-trial study whose first trial crashes, and use a stand-in interpreter where only the
tuner's own logic is under test.
"""

from __future__ import annotations

import json
import stat
import statistics
import sys
from pathlib import Path

import pytest
import typer
import yaml
from typer.testing import CliRunner

from astrobio.errors import UsageError
from astrobio.tune import optuna_backend
from astrobio.cli.tune import tune_cmd as tune_command
from astrobio.tune.load import load_tune_config
from astrobio.tune.optuna_backend import BEST_FILE, run_study
from astrobio.tune.optuna_study import open_study, recover_interrupted
from tests.cli_helpers import assert_one_line_error

from .conftest import run_tune, study_trials as _trials, tune_tree, write_config

def test_crashed_trial_is_recorded_failed_and_the_study_goes_on(crash_study):
    tc, result, notes = crash_study
    first, second = _trials(result.output)
    assert first.params == {"es_metric": "val_nope"} and first.state.name == "FAIL"
    assert "exit 2" in first.user_attrs["failure"] and "val_nope" in first.user_attrs["failure"]
    assert second.params == {"es_metric": "val_auc"} and second.state.name == "COMPLETE"
    assert 0.0 <= second.value <= 1.0
    assert any(n.startswith("trial 0 failed: exit 2") for n in notes)
    assert result.counts == {"COMPLETE": 1, "PRUNED": 0, "FAIL": 1} and result.best_number == 1
    best = yaml.safe_load((result.output / BEST_FILE).read_text())
    assert best["components"]["graph_vae"]["trainer"]["early_stopping"]["metric"] == "val_auc"
    assert "tune" not in best
    assert result.plot.is_file() and result.plot.stat().st_size > 0
    assert (result.output / "trial-1" / "stdout.log").is_file() and (result.output / "trial-1" / "metrics.jsonl").is_file()


def test_rerun_continues_the_same_study(crash_study):
    tc, result, _ = crash_study
    before = [(t.number, t.state.name, t.value) for t in _trials(result.output)]
    again = run_study(tc, result.output, note=lambda _: None)  # budget already spent: nothing to run
    assert [(t.number, t.state.name, t.value) for t in _trials(result.output)] == before
    assert again.best_number == result.best_number and again.best_value == result.best_value


def test_another_search_space_does_not_mix_into_an_old_study(crash_study, tmp_path):
    tc, result, _ = crash_study
    other = load_tune_config(write_config(tmp_path, tune_tree(**{"tune.seed": 1})))
    with pytest.raises(UsageError, match="another search space or objective"):
        open_study(other, result.output)


def test_interrupted_trials_are_failed_and_queued_again(tmp_path):
    tc = load_tune_config(write_config(tmp_path, tune_tree()))
    study = open_study(tc, tmp_path)
    left_running = study.ask(tc.space.optuna_distributions())
    notes: list[str] = []
    recover_interrupted(open_study(tc, tmp_path), notes.append)
    trials = open_study(tc, tmp_path).get_trials()
    assert trials[0].state.name == "FAIL" and trials[0].user_attrs["interrupted"] is True
    assert trials[1].state.name == "WAITING" and trials[1].system_attrs["fixed_params"] == left_running.params
    assert notes == ["trial 0 was interrupted; its values are queued again"]


def _stand_in(folder: Path, lines: str) -> str:
    """An executable that takes `astrobio train`'s arguments and prints `lines` (the tuner's logic
    under test, without the trainer's start-up cost)."""
    script = folder / "fake-python"
    script.write_text(f"#!{sys.executable}\nimport sys\nprint({lines!r})\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return str(script)


def test_objective_never_printed_stops_the_study_with_a_clear_message(tmp_path, monkeypatch):
    """Where nothing declares the component's metrics, the first finished trial is the check."""
    monkeypatch.setattr(optuna_backend, "declared_metrics", lambda cfg, component: None)
    tc = load_tune_config(write_config(tmp_path, tune_tree(**{"tune.objective": {"metric": "val_acc"}})))
    with pytest.raises(UsageError) as info:
        run_study(tc, tmp_path / "study", python=_stand_in(tmp_path, "val_auc=0.5\nval_ap=0.25"), note=lambda _: None)
    message = str(info.value)
    assert "objective metric 'val_acc' was never printed by trial 0" in message
    assert "the trial printed: val_ap, val_auc" in message
    (trial,) = _trials(tmp_path / "study")
    assert trial.state.name == "FAIL" and trial.user_attrs["failure"] == "val_acc was never printed"


def test_declared_metrics_refuse_a_wrong_objective_before_any_trial(tmp_path):
    path = write_config(tmp_path, tune_tree(**{"tune.objective": {"metric": "val_acc"}}))
    proc = run_tune("--config", str(path), "--output", str(tmp_path / "study"))
    assert_one_line_error(proc, 2, "'val_acc' is not a metric 'graph_vae' prints", "did you mean 'val_auc'?")
    assert not (tmp_path / "study").exists()


def test_invalid_combination_fails_without_a_subprocess(tmp_path):
    params = [{"path": "components.graph_vae.model.encoder", "type": "categorical", "values": ["sage", "transformer"]},
              {"path": "components.graph_vae.model.heads", "type": "categorical", "values": [3, 4]}]
    tc = load_tune_config(write_config(tmp_path, tune_tree(**{"tune.parameters": params, "tune.algorithm": "grid",
                                                               "tune.budget": {"trials": 4}})))
    run_study(tc, tmp_path / "study", python=_stand_in(tmp_path, "val_auc=0.5\nval_ap=0.5"), note=lambda _: None)
    by_params = {(t.params["encoder"], t.params["heads"]): t for t in _trials(tmp_path / "study")}
    bad = by_params[("transformer", 3)]
    assert bad.state.name == "FAIL" and "invalid combination" in bad.user_attrs["failure"]
    assert "not divisible by heads=3" in bad.user_attrs["failure"]
    assert not (tmp_path / "study" / f"trial-{bad.number}").exists()
    assert sum(t.state.name == "COMPLETE" for t in by_params.values()) == 3


def test_values_a_complete_trial_already_ran_are_not_trained_again(tmp_path):
    params = [{"path": "optim.lr", "type": "categorical", "values": [0.01]}]
    tc = load_tune_config(write_config(tmp_path, tune_tree(**{"tune.parameters": params, "tune.budget": {"trials": 3}})))
    notes: list[str] = []
    told: list[tuple[str, float | None]] = []  # what the terminal's trial bar hears: every trial, reused ones too
    result = run_study(tc, tmp_path / "study", python=_stand_in(tmp_path, "val_auc=0.625\nval_ap=0.5"), note=notes.append,
                       told=lambda state, value: told.append((state, value)))
    trials = _trials(result.output)
    assert [t.state.name for t in trials] == ["COMPLETE"] * 3 and [t.value for t in trials] == [0.625] * 3
    assert told == [("complete", 0.625)] * 3
    assert trials[1].user_attrs["note"] == "same values as trial 0: not run again"
    assert sorted(p.name for p in result.output.glob("trial-*") if p.is_dir()) == ["trial-0"]  # one training, not three
    assert sum("reused its val_auc" in n for n in notes) == 2


def test_dry_run_prints_a_trial_command(tmp_path):
    app = typer.Typer()
    app.command("tune")(tune_command)
    app.command("noop")(lambda: None)
    path = write_config(tmp_path, tune_tree())
    result = CliRunner().invoke(app, ["tune", "--config", str(path), "--dry-run", "--output", str(tmp_path / "s")])
    assert result.exit_code == 0, result.output
    assert "-m astrobio train -c graph_vae --config" in result.stdout and "'optim.lr=${trialParameters.lr}'" in result.stdout
    assert not (tmp_path / "s").exists()


@pytest.mark.slow
def test_study_prunes_writes_best_yaml_and_best_yaml_reproduces_the_best_trial(tmp_path):
    """Six real trials. Trial 0 runs the config's own lr (0.01) to the end; lr 0.05 and 0.1 fall
    below its val_auc at some evaluation (the median of the trials complete before them, trial 0
    here; MedianPruner compares a trial's best so far), so every trial drawing them is stopped at
    the first report where they do, and not before (min_trials 1, start_step 1). Which report that
    is depends on the data and the negative sampler (at the first, until issue #19 changed the
    sampler; at the third since), not on what this test checks."""
    tc = load_tune_config(write_config(tmp_path, tune_tree()))
    result = run_study(tc, tmp_path / "study", note=lambda _: None)
    trials = _trials(result.output)
    assert len(trials) == 6 and trials[0].params == {"lr": 0.01} and trials[0].state.name == "COMPLETE"
    pruned = [t for t in trials if t.state.name == "PRUNED"]
    assert pruned and all(t.params["lr"] in (0.05, 0.1) for t in pruned)
    for t in pruned:  # MedianPruner: stopped at the first report whose best so far is below the median
        values = t.intermediate_values  # of the trials complete before it, at the same step
        done = [c.intermediate_values for c in trials[:t.number] if c.state.name == "COMPLETE"]
        below = [max(v for k, v in values.items() if k <= s) < statistics.median(d[s] for d in done if s in d)
                 for s in sorted(values)]
        assert below[-1] and not any(below[:-1]), (t.number, values, done)
    best = max((t for t in trials if t.state.name == "COMPLETE"), key=lambda t: t.value)
    assert result.best_number == best.number
    best_yaml = result.output / BEST_FILE
    assert yaml.safe_load(best_yaml.read_text())["optim"]["lr"] == best.params["lr"]
    from tests.cli_helpers import run_cli

    out = tmp_path / "retrain"
    proc = run_cli("train", "-c", "graph_vae", "--config", str(best_yaml), "--output", str(out),
                   "--set", f"store.uri={tmp_path / 'store2'}")
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    final = [r["val_auc"] for r in rows if "val_auc" in r][-1]
    assert abs(final - best.value) <= 1e-6
