"""A fast stand-in for `astrobio train` in pipeline tests (plugged in via ASTROBIO_TRAIN_COMMAND).

It publishes a tiny artifact with a metrics.json at the prefix the real command would use, and
fails on demand (FAKE_TRAIN_FAIL=<component>[,<component>...]), so the wiring is tested without training.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from astrobio.config import load_config
from astrobio.catalog import phase_of_component
from astrobio.store import artifact_prefix, open_store, publish_dir


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--component", required=True)
    parser.add_argument("--config", required=True)
    args = parser.parse_args(argv)
    if args.component in os.environ.get("FAKE_TRAIN_FAIL", "").split(","):
        print(f"fake training of {args.component} failed on purpose", file=sys.stderr)
        return 3
    cfg = load_config(Path(args.config))
    store = open_store(cfg.store.uri, os.environ)
    prefix = artifact_prefix(cfg.run.effective_run_id, phase_of_component(args.component).name, args.component)
    with tempfile.TemporaryDirectory() as tmp:
        metrics = {"val_auc": 0.9, "baseline_cn_val_auc": 0.7, "test_auc": 0.88}
        Path(tmp, "metrics.json").write_text(json.dumps(metrics), encoding="utf-8")
        Path(tmp, "weights.txt").write_text(args.component, encoding="utf-8")
        publish_dir(store, Path(tmp), prefix)
    print("val_auc=0.9")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
