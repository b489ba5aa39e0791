"""Every Katib Experiment the repository ships or renders runs its trials as intended.

For each Experiment (manifests/katib/, the chart's files/experiments/, and what `astrobio tune
--backend katib` renders for each tuning config, in either replica layout), every pod of a sampled
trial is replayed as Katib v0.19 and the Training Operator v1.9 would run it (tests/tune/katib_sim.py,
which cites the upstream files): Katib's unquoted `sh -c` join on the primary pod, run by a real
/bin/sh; torchrun's own argument parser; `astrobio train`'s own CLI (exit 0); and the config those
arguments rebuild must be the tuning config with the trial's values (lists stay lists, "off" stays
the string "off").
"""

from __future__ import annotations

import pytest
import yaml

from astrobio.tune.katib_backend import TRIAL_CLEAN_POD_POLICY, render_experiment
from astrobio.tune.load import load_tune_config
from astrobio.tune.manifests import experiment_key

from .conftest import ROOT
from .katib_sim import check_trials, katib_wrap, operator_pods, parse_train_cli, run_in_shell

TUNE_CONFIGS = sorted((ROOT / "configs").glob("tune-*.yaml"))
LAYOUTS = {"default": [], "one-node": ["kube.workers=0"], "elastic": ["kube.elastic.min_replicas=1", "kube.elastic.max_replicas=3"]}


def _shipped() -> list[tuple[str, str]]:
    """(file, tuning config) of every Experiment file in the repository."""
    by_key = {experiment_key(c): c for c in TUNE_CONFIGS}
    files = [*sorted((ROOT / "manifests" / "katib").glob("*.yaml")),
             *sorted((ROOT / "charts" / "astrobio" / "files" / "experiments").glob("*.yaml"))]
    return [(f.relative_to(ROOT).as_posix(), str(by_key[f.stem.replace("-", "_")])) for f in files]


def test_every_tuning_config_ships_one_experiment_in_both_places():
    shipped = _shipped()
    assert len(TUNE_CONFIGS) >= 3 and len(shipped) == 2 * len(TUNE_CONFIGS)
    assert {c for _, c in shipped} == {str(c) for c in TUNE_CONFIGS}


@pytest.mark.parametrize(("path", "config"), _shipped(), ids=[p for p, _ in _shipped()])
def test_shipped_experiment_trials_parse_to_the_intended_config(path, config, tmp_path):
    exp = next(d for d in yaml.safe_load_all((ROOT / path).read_text()) if d)
    assert check_trials(exp, load_tune_config(ROOT / config), tmp_path) >= 2


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
@pytest.mark.parametrize("config", TUNE_CONFIGS, ids=[c.stem for c in TUNE_CONFIGS])
def test_rendered_experiment_trials_parse_in_every_layout(config, layout, tmp_path):
    tc = load_tune_config(config, LAYOUTS[layout])
    exp = render_experiment(tc)
    assert check_trials(exp, tc, tmp_path) >= 2
    trial = exp["spec"]["trialTemplate"]["trialSpec"]
    assert trial["spec"]["runPolicy"]["cleanPodPolicy"] == TRIAL_CLEAN_POD_POLICY == "Running"


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_primary_pod_labels_select_exactly_the_rank_0_pod(layout):
    """Katib collects from the pods matching primaryPodLabels (and wraps only those): exactly one
    pod of the trial must match, the one with node rank 0 that prints the metrics: the Master when
    the job has one, else worker 0 (labels as the operator sets them, see katib_sim)."""
    tc = load_tune_config(ROOT / "configs" / "tune-graph-vae.yaml", LAYOUTS[layout])
    exp = render_experiment(tc)
    primary = exp["spec"]["trialTemplate"]["primaryPodLabels"]
    job = exp["spec"]["trialTemplate"]["trialSpec"]
    matches = [(kind, index) for kind, index, labels in operator_pods(job)
               if all(labels.get(k) == v for k, v in primary.items())]
    expected = ("Master", 0) if "Master" in job["spec"]["pytorchReplicaSpecs"] else ("Worker", 0)
    assert matches == [expected]
    assert layout != "elastic" or expected == ("Worker", 0)
    assert layout != "one-node" or set(job["spec"]["pytorchReplicaSpecs"]) == {"Master"}


def test_the_replay_catches_what_broke_the_old_chart_trials(tmp_path):
    """The old chart's trial: command `torchrun`, list args. Katib's join splits `[iJO1366, salmonella]`
    into two words (astrobio train exits 2) and the shell strips the quotes of `"off"` (YAML then
    reads the boolean false, not the string "off")."""
    container = {"command": ["torchrun"], "args": ["--module", "astrobio", "train", "--component", "graph_vae",
                                                   "--set", "components.graph_vae.data.sources=[iJO1366, salmonella]"]}
    folder = tmp_path / "list"
    (folder / "katib").mkdir(parents=True)
    argv = run_in_shell(katib_wrap(container, True, str(folder / "katib" / "metrics.log")), folder)
    assert "components.graph_vae.data.sources=[iJO1366," in argv and "salmonella]" in argv
    result = parse_train_cli(argv[2:])
    assert result["exit_code"] == 2 and "salmonella]" in result["output"], result["output"]
    container["args"][-1] = 'components.causal.trainer.amp="off"'
    folder = tmp_path / "quoted"
    (folder / "katib").mkdir(parents=True)
    argv = run_in_shell(katib_wrap(container, False, str(folder / "katib" / "metrics.log")), folder)
    assert argv[-1] == "components.causal.trainer.amp=off"
