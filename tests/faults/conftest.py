"""The fault suite's table: every fault test records what it did and what survived.

A test takes the `fault_table` fixture and calls `fault_table.record(fault, trials=..., survived=...,
data_lost=..., detail=...)` with what it measured. At the end of the session the table is printed
(fault, trials, survived, data lost) and, with `--faults-report PATH` (`make faults`), written as
JSON. A row is recorded only after the test's own asserts ran, so a failing test shows as missing
or as a row with survived < trials, never as a silent pass.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.faults.table import FaultTable, machine_info, write_report

_TABLE = FaultTable()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--faults-report", default=None, metavar="PATH",
                     help="write the fault table as JSON to PATH (e.g. benchmarks/results/faults.json)")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/faults/" in item.nodeid.replace("\\", "/"):
            item.add_marker(pytest.mark.faults)


@pytest.fixture
def fault_table() -> Iterator[FaultTable]:
    yield _TABLE


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:  # noqa: ANN001
    if not _TABLE.rows:
        return
    terminalreporter.write_sep("=", "fault suite")
    terminalreporter.write_line(_TABLE.render())
    path = config.getoption("--faults-report", default=None)
    if path:
        write_report(path, _TABLE, machine_info())
        terminalreporter.write_line(f"fault table written to {path}")
