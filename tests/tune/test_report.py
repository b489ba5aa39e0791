"""What a user sees at the end of a study: the table, the plot, the lines `astrobio tune` prints."""

from __future__ import annotations

import stat
import sys
from pathlib import Path

import optuna
import typer
from typer.testing import CliRunner

from astrobio.tune import optuna_backend
from astrobio.cli.tune import tune_cmd as tune_command
from astrobio.tune.report import history_points, results_table, write_history_plot

from .conftest import tune_tree, write_config


def _study() -> optuna.Study:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize")
    for value in (0.5, 0.4, 0.7):
        study.add_trial(optuna.trial.create_trial(params={}, distributions={}, value=value))
    study.add_trial(optuna.trial.create_trial(params={}, distributions={}, intermediate_values={3: 0.1},
                                              state=optuna.trial.TrialState.PRUNED))
    return study


def test_history_is_best_so_far_over_completed_trials():
    points, best = history_points(_study().trials, maximize=True)
    assert points == [(0, 0.5), (1, 0.4), (2, 0.7)]
    assert best == [(0, 0.5), (1, 0.5), (2, 0.7)]


def test_table_keeps_a_pruned_trials_last_value_out_of_the_final_column():
    from rich.console import Console

    console = Console(width=200, record=True)
    console.print(results_table(_study().trials, "val_auc", [], best_number=2))
    rows = [line for line in console.export_text().splitlines() if "pruned" in line or "complete" in line]
    pruned = next(line for line in rows if "pruned" in line).split("│")
    assert pruned[3].strip() == "-" and pruned[4].strip() == "0.1 @ step 3"
    best = next(line for line in rows if "best" in line).split("│")
    assert best[3].strip() == "0.7" and best[4].strip() == "-"


def test_plot_is_a_png_with_matplotlib_and_html_without(tmp_path, monkeypatch):
    png = write_history_plot(_study().trials, "val_auc", True, tmp_path)
    assert png.name == "history.png" and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import fails as if not installed
    page = write_history_plot(_study().trials, "val_auc", True, tmp_path)
    text = page.read_text()
    assert page.name == "history.html" and "<svg" in text and text.count("<circle") == 3


def _fake_python(folder: Path, body: str) -> str:
    script = folder / "fake-python"
    script.write_text(f"#!{sys.executable}\n{body}\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return str(script)


def _invoke(tmp_path, monkeypatch, fake: str, *extra: str):
    real = optuna_backend.run_study
    monkeypatch.setattr(optuna_backend, "run_study", lambda tc, output: real(tc, output, python=fake))
    app = typer.Typer()
    app.command("tune")(tune_command)
    app.command("noop")(lambda: None)
    path = write_config(tmp_path, tune_tree(**{"tune.budget": {"trials": 2}, "tune.early_stopping": {"rule": "none"}}))
    return CliRunner().invoke(app, ["tune", "--config", str(path), "--output", str(tmp_path / "study"), *extra])


def test_cli_prints_the_table_the_best_trial_and_how_to_train_it(tmp_path, monkeypatch):
    fake = _fake_python(tmp_path, "import sys\nlr = [a for a in sys.argv if a.startswith('optim.lr=')][-1]\n"
                                  "print('val_ap=0.5')\nprint('val_auc=' + str(1 - float(lr.split('=')[1])))")
    result = _invoke(tmp_path, monkeypatch, fake)
    assert result.exit_code == 0, result.output
    assert "tuning results (val_auc)" in result.stdout
    assert "best: trial 0, val_auc=0.99" in result.stdout
    assert f"train it: astrobio train -c graph_vae --config {tmp_path / 'study' / 'best.yaml'}" in result.stdout
    assert (tmp_path / "study" / "history.png").is_file()


def test_cli_exits_1_when_no_trial_completes(tmp_path, monkeypatch):
    fake = _fake_python(tmp_path, "import sys\nprint('error: boom', file=sys.stderr)\nsys.exit(1)")
    result = _invoke(tmp_path, monkeypatch, fake)
    assert result.exit_code == 1
    assert "no trial completed (2 failed, 0 pruned)" in result.output
