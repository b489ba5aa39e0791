"""Disk full while writing a checkpoint: one clear error line naming the path, the previous
checkpoint intact, no temp files left, and a rerun with space resumes.

Done on a real 1 MiB tmpfs (filled by the run itself) when this process may mount one (root), and
always with ENOSPC injected into the checkpoint's own file write.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from astrobio.trainer.checkpoint import list_checkpoints, verify
from tests.cli_helpers import assert_one_line_error
from tests.faults.driver import resumed_step, run_driver

ARGS = ("--every", "10", "--log-every", "1000", "--eval-every", "1000")


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path | None]:
    """A 1 MiB tmpfs, or None where mounting is not permitted."""
    mnt = tmp_path / "tmpfs"
    mnt.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        yield None
        return
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mnt)], capture_output=True, text=True)
    if done.returncode != 0:
        yield None
        return
    try:
        yield mnt
    finally:
        subprocess.run(["umount", str(mnt)], check=True)


def check_disk_full(out: Path, proc: subprocess.CompletedProcess[str]) -> None:
    line = assert_one_line_error(proc, 1, "no space left on device", str(out / "checkpoints" / "step-00000020"))
    assert "checkpoints are kept" in line
    kept = list_checkpoints(out / "checkpoints")
    assert [p.name for p in kept] == ["step-00000010"]
    verify(kept[0])
    leftovers = [p.name for p in (out / "checkpoints").iterdir() if p.name.startswith(".")]
    leftovers += [p.name for p in out.rglob("*.tmp*")]
    assert not leftovers, leftovers


def test_disk_full_during_checkpoint(tmp_path, small_disk, fault_table):
    kinds: list[str] = []
    if small_disk is not None:
        out, filler = small_disk / "out", small_disk / "filler"
        proc = run_driver(out, 30, *ARGS, "--fill-disk-at-step", "20", str(filler))
        check_disk_full(out, proc)
        filler.unlink()
        again = run_driver(out, 30, *ARGS)
        assert again.returncode == 0 and resumed_step(again.stderr) == 10, again.stderr[-2000:]
        kinds.append("real 1 MiB tmpfs filled to ENOSPC")
    out = tmp_path / "injected"
    proc = run_driver(out, 30, *ARGS, "--enospc-at-step", "20")
    check_disk_full(out, proc)
    again = run_driver(out, 30, *ARGS)
    assert again.returncode == 0 and resumed_step(again.stderr) == 10, again.stderr[-2000:]
    kinds.append("ENOSPC injected mid state.pt")
    note = "" if small_disk is not None else " (tmpfs mount not permitted here: injection only)"
    fault_table.record(
        "disk full while writing a checkpoint", trials=len(kinds), survived=len(kinds),
        data_lost=0, detail=f"{'; '.join(kinds)}{note}: exit 1, one 'error: no space left on device writing <ckpt>' line, "
                            f"no traceback, step-10 intact + verifies, no temp files; rerun resumed at step 10")
