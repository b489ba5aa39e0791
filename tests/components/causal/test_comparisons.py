"""Causal discovery judged without order-fixing tiers: a known random SEM, the planetary SCM, and Sachs.

1. Structure (SHD) on the NOTEARS paper's own benchmark SEM (random_scm.py: ER graph, 10 variables,
   ~20 edges, unit noise variances, raw scale), three seeds, no priors at all. NOTEARS' `lambda1` and
   `w_threshold` were chosen by mean validation NLL over a grid (`test_the_sem_settings_are_the_validation_choice`,
   slow); PC runs at its standard level 0.05 and, so that no choice of level rescues it, at the best
   of 0.01/0.05/0.1 measured on the truth. Why NOTEARS can win here: equal noise variances make the
   DAG identifiable and least squares is their likelihood, while PC stops at the equivalence class.
   The same property leaves the order readable from the variances (varsortability 0.86-0.94, printed):
   on the same three SEMs standardised, NOTEARS loses its edge (SHD 16/15/17 vs PC 7/9/17, empty
   16/17/21), as Reisach et al. found. Measured (2 shared cores): SHD 0/0/1 vs PC 7/9/17 at 0.05
   (best level 7/9/15), empty 16/17/21; about 22 CPU-s for the three seeds.
2. Held-out likelihood on the planetary SCM, standardised, no tiers (`lambda1` 0.01: lowest validation
   NLL of 0.01/0.05/0.1); the one prior is that stellar_flux is exogenous (a planet does not drive its
   star's output; PC gets it too). Albedo and volcanism are no longer declared exogenous: albedo
   answers to temperature (ice, clouds), and three declared roots fix part of the order. Its SHD, PC's
   and the counterfactual error are printed, not asserted: without the tiers NOTEARS recovers this
   linear-Gaussian graph no better than the empty graph (SHD 10-12 vs empty 10, PC 2-9) and its
   counterfactuals are no better than "nothing changes" (0.51 vs 0.47) — the equivalence class is all
   standardised linear-Gaussian data can identify, and PC finds it.
3. Sachs at the default config, printed beside PC and the published NOTEARS figure.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from astrobio.components.causal.baselines import pc_algorithm
from astrobio.components.causal.config import CausalConfig
from astrobio.components.causal.data import build_data
from astrobio.components.causal.graphs import is_dag, shd
from astrobio.components.causal.task import SPEC
from astrobio.config.load import load_config
from astrobio.trainer import StopFlag, TrainingRun, train
from astrobio.trainer.distributed import DistEnv
from tests.components.causal.conftest import make_cfg
from tests.components.causal.random_scm import er_linear_sem, varsortability, write_sem

ROOT = Path(__file__).resolve().parents[3]
NOTEARS_SACHS_SHD = 22  # Zheng et al. 2018, NOTEARS on Sachs (7,466 cells, 20 true edges in their graph)
SEM_SEEDS = (0, 1, 2)
SEM_SIZE = {"d": 10, "k": 2.0, "n": 1000}
SEM_STEPS = 3000
SEM_CHOICE = {"lambda1": 0.02, "w_threshold": 0.3}   # the validation choice (see the slow test below)
SEM_GRID = {"lambda1": (0.02, 0.05, 0.1, 0.2), "w_threshold": (0.1, 0.2, 0.3, 0.5)}
PC_ALPHA = 0.05                                       # PC's standard level
PC_ALPHAS = (0.01, 0.05, 0.1)


def run(tmp_path, cfg) -> dict[str, float]:
    return train(TrainingRun(spec=SPEC, cfg=cfg, seed=0, output_dir=tmp_path, run_id="t", config_hash="h"),
                 DistEnv(), StopFlag()).metrics


def sem_run(tmp_path: Path, seed: int, model: dict) -> tuple[dict[str, float], CausalConfig, np.ndarray, np.ndarray]:
    """NOTEARS on one SEM written as CSV files: raw scale (the SEM's own units), no priors, PC at its
    standard level. Returns the metrics, the config, the rows and the true graph."""
    folder = tmp_path / f"sem{seed}_{model['lambda1']}_{model['w_threshold']}"
    folder.mkdir()
    data, graph, x, adj = write_sem(folder, seed=seed, **SEM_SIZE)
    steps = {"max_steps": SEM_STEPS, "eval_every": SEM_STEPS, "log_every": SEM_STEPS, "checkpoint": {"every": SEM_STEPS}}
    cfg = make_cfg(trainer=steps, optim={"lr": 0.02}, model=model, eval={"pc_alpha": PC_ALPHA},
                   data={"source": str(data), "graph": str(graph), "standardize": False, "split_seed": seed})
    return run(folder, cfg), cfg, x, adj


def test_the_known_sem_is_what_it_claims():
    """Acyclic, reproducible, and every variable has unit noise variance given its true parents."""
    x, adj = er_linear_sem(seed=0, **SEM_SIZE)
    assert is_dag(adj) and adj.sum() > SEM_SIZE["d"]
    assert np.array_equal(x, er_linear_sem(seed=0, **SEM_SIZE)[0])
    for j in range(SEM_SIZE["d"]):
        parents = np.c_[x[:, adj[:, j]], np.ones(len(x))]
        residual = x[:, j] - parents @ np.linalg.lstsq(parents, x[:, j], rcond=None)[0]
        assert 0.85 < residual.var() < 1.15, (j, residual.var())


def test_known_sem_notears_beats_pc_and_the_empty_graph_on_every_seed(tmp_path):
    start = time.process_time()
    margins = []
    for seed in SEM_SEEDS:
        m, cfg, x, adj = sem_run(tmp_path, seed, SEM_CHOICE)
        train_rows = build_data(cfg, 0, 1, None).x["train"].double().numpy()
        pc_best = min(shd(pc_algorithm(train_rows, a, cfg.eval.pc_max_cond), adj) for a in PC_ALPHAS)
        print(f"causal SEM seed {seed}: test_shd={m['test_shd']:.0f} pc(0.05)={m['baseline_pc_test_shd']:.0f} "
              f"pc(best level)={pc_best} empty={m['baseline_empty_test_shd']:.0f} true_edges={int(adj.sum())}; "
              f"test_nll={m['test_nll']:.2f} empty={m['baseline_empty_test_nll']:.2f}; varsortability={varsortability(x, adj):.2f}")
        assert m["test_acyclic"] == 1.0, m
        assert m["test_shd"] <= pc_best - 3, (seed, pc_best, m)
        assert m["test_shd"] <= m["baseline_empty_test_shd"] - 10, (seed, m)
        assert m["test_nll"] < 0.2 * m["baseline_empty_test_nll"], (seed, m)
        margins.append(pc_best - m["test_shd"])
    print(f"causal SEM: SHD margin over PC's best level {margins}; cost {time.process_time() - start:.1f} CPU-s")


def test_planetary_scm_without_tiers_beats_the_empty_graph_on_held_out_likelihood(tmp_path):
    start = time.process_time()
    cfg = make_cfg(trainer={"max_steps": 600, "eval_every": 600, "log_every": 600, "checkpoint": {"every": 600}},
                   optim={"lr": 0.02}, data={"n_samples": 1000}, model={"lambda1": 0.01},
                   priors={"exogenous": ["stellar_flux"]}, eval={"pc_alpha": PC_ALPHA})
    m = run(tmp_path, cfg)
    print(f"causal SCM (no tiers): test_nll={m['test_nll']:.3f} empty={m['baseline_empty_test_nll']:.3f}; "
          f"test_shd={m['test_shd']:.0f} pc={m['baseline_pc_test_shd']:.0f} empty={m['baseline_empty_test_shd']:.0f}; "
          f"cf_rmse={m['test_cf_rmse']:.3f} no-change={m['baseline_obs_test_cf_rmse']:.3f}; "
          f"cost {time.process_time() - start:.1f} CPU-s")
    assert m["test_nll"] < 0.5 * m["baseline_empty_test_nll"], m
    assert m["test_acyclic"] == 1.0


def test_sachs_at_the_default_config(tmp_path):
    """configs/default.yaml's causal section on Sachs (its comment: drop the SCM's priors), printed
    beside PC and the published NOTEARS figure; the held-out likelihood must beat the empty graph."""
    start = time.process_time()
    section = load_config(ROOT / "configs" / "default.yaml",
                          ["components.causal.data.source=sachs", "components.causal.priors.tiers=[]"]).components.causal
    m = run(tmp_path, section.model_copy(update={"trainer": section.trainer.model_copy(update={"device": "cpu"})}))
    print(f"causal Sachs (default config): test_shd={m['test_shd']:.0f} pc={m['baseline_pc_test_shd']:.0f} "
          f"empty={m['baseline_empty_test_shd']:.0f} published NOTEARS={NOTEARS_SACHS_SHD}; "
          f"test_nll={m['test_nll']:.3f} empty={m['baseline_empty_test_nll']:.3f}; cost {time.process_time() - start:.1f} CPU-s")
    assert m["test_nll"] < 0.9 * m["baseline_empty_test_nll"], m
    assert m["test_acyclic"] == 1.0 or m["test_h"] < 1e-3


@pytest.mark.slow
def test_the_sem_settings_are_the_validation_choice(tmp_path):
    """Reruns the selection: every (lambda1, w_threshold) of the grid on the three SEMs, ranked by mean
    validation NLL only (test rows and the true graph are not looked at); the lean test must use the winner.
    On a tie (thresholds that read out the same graph score the same) the sparser setting wins: the larger
    threshold, then the larger lambda1. Measured: (0.02, 0.2) and (0.02, 0.3) tie at 5.728, next (0.02, 0.1)
    5.795; about 17 minutes on 2 shared cores."""
    scores = {}
    for l1 in SEM_GRID["lambda1"]:
        for thr in SEM_GRID["w_threshold"]:
            model = {"lambda1": l1, "w_threshold": thr}
            scores[(l1, thr)] = float(np.mean([sem_run(tmp_path, seed, model)[0]["val_nll"] for seed in SEM_SEEDS]))
    print({k: round(v, 3) for k, v in sorted(scores.items(), key=lambda kv: kv[1])})
    best = min(scores, key=lambda k: (scores[k], -k[1], -k[0]))
    assert best == (SEM_CHOICE["lambda1"], SEM_CHOICE["w_threshold"])
