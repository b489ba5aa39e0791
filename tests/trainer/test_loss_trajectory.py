"""Pinned loss trajectories of the one trainer: a refactor of the loop cannot change numerics unseen.

Each case trains a small config on CPU with a fixed seed and compares the per-step `train_loss`
(log_every=1, read back from metrics.jsonl), the learning rate and the final metrics with literals
recorded from the trainer as it was before the loop was restructured (issue #17, item 4). The cases
cover the paths the loop takes: plain steps with dropout and clipping (toy), gradient accumulation,
the NaN policy (reduce_lr: a skipped step and the scaled schedule), a real component whose
evaluation trains its baselines (fusion), the `on_step_end` hook (galactic's federated averaging),
and a preempted run resumed from its checkpoint, which must continue the very same trajectory.

Everything here is deterministic on one CPU thread; the tolerance (rel 1e-6) only absorbs the
float32 rounding a different CPU's kernels may produce, far below what any change of the step
order, the RNG stream or the data position moves.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
import torch

from astrobio.components.fusion.task import SPEC as FUSION
from astrobio.components.galactic.task import SPEC as GALACTIC
from astrobio.trainer import Preempted, StopFlag, TrainingRun, train
from astrobio.trainer.distributed import DistEnv
from tests.components.fusion.helpers import link_cache, planet_cache
from tests.components.fusion.helpers import make_cfg as fusion_cfg
from tests.components.galactic.helpers import make_cfg as galactic_cfg
from tests.toy_component import SPEC as TOY
from tests.toy_component import ToyConfig

REL = 1e-6


def toy_job(out: Path, **trainer: Any) -> TrainingRun:
    settings = {"max_steps": 16, "eval_every": 4, "log_every": 1, "checkpoint": {"every": 4, "keep_last": 2}, **trainer}
    cfg = ToyConfig.model_validate({"trainer": settings, "optim": {"lr": 0.01, "scheduler": "cosine", "warmup_steps": 2}})
    return TrainingRun(spec=TOY, cfg=cfg, seed=3, output_dir=out, run_id="t", config_hash="h")


def trajectory(out: Path, key: str = "train_loss") -> list[float]:
    """`key` at every logged step, in step order (a non-finite value is logged as its string)."""
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    return [float(r[key]) for r in rows if key in r]


def assert_pinned(got: list[float], want: list[float]) -> None:
    assert len(got) == len(want), got
    for step, (g, w) in enumerate(zip(got, want), start=1):
        assert (math.isnan(g) and math.isnan(w)) or g == pytest.approx(w, rel=REL), (step, got)


# Recorded from the trainer before the loop was restructured (commit 'pin loss trajectories').
TOY_LOSS: list[float] = [8.403585433959961, 9.467819213867188, 15.729085922241211, 12.050132751464844, 10.269274711608887, 3.997450828552246, 9.15896987915039, 13.484089851379395, 8.31974983215332, 9.272276878356934, 12.065351486206055, 4.944363117218018, 8.14683723449707, 5.733025550842285, 8.184253692626953, 8.138587951660156]
TOY_LR: list[float] = [0.01, 0.01, 0.009874639560909117, 0.009504844339512096, 0.008909157412340149, 0.008117449009293669, 0.007169418695587791, 0.006112604669781572, 0.005, 0.003887395330218428, 0.00283058130441221, 0.0018825509907063327, 0.001090842587659851, 0.0004951556604879049, 0.0001253604390908819, 0.0]
TOY_TEST_MSE = 5.418133735656738
ACCUM_LOSS: list[float] = [9.065450668334961, 14.799201011657715, 7.839056968688965, 13.280817985534668, 10.410865783691406, 10.155878067016602, 8.262027740478516, 9.18843936920166, 7.957773208618164, 8.138801574707031, 7.581323623657227, 7.667369842529297, 7.564002990722656, 7.323426723480225, 8.1474609375, 6.259224891662598]
REDUCE_LR_LOSS: list[float] = [8.403585433959961, 9.467819213867188, 15.729085922241211, 12.050132751464844, math.nan, 4.226837635040283, 9.847620010375977, 14.799467086791992, 9.313016891479492, 10.640275001525879, 13.90893840789795, 5.870460510253906, 9.706133842468262, 6.962035655975342, 9.897040367126465, 9.51332950592041]
REDUCE_LR_LR: list[float] = [0.01, 0.01, 0.009874639560909117, 0.009504844339512096, 0.0044545787061700745, 0.004058724504646834, 0.0035847093477938954, 0.003056302334890786, 0.0025, 0.001943697665109214, 0.001415290652206105, 0.0009412754953531664, 0.0005454212938299255, 0.00024757783024395244, 6.268021954544095e-05, 0.0]
EARLY_LOSS: list[float] = [8.403585433959961, 9.467819213867188, 15.729085922241211, 12.050132751464844, 10.269274711608887, 3.997450828552246, 9.15896987915039, 13.484089851379395, 8.31974983215332, 9.272276878356934, 12.065351486206055, 4.944363117218018]
EARLY_STOP = (12, 5.755202293395996)
FUSION_LOSS: list[float] = [1.440576195716858, 1.4782356023788452, 1.3220412731170654, 1.313488483428955, 1.3810909986495972, 1.2351471185684204, 1.2436479330062866, 1.3478891849517822, 1.2036292552947998, 1.2141985893249512, 1.1633762121200562, 1.0992467403411865]
FUSION_FINAL: dict[str, float] = {
    'val_accuracy': 0.5333333611488342,
    'val_loss': 1.099973201751709,
    'val_wet_accuracy': 0.6666666865348816,
    'val_ch4_accuracy': 0.800000011920929,
    'baseline_majority_val_accuracy': 0.20000000298023224,
    'baseline_single_climate_val_accuracy': 0.2666666805744171,
    'baseline_single_spectrum_val_accuracy': 0.46666666865348816,
    'baseline_single_scm_val_accuracy': 0.3333333432674408,
    'baseline_single_network_val_accuracy': 0.20000000298023224,
    'baseline_best_single_val_accuracy': 0.46666666865348816,
    'test_accuracy': 0.46666666865348816,
    'test_loss': 1.1827619075775146,
    'test_wet_accuracy': 0.6000000238418579,
    'test_ch4_accuracy': 0.800000011920929,
    'baseline_majority_test_accuracy': 0.13333334028720856,
    'baseline_single_climate_test_accuracy': 0.5333333611488342,
    'baseline_single_spectrum_test_accuracy': 0.4000000059604645,
    'baseline_single_scm_test_accuracy': 0.13333334028720856,
    'baseline_single_network_test_accuracy': 0.13333334028720856,
    'baseline_best_single_test_accuracy': 0.4000000059604645,
}
BASELINE_LOGITS: list[float] = [-6.22687292098999, 8.318110466003418, 12.556892395019531, 24.395627975463867]
GALACTIC_LOSS: list[float] = [4.01191520690918, 3.9617233276367188, 4.056403160095215, 4.158878803253174, 3.7830119132995605, 3.5085196495056152, 3.7951672077178955, 3.3691771030426025, 3.2840380668640137, 3.718534469604492, 3.704583168029785, 2.8315510749816895]
GALACTIC_FINAL: dict[str, float] = {
    'val_accuracy': 0.4000000059604645,
    'val_loss': 1.3014189004898071,
    'val_worst_observatory_accuracy': 0.0,
    'val_bytes_per_round': 226176.0,
    'baseline_majority_val_accuracy': 0.20000000298023224,
    'baseline_local_val_accuracy': 0.2444444547096888,
    'baseline_central_val_accuracy': 0.4000000059604645,
    'test_accuracy': 0.2666666805744171,
    'test_loss': 1.4415230751037598,
    'test_worst_observatory_accuracy': 0.1111111119389534,
    'test_bytes_per_round': 226176.0,
    'baseline_majority_test_accuracy': 0.13333334028720856,
    'baseline_local_test_accuracy': 0.40000002086162567,
    'baseline_central_test_accuracy': 0.3333333432674408,
}


def test_toy_trajectory(tmp_path):
    result = train(toy_job(tmp_path), DistEnv(), StopFlag())
    assert_pinned(trajectory(tmp_path), TOY_LOSS)
    assert_pinned(trajectory(tmp_path, "lr"), TOY_LR)
    assert result.metrics["test_mse"] == pytest.approx(TOY_TEST_MSE, rel=REL)


def test_preempted_and_resumed_run_continues_the_same_trajectory(tmp_path):
    """Stopped after step 6 (a checkpoint is written at the stop), resumed to 16: the log of the two
    processes together is the uninterrupted trajectory."""
    with pytest.raises(Preempted):
        train(toy_job(tmp_path), DistEnv(), StopFlag(at_step=6))
    assert_pinned(trajectory(tmp_path), TOY_LOSS[:6])
    resumed = train(toy_job(tmp_path), DistEnv(), StopFlag())
    assert resumed.resumed_from == 6
    assert_pinned(trajectory(tmp_path), TOY_LOSS)
    assert resumed.metrics["test_mse"] == pytest.approx(TOY_TEST_MSE, rel=REL)


def test_gradient_accumulation_trajectory(tmp_path):
    train(toy_job(tmp_path, grad_accum=2, clip_grad_norm=0.5), DistEnv(), StopFlag())
    assert_pinned(trajectory(tmp_path), ACCUM_LOSS)


def test_nan_policy_reduce_lr_trajectory(tmp_path):
    """Step 5's loss is NaN: the step is skipped (logged as nan), every later lr is halved."""
    job = toy_job(tmp_path, nan_policy="reduce_lr", nan_lr_factor=0.5)
    job.cfg = job.cfg.model_copy(update={"nan_at_step": 5})
    result = train(job, DistEnv(), StopFlag())
    assert_pinned(trajectory(tmp_path), REDUCE_LR_LOSS)
    assert_pinned(trajectory(tmp_path, "lr"), REDUCE_LR_LR)
    assert len(result.warnings) == 1


def test_early_stopping_trajectory(tmp_path):
    """Evaluated every 2 steps, patience 1: the run stops early, and the final metrics are those of
    the best/ weights."""
    job = toy_job(tmp_path, eval_every=2, early_stopping={"metric": "val_mse", "mode": "min", "patience": 1, "min_delta": 0.5})
    result = train(job, DistEnv(), StopFlag())
    assert_pinned(trajectory(tmp_path), EARLY_LOSS)
    assert result.stopped_early
    assert (result.step, result.metrics["test_mse"]) == pytest.approx(EARLY_STOP, rel=REL)


def test_fusion_trajectory_and_baselines(tmp_path, tmp_path_factory):
    """A real component; its evaluation trains the single-modality baselines (fusion/baselines.py)."""
    out = tmp_path / "run"
    link_cache(out, planet_cache(tmp_path_factory))
    cfg = fusion_cfg(trainer={"max_steps": 12, "eval_every": 6, "log_every": 1, "checkpoint": {"every": 6}})
    result = train(TrainingRun(spec=FUSION, cfg=cfg, seed=3, output_dir=out, run_id="t", config_hash="h"),
                   DistEnv(), StopFlag())
    assert_pinned(trajectory(out), FUSION_LOSS)
    assert result.metrics.keys() == FUSION_FINAL.keys()
    for key, value in FUSION_FINAL.items():
        assert result.metrics[key] == pytest.approx(value, rel=REL), key


def test_galactic_trajectory_with_step_end_hook(tmp_path, tmp_path_factory):
    """Federated averaging runs in `on_step_end`; the baselines (local-only, centralised) train at
    the first evaluation."""
    out = tmp_path / "run"
    link_cache(out, planet_cache(tmp_path_factory))
    cfg = galactic_cfg(trainer={"log_every": 1})
    result = train(TrainingRun(spec=GALACTIC, cfg=cfg, seed=3, output_dir=out, run_id="t", config_hash="h"),
                   DistEnv(), StopFlag())
    assert_pinned(trajectory(out), GALACTIC_LOSS)
    assert result.metrics.keys() == GALACTIC_FINAL.keys()
    for key, value in GALACTIC_FINAL.items():
        assert result.metrics[key] == pytest.approx(value, rel=REL), key


def test_baseline_fits_are_pinned(tmp_path_factory):
    """The in-memory baseline fit (fusion's single modality, galactic's centralised model): its val
    logits, far finer than the accuracies the metrics report."""
    from astrobio.components.fusion import baselines
    from astrobio.components.fusion.data import build_data as fusion_data
    from astrobio.components.fusion.model import build_fusion_net
    from astrobio.components.galactic.baselines import initial_net
    from astrobio.components.galactic.data import PooledView
    from astrobio.components.galactic.data import build_data as galactic_data
    from astrobio.trainer.fit import fit_baseline

    cpu, cache = torch.device("cpu"), planet_cache(tmp_path_factory)
    fdata = fusion_data(fusion_cfg(), 0, 1, cache)
    fit = fit_baseline(lambda: build_fusion_net(fdata, fdata.cfg.model, (list(fdata.upstream.specs)[1],)), fdata,
                       5, fdata.cfg, cpu, baselines.BASELINE_SEED + 1, baselines.cross_entropy)
    logits = baselines.predict(fit, fdata.split("val"), cpu)
    gdata = galactic_data(galactic_cfg(), 0, 1, cache)
    torch.manual_seed(0)
    GALACTIC.build_model(gdata.cfg, gdata)  # records the initial weights the baselines start from
    central = fit_baseline(lambda: initial_net(gdata), PooledView(gdata), 3, gdata.cfg, cpu, 7, baselines.cross_entropy)
    glogits = baselines.predict(central, gdata.split("val"), cpu)
    got = [float(logits.sum()), float(logits.abs().sum()), float(glogits.sum()), float(glogits.abs().sum())]
    assert got == pytest.approx(BASELINE_LOGITS, rel=REL)
