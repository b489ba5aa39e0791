"""Disk full while writing a checkpoint: one clear error line naming the path, the previous
checkpoint intact, no temp files left, and a rerun with space resumes.

Done on a real 1 MiB tmpfs (filled by the run itself) when this process may mount one (root), and
always with ENOSPC injected into the checkpoint's own file write. In CI (`CI=true`, run as root)
the real filesystem is required: a tmpfs that cannot be mounted fails the test instead of
falling back to injection alone.
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
    """A 1 MiB tmpfs, or None where mounting is not permitted (outside CI only)."""
    mnt = tmp_path / "tmpfs"
    mnt.mkdir()
    why = None
    if os.geteuid() != 0 or shutil.which("mount") is None:
        why = "not root or no mount(8)"
    else:
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mnt)],
                              capture_output=True, text=True)
        why = f"mount -t tmpfs failed: {done.stderr.strip()}" if done.returncode else None
    if why is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must test disk-full on a real filesystem, and a 1 MiB tmpfs cannot be mounted ({why})")
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
    cases = [("ENOSPC injected mid state.pt", tmp_path / "injected", ("--enospc-at-step", "20"), None)]
    if small_disk is not None:
        filler = small_disk / "filler"
        cases.insert(0, ("real 1 MiB tmpfs filled to ENOSPC", small_disk / "out",
                         ("--fill-disk-at-step", "20", str(filler)), filler))
    outcomes: dict[str, str | None] = {}
    for kind, out, fault, to_free in cases:
        outcomes[kind] = survive_disk_full(out, fault, to_free)
    kinds = list(outcomes)
    note = "" if small_disk is not None else " (tmpfs mount not permitted here: injection only)"
    failed = {k: why for k, why in outcomes.items() if why}
    fault_table.record(
        "disk full while writing a checkpoint", trials=len(kinds), survived=len(kinds) - len(failed),
        data_lost=0, detail=f"{'; '.join(kinds)}{note}: exit 1, one 'error: no space left on device writing <ckpt>' line, "
                            f"no traceback, step-10 intact + verifies, no temp files; rerun resumed at step 10")
    assert not failed, failed


def survive_disk_full(out: Path, fault: tuple[str, ...], to_free: Path | None) -> str | None:
    """Run into the full disk, check the damage, free the space, rerun: None, or what went wrong."""
    try:
        check_disk_full(out, run_driver(out, 30, *ARGS, *fault))
        if to_free is not None:
            to_free.unlink()
        again = run_driver(out, 30, *ARGS)
        assert again.returncode == 0 and resumed_step(again.stderr) == 10, again.stderr[-2000:]
    except AssertionError as exc:
        return str(exc)[:300]
    return None
