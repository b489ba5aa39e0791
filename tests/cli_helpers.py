"""Run the real `astrobio` CLI in a subprocess, as a user would, and capture what it prints."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SMOKE = ROOT / "configs" / "smoke.yaml"


def fresh_python_env(*, with_root: bool = False, drop: tuple[str, ...] = (), **extra: str) -> dict[str, str]:
    """This process's environment for a child interpreter that imports the checkout's `src/` first
    (then, `with_root`, the checkout itself, for `tests.` and `benchmarks.` modules; then the caller's
    PYTHONPATH), less the variables `drop`, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if k not in drop}
    paths = [str(ROOT / "src"), *([str(ROOT)] if with_root else []), os.environ.get("PYTHONPATH", "")]
    env["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
    env.update(extra)
    return env


def run_cli(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
            timeout: float = 300) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    return subprocess.run([sys.executable, "-m", "astrobio", *args], cwd=cwd or ROOT, env=full_env,
                          capture_output=True, text=True, timeout=timeout)


def assert_one_line_error(proc: subprocess.CompletedProcess[str], code: int, *needles: str) -> str:
    """Exit `code`, exactly one stderr line starting 'error:', containing every needle, no traceback."""
    assert proc.returncode == code, (proc.returncode, proc.stderr[-2000:])
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error:")]
    assert len(errors) == 1, proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    for needle in needles:
        assert needle in errors[0], (needle, errors[0])
    return errors[0]
