"""The end of a run: final evaluation (on the best/ weights under early stopping), the artifact
folder, and its publication to the store. Nothing non-finite is ever written as the artifact."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import torch

from astrobio.config.load import to_yaml
from astrobio.spec import TrainData
from astrobio.trainer.card import build_card, package_versions, render_card_markdown
from astrobio.trainer.atomic import write_text_atomic
from astrobio.trainer.checkpoint import MODEL_FILE, load_weights, save_weights
from astrobio.trainer.training_run import TrainingRun, TrainResult
from astrobio.trainer.nonfinite import require_finite
from astrobio.trainer.saving import disk_full_is_a_failure
from astrobio.trainer.session import Session
from astrobio.trainer.state import TrainState


def finish(s: Session) -> TrainResult:
    """Rank 0 evaluates on val and test, writes and publishes the artifact; other ranks just close."""
    state = s.state
    if not s.env.is_main:
        s.sink.close()
        return TrainResult(state.step, {}, s.out / "artifact", None, s.resumed_from, state.stopped_early, s.warnings)
    best = s.out / "best" / MODEL_FILE
    if s.tcfg.early_stopping.metric is not None and best.is_file():
        s.model.load_state_dict(load_weights(best))
    final = {**s.spec.evaluate(s.model, s.data, "val"), **s.spec.evaluate(s.model, s.data, "test")}
    s.sink.log(state.step, final)
    s.sink.close()
    require_finite(s.model, s.spec.name, state.step, "the artifact")
    with disk_full_is_a_failure(s.out / "artifact"):
        artifact = write_artifact(s.job, s.model, s.data, final, state, s.init_report.to_dict() if s.init_report else None)
    uri = s.job.publish(artifact) if s.job.publish else None
    return TrainResult(state.step, final, artifact, uri, s.resumed_from, state.stopped_early, s.warnings)


def write_artifact(job: TrainingRun, model: torch.nn.Module, data_obj: TrainData, metrics: dict[str, float],
                   state: TrainState, init_from: dict[str, Any] | None) -> Path:
    """The folder that gets published: weights, config, metrics, model card."""
    folder = job.output_dir / "artifact"
    folder.mkdir(parents=True, exist_ok=True)
    save_weights(folder / MODEL_FILE, model.state_dict(), metadata={"component": job.spec.name})
    write_text_atomic(folder / "config.yaml", to_yaml(job.cfg))
    clean = {k: (v if math.isfinite(v) else str(v)) for k, v in metrics.items()}
    write_text_atomic(folder / "metrics.json", json.dumps(clean, indent=2))
    card = build_card(component=job.spec.name, phase=job.spec.phase, description=job.spec.description,
                      run_id=job.run_id, config_hash=job.config_hash, config=job.cfg.model_dump(mode="json"),
                      data=data_obj.describe(), metrics=metrics, step=state.step, best_step=state.best_step,
                      init_from=init_from, versions=package_versions())
    write_text_atomic(folder / "model_card.json", json.dumps(card, indent=2, default=str))
    write_text_atomic(folder / "model_card.md", render_card_markdown(card))
    if job.spec.export_artifact is not None:
        job.spec.export_artifact(model, data_obj, folder)
    if job.spec.figure_data is not None:
        job.spec.figure_data(model, data_obj, folder)
    history = job.output_dir / "metrics.jsonl"
    if history.is_file():  # the training curves travel with the artifact (the report reads them from the store)
        write_text_atomic(folder / "metrics.jsonl", history.read_text(encoding="utf-8"))
    return folder
