"""The Katib backend: a valid Experiment whose trials are the component's PyTorchJob, checked before
anything is written or submitted, and one clear line when there is no cluster to submit to."""

from __future__ import annotations

import json
import shlex
import shutil

import pytest
import typer
import yaml
from typer.testing import CliRunner

from astrobio.config.overrides import apply_overrides
from astrobio.errors import UsageError
from astrobio.cli.tune import tune_cmd as tune_command
from astrobio.tune.katib_backend import (
    experiment_errors,
    placeholders_in,
    render_experiment,
    trial_spec,
    validated_experiment,
)
from astrobio.tune.load import load_tune_config, validate_tree
from astrobio.tune.manifests import render_tuning_manifests
from astrobio.tune.space import TRIAL_NAME_PARAM, substitute
from tests.cli_helpers import assert_one_line_error

from .conftest import ROOT, SCHEMAS, run_tune, tune_tree, write_config

GRAPH_VAE = ROOT / "configs" / "tune-graph-vae.yaml"


@pytest.fixture(scope="module")
def tc():
    return load_tune_config(GRAPH_VAE)


@pytest.fixture(scope="module")
def experiment(tc):
    return render_experiment(tc)


def test_experiment_validates_against_both_upstream_schemas(tc, experiment):
    assert experiment_errors(experiment, tc, SCHEMAS) == []
    assert experiment["apiVersion"] == "kubeflow.org/v1beta1" and experiment["kind"] == "Experiment"


def test_schema_check_catches_a_broken_experiment(tc, experiment):
    broken = json.loads(json.dumps(experiment))
    broken["spec"]["maxTrialCount"] = "eight"
    broken["spec"]["trialTemplate"]["primaryPodLabel"] = {"a": "b"}
    errors = experiment_errors(broken, tc, SCHEMAS)
    assert any("maxTrialCount" in e for e in errors)
    assert any("primaryPodLabel: unknown field" in e for e in errors)


def test_objective_algorithm_early_stopping_and_budget(tc, experiment):
    spec = experiment["spec"]
    assert spec["objective"]["type"] == "maximize" and spec["objective"]["objectiveMetricName"] == "val_auc"
    assert spec["objective"]["additionalMetricNames"] == ["val_ap", "baseline_aa_val_auc"]
    assert {m["value"] for m in spec["objective"]["metricStrategies"]} == {"latest"}
    assert spec["algorithm"] == {"algorithmName": "tpe", "algorithmSettings": [{"name": "random_state", "value": "0"}]}
    assert spec["earlyStopping"]["algorithmName"] == "medianstop"
    assert {s["name"]: s["value"] for s in spec["earlyStopping"]["algorithmSettings"]} == \
        {"min_trials_required": "3", "start_step": "2"}
    assert (spec["maxTrialCount"], spec["parallelTrialCount"], spec["maxFailedTrialCount"]) == (8, 1, 8)
    assert spec["metricsCollectorSpec"] == {"collector": {"kind": "StdOut"}}
    template = spec["trialTemplate"]
    assert template["primaryContainerName"] == "pytorch"
    assert template["successCondition"] == 'status.conditions.#(type=="Succeeded")#|#(status=="True")#'
    assert template["failureCondition"] == 'status.conditions.#(type=="Failed")#|#(status=="True")#'
    replicas = template["trialSpec"]["spec"]["pytorchReplicaSpecs"]
    assert template["primaryPodLabels"] == {"training.kubeflow.org/replica-type": "master" if "Master" in replicas else "worker",
                                            "training.kubeflow.org/replica-index": "0"}
    assert template["trialSpec"]["spec"]["runPolicy"]["cleanPodPolicy"] == "Running"


def test_trial_template_placeholders_match_the_search_space_one_for_one(tc, experiment):
    template = experiment["spec"]["trialTemplate"]
    searched = [p["name"] for p in experiment["spec"]["parameters"]]
    assert searched == tc.space.keys
    by_name = {p["name"]: p["reference"] for p in template["trialParameters"]}
    assert {k: v for k, v in by_name.items() if k != TRIAL_NAME_PARAM} == {k: k for k in searched}
    assert placeholders_in(template["trialSpec"]) == set(searched) | {TRIAL_NAME_PARAM}
    for replica in template["trialSpec"]["spec"]["pytorchReplicaSpecs"].values():
        (line,) = replica["template"]["spec"]["containers"][0]["args"]
        used = [a for a in shlex.split(line) if "${trialParameters." in a]
        assert used == [f"run.run_id=${{trialParameters.{TRIAL_NAME_PARAM}}}", *tc.space.placeholder_args()]


def test_substituted_trial_command_trains_with_the_assigned_values(tc):
    """What the pod runs after Katib's substitution and its `sh -c` wrapping: the same argv,
    whose --set values rebuild the config with the trial's values."""
    job = trial_spec(tc)
    master = job["spec"]["pytorchReplicaSpecs"]["Worker"]["template"]["spec"]["containers"][0]
    assert master["command"] == ["sh", "-c"]
    values = {"lr": "0.0031", "hidden_dim": "96", "encoder": "gcn", TRIAL_NAME_PARAM: "tune-graph-vae-x7k2p9d4"}
    wrapped = substitute(master["args"][0], values) + " 1>/var/log/katib/metrics.log 2>&1"  # as Katib appends it
    argv = shlex.split(wrapped)
    assert argv[:6] == ["python", "-m", "astrobio.torchrun", "--module", "astrobio", "train"]
    assert argv[-2:] == ["1>/var/log/katib/metrics.log", "2>&1"]
    sets = [argv[i + 1] for i, a in enumerate(argv) if a == "--set"]
    cfg = validate_tree(apply_overrides({}, sets), "trial")
    section = cfg.component("graph_vae")
    assert (section.optim.lr, section.model.hidden_dim, section.model.encoder) == (0.0031, 96, "gcn")
    assert cfg.run.run_id == "tune-graph-vae-x7k2p9d4"
    assert job["metadata"]["annotations"]["astrobio.dev/artifact-uri"].endswith(
        "/runs/${trialParameters.trialName}/pretrain/graph_vae")
    assert "name" not in job["metadata"]  # Katib names the job after the trial


def test_unknown_objective_or_additional_metric_is_refused_at_render(tmp_path):
    for objective, name in (({"metric": "val_acc"}, "val_acc"),
                            ({"metric": "val_auc", "additional_metrics": ["val_precision"]}, "val_precision")):
        path = write_config(tmp_path, tune_tree(**{"tune.objective": objective}))
        with pytest.raises(UsageError, match=f"'{name}' is never printed by 'graph_vae'.*MetricsUnavailable"):
            validated_experiment(load_tune_config(path), note=lambda _: None)


def test_elastic_jobs_collect_from_worker_zero(tmp_path):
    tc = load_tune_config(GRAPH_VAE, ["kube.elastic.min_replicas=1", "kube.elastic.max_replicas=3"])
    labels = render_experiment(tc)["spec"]["trialTemplate"]["primaryPodLabels"]
    assert labels == {"training.kubeflow.org/replica-type": "worker", "training.kubeflow.org/replica-index": "0"}


def test_tuning_manifests_render_deterministically_and_skip_unregistered(tmp_path):
    (tmp_path / "configs").mkdir()
    for name in ("tune-graph-vae.yaml", "tune-fusion.yaml"):
        shutil.copy(ROOT / "configs" / name, tmp_path / "configs" / name)
    (tmp_path / "configs" / "tune-nope.yaml").write_text("tune: {component: nope}\n")
    (tmp_path / "manifests" / "katib").mkdir(parents=True)
    (tmp_path / "manifests" / "katib" / "gone.yaml").write_text("stale")
    notes: list[str] = []
    first = render_tuning_manifests(tmp_path, note=notes.append)
    assert [p.relative_to(tmp_path).as_posix() for p in first] == ["manifests/katib/fusion.yaml", "manifests/katib/graph-vae.yaml"]
    assert not (tmp_path / "manifests" / "katib" / "gone.yaml").exists()
    assert any("tune-nope.yaml: component 'nope' is not registered" in n for n in notes)
    text = first[1].read_text()
    assert text.startswith("# Generated by `astrobio render manifests` from configs/tune-graph-vae.yaml")
    assert "katib.kubeflow.org/metrics-collector-injection=enabled" in text.split("apiVersion:")[0]
    again = render_tuning_manifests(tmp_path, note=notes.append)
    assert again[1].read_text() == text
    assert yaml.safe_load(text)["kind"] == "Experiment"


def test_cluster_settings_come_from_the_render_config_and_the_tuning_configs_own_kube_keys(tmp_path):
    from astrobio.config import load_config

    (tmp_path / "configs").mkdir()
    tree = yaml.safe_load(GRAPH_VAE.read_text())
    (tmp_path / "configs" / "tune-graph-vae.yaml").write_text(yaml.safe_dump({**tree, "kube": {"workers": 0}}))
    kube = load_config(None, ["kube.namespace=team-a", "kube.image_tag=9.9.9", "kube.workers=3"]).kube
    (path,) = render_tuning_manifests(tmp_path, kube, note=lambda _: None)
    exp = yaml.safe_load(path.read_text())
    assert exp["metadata"]["namespace"] == "team-a"
    replicas = exp["spec"]["trialTemplate"]["trialSpec"]["spec"]["pytorchReplicaSpecs"]
    assert set(replicas) == {"Master"}  # the tuning config's own kube.workers=0 wins
    assert replicas["Master"]["template"]["spec"]["containers"][0]["image"].endswith(":9.9.9")


def test_the_committed_experiments_are_what_astrobio_tune_prints():
    """One renderer: manifests/katib/<name>.yaml and the chart's files/experiments/<name>.yaml are
    byte for byte `astrobio tune --config configs/tune-<name>.yaml --backend katib --dry-run`."""
    app = typer.Typer()
    app.command("tune")(tune_command)
    app.command("noop")(lambda: None)
    for config in sorted((ROOT / "configs").glob("tune-*.yaml")):
        name = config.stem.removeprefix("tune-")
        result = CliRunner().invoke(app, ["tune", "--config", str(config), "--backend", "katib", "--dry-run"])
        assert result.exit_code == 0, result.output
        shipped = (ROOT / "manifests" / "katib" / f"{name}.yaml").read_text()
        assert shipped.split("\n", 3)[3] == result.stdout, name
        assert (ROOT / "charts" / "astrobio" / "files" / "experiments" / f"{name}.yaml").read_text() == shipped


def test_dry_run_prints_the_experiment(experiment):
    """In-process (the subprocess path is covered by the no-kubeconfig test): rendering imports torch."""
    app = typer.Typer()
    app.command("tune")(tune_command)
    app.command("noop")(lambda: None)
    result = CliRunner().invoke(app, ["tune", "--config", str(GRAPH_VAE), "--backend", "katib", "--dry-run",
                                      "--namespace", "team-a"])
    assert result.exit_code == 0, result.output
    obj = yaml.safe_load(result.stdout)
    assert obj["kind"] == "Experiment" and obj["metadata"]["namespace"] == "team-a"
    assert obj["spec"] == experiment["spec"]


def test_submit_without_kubeconfig_is_one_line_exit_2(tmp_path):
    env = {"HOME": str(tmp_path), "KUBECONFIG": "", "KUBERNETES_SERVICE_HOST": ""}
    proc = run_tune("--config", str(GRAPH_VAE), "--backend", "katib", env=env)
    assert_one_line_error(proc, 2, "no kubeconfig")
    assert proc.stdout == ""


