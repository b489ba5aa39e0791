"""benchmarks/callgrind.py counts the marked window, per thread, and refuses a run whose markers
did not fire once; bench_instructions turns the counts into rows judged like every goal.

The programs under callgrind here import no torch (a bare interpreter starts in ~1 s under it).
Without valgrind these tests skip, except in CI (.ci/run sets ASTROBIO_REQUIRE_VALGRIND=1 and
installs it), where a missing valgrind fails them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.bench_instructions import rows_for
from benchmarks.callgrind import callgrind_argv, read_dump, read_window

ROOT = Path(__file__).resolve().parents[2]

WORK = """
import sys, threading
from benchmarks.callgrind import window_close, window_open

def work(n):
    total = 0
    for i in range(n):
        total += i * i
    return total

mode, n = sys.argv[1], int(sys.argv[2])
ready, go = threading.Event(), threading.Event()

def helper():
    work(4 * n)  # before the window: not counted
    ready.set()
    go.wait()
    work(n)      # inside it: counted

early = threading.Thread(target=helper)
if mode == "early":
    early.start()
    ready.wait()
work(20000)  # outside the window: never counted
if mode not in ("unmarked", "close_only"):
    window_open()
if mode == "open_twice":
    window_open()
if mode != "unmarked":
    work(n)
    if mode == "thread":
        t = threading.Thread(target=work, args=(4 * n,))
        t.start()
        t.join()
    if mode == "early":
        go.set()
        early.join()
    if mode != "open_twice":
        window_close()
if mode == "twice":
    window_open()
    work(n)
    window_close()
"""


def needs_valgrind() -> None:
    if shutil.which("valgrind") is None:
        if os.environ.get("ASTROBIO_REQUIRE_VALGRIND") == "1":
            pytest.fail("valgrind is required here (ASTROBIO_REQUIRE_VALGRIND=1) and not installed")
        pytest.skip("valgrind is not installed (Debian: apt-get install valgrind)")


def counted(tmp_path: Path, mode: str, n: int, per_thread: bool = False) -> Path:
    """Run WORK under callgrind; the out-file prefix to read the window from."""
    needs_valgrind()
    out = tmp_path / f"{mode}-{n}-{per_thread}"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONHASHSEED": "0"}
    argv = callgrind_argv(out, [sys.executable, "-c", WORK, mode, str(n)], per_thread)
    done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return out


def test_the_window_counts_the_work_inside_it_and_nothing_before(tmp_path: Path) -> None:
    small = read_window(counted(tmp_path, "plain", 10000), per_thread=False)
    large = read_window(counted(tmp_path, "plain", 30000), per_thread=False)
    # three times the loop inside the window, about three times the instructions (the 20000
    # iterations before the window would push the small run's count far above a third)
    assert 2.8 < large / small < 3.2


def test_every_thread_or_the_main_thread_alone(tmp_path: Path) -> None:
    plain = read_window(counted(tmp_path, "plain", 10000), per_thread=False)
    every = read_window(counted(tmp_path, "thread", 10000), per_thread=False)
    main = read_window(counted(tmp_path, "thread", 10000, per_thread=True), per_thread=True)
    # the thread ran 4x the main thread's loop and ended inside the window: counted with every thread
    assert 4.5 < every / plain < 5.5
    assert 0.9 < main / plain < 1.2  # the main thread alone: its own loop, starting and joining the thread
    with pytest.raises(RuntimeError, match="no main-thread file"):
        read_window(tmp_path / "thread-10000-False", per_thread=True)


def test_a_helper_threads_work_before_the_window_is_not_counted(tmp_path: Path) -> None:
    plain = read_window(counted(tmp_path, "plain", 10000), per_thread=False)
    early = read_window(counted(tmp_path, "early", 10000), per_thread=False)
    # inside the window: the main thread's loop and the helper's second one (its first, 4x as long,
    # ran before the window opened)
    assert 1.8 < early / plain < 2.4


@pytest.mark.parametrize("mode", ["unmarked", "twice", "close_only", "open_twice"])
def test_markers_that_did_not_fire_once_each_in_order_are_refused(tmp_path: Path, mode: str) -> None:
    out = counted(tmp_path, mode, 1000)  # open_twice: two dumps, as a good run has, both opening ones
    with pytest.raises(RuntimeError, match="expected two callgrind dumps"):
        read_window(out, per_thread=False)


def test_a_file_without_counts_is_named(tmp_path: Path) -> None:
    bad = tmp_path / "cg.1.1-01"
    bad.write_text("version: 1\ncmd: python\n")
    with pytest.raises(RuntimeError, match="cg.1.1-01: no 'summary:'"):
        read_dump(bad)


def variant(steps: int, instructions: int) -> dict[str, int]:
    return {"steps": steps, "instructions": instructions}


def test_rows_judge_the_per_step_ratio_against_the_goal() -> None:
    found = {"trainer_raw": variant(50, 100_000_000), "trainer_astrobio": variant(50, 103_000_000),  # 1.03 > 1.02
             "save_none": variant(20, 400_000_000), "save_async": variant(20, 416_000_000)}       # 1.04 <= 1.05
    trainer, save = rows_for(found, quick=False, save_every=10)
    assert trainer.astrobio == pytest.approx(103 / 50) and trainer.peer == pytest.approx(2.0)
    assert trainer.ratio == pytest.approx(1.03) and trainer.met is False and trainer.goal == "<= 1.02"
    assert save.ratio == pytest.approx(1.04) and save.met is True and save.unit == "M instr"
    assert save.name == "train step, async save every 10 (training thread)"
