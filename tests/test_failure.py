"""A failing rank leaves its error and log tail in the store (pods and their logs get deleted)."""

from __future__ import annotations

import json
import sys

from astrobio.failure import capture_tail, save_failure
from astrobio.store import LocalStore


def test_failure_report_keeps_error_and_tail(tmp_path):
    store = LocalStore(tmp_path)
    with capture_tail(lines=3) as tail:
        for i in range(5):
            print(f"line {i}")
        print("to stderr", file=sys.stderr)
        try:
            raise RuntimeError("rank exploded at step 7")
        except RuntimeError as exc:
            key = save_failure(store, "runs/r/pretrain/graph_vae", 1, exc, list(tail))
    assert key == "runs/r/pretrain/graph_vae/failures/rank-1.json"
    record = json.loads(store.get_bytes(key))
    assert record["rank"] == 1 and record["error"] == "rank exploded at step 7"
    assert record["log_tail"] == ["line 3", "line 4", "to stderr"]
    assert any("RuntimeError" in line for line in record["traceback"])


def test_store_failure_does_not_mask_the_error(tmp_path, capsys):
    class Broken(LocalStore):
        def _put_bytes(self, key, data):
            raise OSError("disk full")

    save_failure(Broken(tmp_path), "runs/r/p/c", 0, ValueError("original"), [])
    assert "could not save the failure report" in capsys.readouterr().err


def test_dead_rank_is_the_signalled_one_not_the_first_listed():
    from astrobio.trainer.distributed import RankExit, first_failure

    rank0 = RankExit(rank=0, local_rank=0, pid=10, exitcode=1, timestamp=100)   # its collective broke
    rank1 = RankExit(rank=1, local_rank=1, pid=11, exitcode=-9, timestamp=100)  # OOM-killed
    assert first_failure([rank0, rank1]) is rank1
    assert rank1.describe() == "was killed by SIGKILL" and rank0.describe() == "exited with code 1"
    stopped = RankExit(rank=1, local_rank=1, pid=11, exitcode=-15, timestamp=99)  # SIGTERM: sent by the launcher
    assert first_failure([rank0, stopped]) is stopped  # no rank died of a signal: earliest wins
    assert first_failure([RankExit(0, 0, 10, 1, 101), stopped]) is stopped


def test_launcher_report_names_the_dead_rank(tmp_path):
    from astrobio.failure import save_launch_failure
    from astrobio.trainer.distributed import RankExit

    store = LocalStore(tmp_path)
    dead = RankExit(rank=1, local_rank=1, pid=11, exitcode=-9, timestamp=100)
    key = save_launch_failure(store, "runs/r/pretrain/graph_vae", [RankExit(0, 0, 10, 1, 100), dead], dead)
    assert key == "runs/r/pretrain/graph_vae/failures/launcher.json"
    record = json.loads(store.get_bytes(key))
    assert record["dead_rank"] == 1 and "rank 1 (local_rank 1, pid 11) was killed by SIGKILL" == record["cause"]
    assert [r["signal"] for r in record["ranks"]] == [None, "SIGKILL"]
