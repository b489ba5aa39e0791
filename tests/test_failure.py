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
