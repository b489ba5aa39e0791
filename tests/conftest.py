"""Options every test run accepts, wherever pytest starts from.

`--faults-report` belongs to the fault suite (tests/faults/conftest.py), but pytest reads options
only from the conftest files it loads before parsing the command line (this one, for `make test`
and CI, which run the whole tests/ folder); defined in tests/faults/ it would be refused there.
"""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--faults-report", default=None, metavar="PATH",
                     help="write the fault table as JSON to PATH (e.g. benchmarks/results/faults.json)")
