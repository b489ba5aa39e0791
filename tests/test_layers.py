"""The package's layers and its torch-free core, as declared in pyproject.toml `[tool.importlinter]`.

`lint-imports` (import-linter, a dev dependency) builds the import graph of `src/astrobio` and checks
every contract: no module imports from a layer above its own, and the catalog, the config and the
components' config/metrics modules reach no `torch` import, directly or through another module. Run
here so `make test` and CI enforce it; the output names each offending import and its line.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_hold() -> None:
    lint = Path(sys.executable).parent / "lint-imports"
    assert lint.is_file(), f"{lint} is missing: install the dev extra (pip install -e '.[dev]')"
    done = subprocess.run([str(lint), "--config", str(ROOT / "pyproject.toml"), "--no-cache"], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout
