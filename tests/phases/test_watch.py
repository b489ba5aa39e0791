"""What `astrobio run` prints off a terminal: one line per phase/component event, with the metric."""

from __future__ import annotations

import io
import json

from astrobio.phases.watch import RunWatcher
from astrobio.pipeline.step_logs import StepEvent

METRICS = {"graph_vae": {"test_auc": 0.9, "baseline_l3_test_auc": 0.95}}


def test_plain_lines_name_phase_and_component_events_and_the_metric(tmp_path):
    out = io.StringIO()
    watcher = RunWatcher(tmp_path, tmp_path / "logs", {"graph_vae": 10, "causal": 10, "datacube": 10, "spectra": 10},
                         lambda name: METRICS.get(name, {}), out, live=False)
    with watcher:
        for task in ("train-graph-vae", "train-causal", "train-datacube"):
            watcher.event(StepEvent("start", task))
            watcher.event(StepEvent("end", task, "FAILURE" if task == "train-causal" else "SUCCESS"))
        watcher.event(StepEvent("start", "train-spectra"))
        watcher.event(StepEvent("end", "train-spectra", "REUSED"))
    lines = out.getvalue().splitlines()
    assert lines[0] == "phase 1 pretrain: started"
    assert lines[2].startswith("  graph_vae: done in ") and "test_auc=0.9 vs l3 0.95 (DOES NOT BEAT)" in lines[2]
    assert "causal: FAILED" in lines[4] and "train-causal.log" in lines[4]
    assert "spectra: reused" in lines[-2] and lines[-1].startswith("phase 1 pretrain: FAILED in ")
    assert len(lines) == 10
    assert set(watcher.seconds()) == {"train-graph-vae", "train-causal", "train-datacube", "train-spectra"}


def test_live_table_reads_step_and_validation_metric_from_metrics_jsonl(tmp_path):
    (tmp_path / "graph_vae").mkdir()
    rows = [{"step": 25, "train_loss": 1.0}, {"step": 25, "val_ap": 0.7, "val_auc": 0.81}]
    (tmp_path / "graph_vae" / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    watcher = RunWatcher(tmp_path, tmp_path / "logs", {"graph_vae": 150}, lambda name: {}, io.StringIO(), live=False)
    watcher.event(StepEvent("start", "train-graph-vae"))
    from rich.console import Console

    console = Console(file=io.StringIO(), width=150)
    console.print(watcher)
    text = console.file.getvalue()
    assert "training" in text and "25/150" in text and "val_auc=0.81" in text
