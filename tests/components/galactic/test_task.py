"""galactic through the one trainer: evaluate names, exact resume across averaging rounds, starting
from a fusion artifact, and federated > local-only."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import torch

from astrobio.components.fusion.task import SPEC as FUSION
from astrobio.components.galactic.data import GalacticData, build_data
from astrobio.components.galactic.task import GLOBAL_FILE, SPEC, build_model, evaluate
from astrobio.errors import UsageError
from astrobio.trainer import Preempted, StopFlag, TrainingRun, train
from astrobio.trainer.checkpoint import load_weights
from astrobio.trainer.distributed import DistEnv
from tests.components.fusion.helpers import link_cache
from tests.components.fusion.helpers import make_cfg as fusion_cfg
from tests.components.galactic.helpers import make_cfg


def job(out: Path, cache: Path, **over) -> TrainingRun:
    link_cache(out, cache)
    return TrainingRun(spec=SPEC, cfg=make_cfg(**over), seed=4, output_dir=out, run_id="t", config_hash="h")


def test_evaluate_reports_federated_and_baselines(gdata: GalacticData):
    torch.manual_seed(0)
    metrics = evaluate(build_model(gdata.cfg, gdata), gdata, "test")
    assert set(metrics) == {"test_accuracy", "test_loss", "test_worst_observatory_accuracy", "test_bytes_per_round",
                            "baseline_majority_test_accuracy", "baseline_local_test_accuracy",
                            "baseline_central_test_accuracy"}
    assert metrics["test_worst_observatory_accuracy"] <= metrics["test_accuracy"] + 1e-9


def test_resume_is_exact_across_averaging_rounds(tmp_path, cache):
    """N=10 steps, averaging every 3 == stop at N/2 = 5 (mid-round), resume, 5 more: the hook is resume-safe."""
    over = {"federated": {"algorithm": "fedprox", "mu": 0.1}, "model": {"dropout": 0.2},
            "trainer": {"max_steps": 10, "eval_every": 5, "checkpoint": {"every": 5}}}
    full = train(job(tmp_path / "full", cache, **over), DistEnv(), StopFlag())
    with pytest.raises(Preempted):
        train(job(tmp_path / "split", cache, **over), DistEnv(), StopFlag(at_step=5))
    resumed = train(job(tmp_path / "split", cache, **over), DistEnv(), StopFlag())
    assert resumed.resumed_from == 5 and resumed.metrics == full.metrics
    for name in ("model.safetensors", GLOBAL_FILE):
        a, b = load_weights(tmp_path / "full" / "artifact" / name), load_weights(tmp_path / "split" / "artifact" / name)
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a), name
    assert int(load_weights(tmp_path / "full" / "artifact" / "model.safetensors")["rounds"]) == 3  # steps 3, 6, 9


def test_starts_from_a_fusion_artifact(tmp_path, cache):
    link_cache(tmp_path / "fusion", cache)
    fjob = TrainingRun(spec=FUSION, cfg=fusion_cfg(trainer={"max_steps": 2, "eval_every": 2}, eval={"baselines": False}),
                    seed=1, output_dir=tmp_path / "fusion", run_id="t", config_hash="h")
    folder = train(fjob, DistEnv(), StopFlag()).artifact_dir
    cfg = make_cfg(inputs={"fusion": str(folder)}, model={"latent_dim": 8})  # ignored: the artifact's model wins
    data = build_data(cfg, 0, 1, cache)
    assert "fusion artifact" in data.describe()["source"] and data.cfg.model.latent_dim == 16
    model = build_model(data.cfg, data)
    fusion_weights = load_weights(folder / "model.safetensors")
    for net in (model.global_model, *model.clients):
        state = net.state_dict()
        assert all(torch.equal(state[k], fusion_weights[k]) for k in fusion_weights)
    (folder / "model.safetensors").unlink()
    with pytest.raises(UsageError, match=r"components\.galactic\.inputs\.fusion: .* has no model\.safetensors"):
        build_data(cfg, 0, 1, cache)


# The lean-set comparison (issue 16). Training is as before (400 planets, 40 rounds of 5 local steps);
# the held-out sets grow from 60 to 200 planets each: at 60 one planet moved accuracy by 0.017 and val
# and test disagreed on the gap to centralised training (val -0.07, test +0.08), so that setting could
# not resolve a 0.05 margin. Measured (federated / local-only / centralised), data + split seed 0, 1, 2
# with trainer seed 4, 5, 6 (the test runs the first):
#   val   0.815 / 0.556 / 0.780    0.785 / 0.629 / 0.805    0.745 / 0.610 / 0.780
#   test  0.745 / 0.553 / 0.750    0.770 / 0.626 / 0.765    0.770 / 0.604 / 0.785
# Alternatives tried on val (seeds 0, 2): local_steps 2 (100 rounds, 2.5x the traffic) 0.820, 0.740;
# FedProx mu 0.01: 0.805, 0.750; neither beats FedAvg with 5 local steps, which is kept.
LEAN = {"data": {"n_planets": 800, "val_frac": 0.25, "test_frac": 0.25, "batch_size": 32},
        "model": {"latent_dim": 64, "hidden": 128, "cnn_width": 16, "dropout": 0.1},
        "federated": {"observatories": 4, "batch_size": 32, "local_steps": 5, "iid_fraction": 0.1},
        "trainer": {"max_steps": 200, "eval_every": 200, "log_every": 200, "checkpoint": {"every": 200}},
        "eval": {"baseline_steps": None}}
CEILING_GAP = 0.05  # federated may trail centralised training (the ceiling) by at most this


def test_smoke_federated_beats_local_only_and_nears_centralised(tmp_path, cache):
    """Lean set: FedAvg over 4 non-IID observatories (40 rounds of 5 local steps) is strictly above
    the mean local-only model by 0.05 and within CEILING_GAP of one model trained on the pooled
    data (a ceiling: federated training sees the same planets without pooling them), on test."""
    start, wall = time.process_time(), time.perf_counter()
    result = train(job(tmp_path, cache, **LEAN), DistEnv(), StopFlag())
    m = result.metrics
    fed, local, central = (m[f"{p}test_accuracy"] for p in ("", "baseline_local_", "baseline_central_"))
    print(f"galactic test_accuracy={fed:.3f} local-only={local:.3f} majority={m['baseline_majority_test_accuracy']:.3f}; "
          f"ceiling (centralised)={central:.3f}, gap {central - fed:+.3f}; val {m['val_accuracy']:.3f} / "
          f"{m['baseline_local_val_accuracy']:.3f} / {m['baseline_central_val_accuracy']:.3f}; "
          f"cost {time.perf_counter() - wall:.1f} s wall, {time.process_time() - start:.1f} CPU-s")
    assert fed > local + 0.05, m
    assert fed >= central - CEILING_GAP, m
    assert m["test_accuracy"] > m["baseline_majority_test_accuracy"] + 0.3, m
    assert m["test_bytes_per_round"] > 0
