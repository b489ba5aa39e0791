"""The fault suite's table: every fault test records what it measured, and the table can say no.

A test takes the `fault_table` fixture and calls `fault_table.record(fault, trials=..., survived=...,
data_lost=..., detail=...)` with what it measured, before its asserts. At the end of the session the
rows are settled against `table.EXPECTED` and each test's outcome: a failed test's rows carry its
failure, an expected row that was never written (test failed early, skipped, or forgot) is a
missing row, and any of these sets `all_survived: false` and fails the session even when pytest
itself saw every test pass. With `--faults-report PATH` (`make faults`, CI) the table is written as
JSON, whatever the verdict.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest

from tests.faults.table import FaultRow, FaultTable, all_survived, machine_info, render, write_report

_TABLE = FaultTable()
_OUTCOMES: dict[str, str | None] = {}
_SETTLED: list[FaultRow] = []


def key(item: pytest.Item) -> str:
    """`<file>::<test>[params]` relative to tests/faults/ (the keys of table.EXPECTED)."""
    return item.nodeid.replace("\\", "/").split("tests/faults/", 1)[-1]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/faults/" in item.nodeid.replace("\\", "/"):
            item.add_marker(pytest.mark.faults)


def pytest_runtest_setup(item: pytest.Item) -> None:
    _TABLE.current_test = key(item)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Outcome of every fault test that started (deselected tests are not expected to record)."""
    if "tests/faults/" not in report.nodeid.replace("\\", "/"):
        return
    name = report.nodeid.replace("\\", "/").split("tests/faults/", 1)[-1]
    _OUTCOMES.setdefault(name, None)
    if report.failed:
        last = str(report.longrepr).strip().splitlines()[-1:] or [""]
        _OUTCOMES[name] = f"test failed ({report.when}): {last[0][:300]}"
    elif report.skipped and _OUTCOMES[name] is None:
        _OUTCOMES[name] = f"test skipped: {str(report.longrepr)[:300]}"


@pytest.fixture
def fault_table() -> Iterator[FaultTable]:
    yield _TABLE


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Settle the rows; a table that is not all survived fails the session (exit 1)."""
    if not _OUTCOMES or session.config.option.collectonly:
        return
    _SETTLED[:] = _TABLE.settle(_OUTCOMES)
    path = session.config.getoption("--faults-report", default=None)
    if not _SETTLED and not path:
        return  # only tests that record no row ran (e.g. the table's own unit tests)
    if path:
        write_report(path, _SETTLED, machine_info(), ["pytest", *sys.argv[1:]])
    if not all_survived(_SETTLED) and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:  # noqa: ANN001
    if not _SETTLED:
        return
    terminalreporter.write_sep("=", "fault suite")
    terminalreporter.write_line(render(_SETTLED))
    verdict = "all survived" if all_survived(_SETTLED) else "NOT all survived"
    terminalreporter.write_line(f"fault table: {verdict}")
    path = config.getoption("--faults-report", default=None)
    if path:
        terminalreporter.write_line(f"fault table written to {path}")
