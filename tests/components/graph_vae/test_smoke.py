"""The asserted comparison of the spine issue: on configs/smoke.yaml the Graph VAE beats common
neighbours and Adamic-Adar on held-out edges of iJO1366, in AUC and in AP, through the one trainer."""

from __future__ import annotations

from pathlib import Path

from astrobio.config import config_hash, load_config
from astrobio.catalog import get_spec
from astrobio.trainer import StopFlag, TrainingRun, train
from astrobio.trainer.distributed import DistEnv

SMOKE = Path(__file__).resolve().parents[3] / "configs" / "smoke.yaml"


def test_smoke_config_beats_common_neighbours_and_adamic_adar(tmp_path):
    cfg = load_config(SMOKE)
    section = cfg.component("graph_vae")
    assert section.data.sources == ["iJO1366"]  # the textbook network is too small to compare on
    job = TrainingRun(spec=get_spec("graph_vae"), cfg=section, seed=cfg.run.seed, output_dir=tmp_path,
                   run_id="smoke-test", config_hash=config_hash(section))
    metrics = train(job, DistEnv(), StopFlag()).metrics
    for metric in ("auc", "ap"):
        model = metrics[f"test_{metric}"]
        for baseline in ("cn", "aa"):
            assert model > metrics[f"baseline_{baseline}_test_{metric}"] + 0.02, (metric, baseline, metrics)
