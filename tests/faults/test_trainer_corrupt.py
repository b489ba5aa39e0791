"""A corrupt, truncated or unverifiable newest checkpoint is skipped with a warning naming the file,
and training resumes from the previous one, ending where an uninterrupted run ends."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from astrobio.trainer import Preempted, StopFlag, TrainingRun, train
from astrobio.trainer.checkpoint import META_FILE, MODEL_FILE, STATE_FILE, list_checkpoints, load_weights
from astrobio.trainer.distributed import DistEnv
from tests.toy_component import SPEC, ToyConfig


def job(out: Path) -> TrainingRun:
    cfg = ToyConfig.model_validate({"trainer": {"max_steps": 40, "eval_every": 10, "log_every": 10,
                                                "checkpoint": {"every": 10, "keep_last": 3}}, "optim": {"lr": 0.01}})
    return TrainingRun(spec=SPEC, cfg=cfg, seed=3, output_dir=out, run_id="t", config_hash="h")


def garbage(ckpt: Path) -> Path:
    (ckpt / MODEL_FILE).write_bytes(b"garbage")
    return ckpt / MODEL_FILE


def truncated(ckpt: Path) -> Path:
    data = (ckpt / STATE_FILE).read_bytes()
    (ckpt / STATE_FILE).write_bytes(data[: len(data) // 2])
    return ckpt / STATE_FILE


def meta_deleted(ckpt: Path) -> Path:
    (ckpt / META_FILE).unlink()
    return ckpt / META_FILE


def checksum_missing(ckpt: Path) -> Path:
    meta = json.loads((ckpt / META_FILE).read_text())
    del meta["files"][MODEL_FILE]
    (ckpt / META_FILE).write_text(json.dumps(meta))
    return ckpt / MODEL_FILE


KINDS: dict[str, Callable[[Path], Path]] = {"garbage weights": garbage, "truncated state.pt": truncated,
                                            "meta.json deleted": meta_deleted, "checksum field missing": checksum_missing}


def test_bad_newest_checkpoint_is_skipped_with_warning(tmp_path, fault_table):
    train(job(tmp_path / "ref"), DistEnv(), StopFlag())
    reference = load_weights(tmp_path / "ref" / "artifact" / MODEL_FILE)
    survived = 0
    for kind, corrupt in KINDS.items():
        out = tmp_path / kind.replace(" ", "-")
        with pytest.raises(Preempted):
            train(job(out), DistEnv(), StopFlag(at_step=30))
        newest = list_checkpoints(out / "checkpoints")[0]
        assert newest.name == "step-00000030"
        named = corrupt(newest)
        result = train(job(out), DistEnv(), StopFlag())
        assert result.resumed_from == 20, kind
        warned = [w for w in result.warnings if "skipping checkpoint step-00000030" in w]
        assert len(warned) == 1 and str(named) in warned[0], (kind, result.warnings)
        final = load_weights(out / "artifact" / MODEL_FILE)
        assert all(torch.equal(final[k], reference[k]) for k in reference), kind
        survived += 1
    fault_table.record(
        "corrupt/truncated newest checkpoint, missing checksum", trials=len(KINDS), survived=survived, data_lost=0,
        detail=f"{', '.join(KINDS)}: each warned naming the file, resumed from step 20 (previous), "
               f"final weights bit-identical to an uninterrupted run")
