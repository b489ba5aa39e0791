"""Metric names: the StdOut collector's regex on real trainer output, and the declared names
checked against what a real training prints."""

from __future__ import annotations

import math
import re

import pytest

from astrobio.config import load_config
from astrobio.trainer.metrics import KATIB_METRIC_REGEX, format_metric_line
from astrobio.tune.metrics import declared_metrics, parse_metric_line


def test_parse_metric_line_follows_the_katib_collector():
    assert parse_metric_line("val_auc=0.8125") == [("val_auc", 0.8125)]
    assert parse_metric_line("baseline_aa_val_ap = 1e-05") == [("baseline_aa_val_ap", 1e-05)]
    (pair,) = parse_metric_line(format_metric_line("val_nll", float("nan")))
    assert pair[0] == "val_nll" and math.isnan(pair[1])
    assert parse_metric_line("artifact: /tmp/x") == []


def test_stdout_collector_regex_matches_real_trainer_output(crash_study):
    tc, result, _ = crash_study
    stdout = (result.output / "trial-1" / "stdout.log").read_text()
    metric_lines = [line for line in stdout.splitlines() if re.fullmatch(r"[\w|-]+=\S+", line)]
    assert metric_lines, stdout[-2000:]
    regex = re.compile(KATIB_METRIC_REGEX)
    for line in metric_lines:
        name, value = line.split("=", 1)
        match = regex.search(line)
        assert match and match.group(1) == name and float(match.group(2)) == float(value), line
    printed = {name for line in stdout.splitlines() for name, _ in parse_metric_line(line)}
    assert {"val_auc", "val_ap", "test_auc", "baseline_aa_val_auc"} <= printed


def test_declared_graph_vae_names_are_exactly_what_a_real_training_prints(crash_study):
    tc, result, _ = crash_study
    stdout = (result.output / "trial-1" / "stdout.log").read_text()
    printed = {name for line in stdout.splitlines() for name, _ in parse_metric_line(line)}
    assert declared_metrics(tc.cfg, "graph_vae") == printed


def test_declared_names_follow_the_config():
    bipartite = load_config(None, ["components.graph_vae.data.graph=bipartite"])
    names = declared_metrics(bipartite, "graph_vae")
    assert "baseline_l3_val_auc" in names and "baseline_cn_val_auc" not in names
    causal = declared_metrics(load_config(None, []), "causal")
    assert {"val_shd", "val_cf_rmse", "baseline_pc_val_shd", "baseline_obs_test_cf_rmse"} <= causal
    csv = declared_metrics(load_config(None, ["components.causal.data.source=data.csv"]), "causal")
    assert "val_shd" not in csv and "val_cf_rmse" not in csv and "val_nll" in csv


@pytest.mark.slow
def test_declared_causal_names_are_exactly_what_a_real_training_prints(tmp_path):
    from tests.cli_helpers import run_cli

    out = tmp_path / "causal"
    proc = run_cli("train", "-c", "causal", "--output", str(out), "--set", f"store.uri={tmp_path / 'store'}",
                   "--set", "components.causal.data.n_samples=200", "--set", "trainer.max_steps=4",
                   "--set", "trainer.eval_every=2", "--set", "components.causal.model.dual_every=2")
    assert proc.returncode == 0, proc.stderr[-2000:]
    printed = {name for line in proc.stdout.splitlines() for name, _ in parse_metric_line(line)}
    assert declared_metrics(load_config(None, []), "causal") == printed
