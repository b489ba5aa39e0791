"""Metric names: the StdOut collector's regex on real trainer output, and the declared names
checked against what a real training prints."""

from __future__ import annotations

import io
import math
import re
from datetime import datetime, timezone

import pytest

from astrobio.config import load_config
from astrobio.trainer.metrics import KATIB_METRIC_REGEX, MetricsSink, format_metric_line, split_timestamp
from astrobio.tune.metrics import declared_metrics, parse_metric_line


def test_parse_metric_line_follows_the_katib_collector():
    assert parse_metric_line("val_auc=0.8125") == [("val_auc", 0.8125)]
    assert parse_metric_line("baseline_aa_val_ap = 1e-05") == [("baseline_aa_val_ap", 1e-05)]
    (pair,) = parse_metric_line(format_metric_line("val_nll", float("nan")))
    assert pair[0] == "val_nll" and math.isnan(pair[1])
    (pair,) = parse_metric_line("val_nll=inf")
    assert pair[0] == "val_nll" and math.isnan(pair[1])


def test_a_non_finite_value_gives_katibs_filter_nothing_to_choke_on():
    """Katib v0.19's early-stopping watcher (cmd/metricscollector/v1beta1/file-metricscollector/
    main.go) runs the default filter over every line that contains a stop-rule metric name and calls
    strconv.ParseFloat on each captured value, klog.Fatalf on failure; `val_auc=nan` would hand it
    an empty capture. The trainer's non-finite line gives the filter no match at all."""
    when = datetime(2026, 12, 2, tzinfo=timezone.utc)
    line = format_metric_line("val_auc", float("nan"), when)
    assert line == "2026-12-02T00:00:00.000000Z val_auc: nan"
    assert "val_auc" in line and list(re.finditer(KATIB_METRIC_REGEX, line)) == []
    assert [m.group(2) for m in re.finditer(KATIB_METRIC_REGEX, "val_auc=nan")] == [""]  # what it avoids
    for value in (0.5, -1e-7, 3e12, 0.0):  # every finite line gives a capture ParseFloat accepts
        (match,) = re.finditer(KATIB_METRIC_REGEX, format_metric_line("val_auc", value, when))
        assert float(match.group(2)) == pytest.approx(value, rel=1e-5)
    assert parse_metric_line("artifact: /tmp/x") == []


def katib_text_line(line: str) -> tuple[datetime | None, str]:
    """How Katib v0.19's text collector reads one line (pkg/metricscollector/v1beta1/
    file-metricscollector/file-metricscollector.go, parseLogsInTextFormat): `strings.SplitN(line,
    " ", 2)`, and the first part is the metric's time if `time.Parse(time.RFC3339Nano, ...)` accepts
    it (else the zero time); the default filter then runs over the whole line. Python's
    fromisoformat stands in for Go's RFC3339Nano parser on the `...T..:..:..[.frac](Z|+hh:mm)` form."""
    head, _, _ = line.partition(" ")
    try:
        when = datetime.fromisoformat(head) if re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)", head) else None
    except ValueError:
        when = None
    return when, line


def test_metric_lines_carry_an_rfc3339_time_katib_reads(tmp_path):
    ticks = iter([datetime(2026, 12, 2, 13, 30, 15, 123456, tzinfo=timezone.utc),
                  datetime(2026, 12, 2, 13, 31, 0, tzinfo=timezone.utc)])
    stream = io.StringIO()
    sink = MetricsSink(tmp_path, True, stream=stream, clock=lambda: next(ticks))
    sink.log(10, {"val_auc": 0.5, "val_ap": 0.25})
    sink.log(20, {"val_auc": 0.75})
    sink.close()
    lines = stream.getvalue().splitlines()
    assert lines == ["2026-12-02T13:30:15.123456Z val_auc=0.5", "2026-12-02T13:30:15.123456Z val_ap=0.25",
                     "2026-12-02T13:31:00.000000Z val_auc=0.75"]
    regex = re.compile(KATIB_METRIC_REGEX)
    read = []
    for line in lines:
        when, text = katib_text_line(line)
        assert when is not None and when.tzinfo is not None, line
        read += [(when, m.group(1), float(m.group(2))) for m in regex.finditer(text)]  # the filter sees the whole line
    assert [(n, v) for _, n, v in read] == [("val_auc", 0.5), ("val_ap", 0.25), ("val_auc", 0.75)]
    assert max((w, v) for w, n, v in read if n == "val_auc")[1] == 0.75  # "latest" = the newest time
    assert [p for line in lines for p in parse_metric_line(line)] == [("val_auc", 0.5), ("val_ap", 0.25), ("val_auc", 0.75)]
    assert split_timestamp(lines[0]) == ("2026-12-02T13:30:15.123456Z", "val_auc=0.5")
    assert split_timestamp("val_auc=0.5") == (None, "val_auc=0.5")
    assert format_metric_line("val_auc", 0.5) == "val_auc=0.5"


def test_stdout_collector_regex_matches_real_trainer_output(crash_study):
    tc, result, _ = crash_study
    stdout = (result.output / "trial-1" / "stdout.log").read_text()
    stamped = [split_timestamp(line) for line in stdout.splitlines()]
    metric_lines = [rest for when, rest in stamped if when and re.fullmatch(r"[\w|-]+=\S+", rest)]
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
