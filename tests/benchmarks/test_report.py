"""The README tables are what benchmarks/results/*.json say (drift test), and the report says no."""

from __future__ import annotations

import json

from benchmarks.report import READMES, load, main, render, replace_block
from benchmarks.common import RESULTS
from benchmarks.goals import judge
from benchmarks.run_smoke import llm_row, result


def test_readme_tables_match_the_results_files(capsys):
    assert main(["--check"]) == 0, capsys.readouterr().err


def test_a_changed_figure_is_drift(tmp_path):
    docs = load(RESULTS)
    name, doc = docs[0]
    doc["rows"][0]["astrobio"] = 123456.0
    (tmp_path / f"{name}.json").write_text(json.dumps(doc))
    for other, other_doc in docs[1:]:
        (tmp_path / f"{other}.json").write_text(json.dumps(other_doc))
    assert main(["--check", "--results", str(tmp_path)]) == 1
    text = READMES["full"].read_text()
    assert "123456" in replace_block(text, "full", render(load(tmp_path), "full"))


def test_headline_keeps_rows_with_a_goal_and_full_keeps_all():
    docs = load(RESULTS)
    full, headline = render(docs, "full"), render(docs, "headline")
    assert all(f"`{doc['command']}`" in full for _, doc in docs)
    assert "| report |" in full and "| report |" not in headline


def test_run_smoke_result_records_its_command_and_fails_a_failed_run():
    phases = [{"name": "pretrain", "status": "complete", "seconds": 10.0},
              {"name": "integrate", "status": "failed", "seconds": 2.0}]
    doc = result({"wall_seconds": 12.5, "error": "boom", "runner": "kfp.local", "phases": phases}, 13.0,
                 "python -m benchmarks.run_smoke", False)
    assert doc["command"] == "python -m benchmarks.run_smoke" and doc["rows"][0]["astrobio"] == 12.5
    assert doc["rows"][0]["met"] is False and "FAILED" in doc["rows"][0]["note"]


def test_run_smoke_reports_the_llm_gain_over_its_base_and_can_say_no():
    def run(tuned: float, base: float) -> dict:
        metrics = {"test_num_acc": tuned, "baseline_base_test_num_acc": base, "test_num_questions": 128.0}
        return {"wall_seconds": 1.0, "error": None, "runner": "kfp.local",
                "phases": [{"name": "llm_guided", "status": "complete", "seconds": 1.0,
                            "components": {"llm": {"metrics": metrics}}}]}
    good, bad = llm_row(run(0.211, 0.047)), llm_row(run(0.172, 0.047))
    assert good is not None and good.met is True and good.astrobio == 0.164 and "128 test questions" in good.note
    assert bad is not None and bad.met is False
    assert judge(good) is True and judge(bad) is False  # the goal text says the same as the verdict
    doc = result(run(0.211, 0.047), 1.0, "python -m benchmarks.run_smoke", False)
    assert [r["name"] for r in doc["rows"]][1] == good.name
