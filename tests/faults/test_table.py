"""The fault table says no: a failed test's rows, a missing row and an unexpected row all make
`all_survived` false, and the report spells out why (tests/faults/table.py, conftest.py)."""

from __future__ import annotations

import json

from tests.faults.table import EXPECTED, FaultTable, all_survived, write_report

TEST = "test_trainer_nan.py::test_nan_and_inf_under_each_policy"
ROW = EXPECTED[TEST][0]


def table_with(fault: str, survived: int = 4, test: str = TEST) -> FaultTable:
    table = FaultTable(current_test=test)
    table.record(fault, trials=4, survived=survived, data_lost=0, detail="measured")
    return table


def test_a_passing_test_with_its_row_survives():
    rows = table_with(ROW).settle({TEST: None})
    assert all_survived(rows) and rows[0].test == TEST and rows[0].failure is None


def test_a_failed_test_marks_its_recorded_row_failed():
    rows = table_with(ROW).settle({TEST: "test failed (call): AssertionError"})
    assert not all_survived(rows) and rows[0].failure == "test failed (call): AssertionError"


def test_a_row_never_recorded_is_missing_even_when_pytest_passed():
    rows = FaultTable().settle({TEST: None})
    assert not all_survived(rows)
    assert rows == [rows[0]] and rows[0].fault == ROW and rows[0].trials == 0
    assert rows[0].failure == "missing: test passed but never recorded this row"


def test_fewer_survivors_or_an_unexpected_row_fail_the_table():
    assert not all_survived(table_with(ROW, survived=3).settle({TEST: None}))
    rows = table_with("a row nobody expects").settle({TEST: None})
    assert any(r.failure and r.failure.startswith("unexpected row") for r in rows)
    assert not all_survived([]), "an empty table proves nothing"


def test_report_names_command_verdict_and_failures(tmp_path):
    rows = FaultTable().settle({TEST: "test skipped: no tmpfs"})
    write_report(tmp_path / "faults.json", rows, {"cpu": "x"}, ["pytest", "tests/faults"])
    doc = json.loads((tmp_path / "faults.json").read_text())
    assert doc["all_survived"] is False and doc["command"] == ["pytest", "tests/faults"]
    assert doc["failures"] == [{"fault": ROW, "test": TEST, "failure": "missing: test skipped: no tmpfs"}]
