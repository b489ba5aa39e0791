"""`astrobio tune --backend katib`: the same search as a Katib Experiment whose trials are PyTorchJobs.

The trial template is the component's PyTorchJob exactly as `astrobio render job` makes it, with
the searched values appended as `--set <path>=${trialParameters.<name>}` to the `pytorch`
container of every replica. Katib's StdOut collector wraps the primary container's command and
arguments into one unquoted `sh -c` string (v0.19 `pkg/webhook/v1beta1/pod/utils.go`,
wrapWorkerContainer: `strings.Join(args, " ")`, keeping a leading `sh -c`), so the container is
rendered as `sh -c '<shlex-quoted command>'`: any argument (a list `[a, b]`, a quoted `"off"`)
survives that wrapping intact. The trial job frees its pods when it finishes (cleanPodPolicy
Running) and Katib collects from the pod that prints the metrics (`primary_pod_labels`).

Before anything is written or submitted: the objective and every additional metric must be names
the component prints (otherwise every trial would sit at MetricsUnavailable), the Experiment must
pass the upstream schemas, and a substituted trial must be a valid PyTorchJob.
"""

from __future__ import annotations

import copy
import json
import re
import shlex
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from astrobio.console import to_stderr
from astrobio.sections import DownstreamConfig
from astrobio.errors import RuntimeFailure, UsageError
from astrobio.kube.render.naming import standard_labels
from astrobio.kube.render.pytorchjob import CONTAINER, render_pytorchjob
from astrobio.kube.validate import ManifestInvalid, SchemaUnavailable, check_object, pruned_fields, schema_errors, schema_json_dir
from astrobio.kube.render.yamlio import dump_yaml
from astrobio.tune.load import TuneConfig
from astrobio.tune.metrics import declared_metrics, describe_names, did_you_mean, unknown_names
from astrobio.tune.space import TRIAL_NAME_PARAM, placeholder, substitute

API_VERSION = "kubeflow.org/v1beta1"
KIND = "Experiment"
ALGORITHMS = {"tpe": "tpe", "random": "random", "grid": "grid"}
SUCCESS = 'status.conditions.#(type=="Succeeded")#|#(status=="True")#'
FAILURE = 'status.conditions.#(type=="Failed")#|#(status=="True")#'
CRD_SCHEMA = "experiment_v1beta1.json"
OPENAPI_SCHEMA = "experiment_v1beta1_openapi.json"
REPLICA_TYPE_LABEL = "training.kubeflow.org/replica-type"
REPLICA_INDEX_LABEL = "training.kubeflow.org/replica-index"
TRIAL_CLEAN_POD_POLICY = "Running"
"""A finished trial job deletes its still-running pods: when the primary pod ends (done, or stopped
by median-stop early stopping) the other Workers would otherwise hold their GPUs."""
_PLACEHOLDER = re.compile(r"\$\{trialParameters\.([^}]*)\}")
Note = Callable[[str], None]


def experiment_name(tc: TuneConfig) -> str:
    """A DNS label short enough for Katib's trial names (`<experiment>-<8 chars>`) and their pods."""
    folded = re.sub(r"-{2,}", "-", re.sub(r"[^a-z0-9-]+", "-", tc.study_name.lower())).strip("-")
    return (folded[:40].rstrip("-") or "astrobio-tune")


def check_metric_names(tc: TuneConfig, note: Note = to_stderr) -> None:
    """UsageError unless the objective and additional metrics are names the component prints."""
    declared = declared_metrics(tc.cfg, tc.tune.component)
    wanted = [tc.tune.objective.metric, *tc.tune.objective.additional_metrics]
    if declared is None:
        note(f"note: '{tc.tune.component}' declares no metric names; cannot check {', '.join(wanted)} before trials run")
        return
    missing = unknown_names(wanted, declared)
    if missing:
        raise UsageError(f"{tc.source}: metric '{missing[0]}' is never printed by '{tc.tune.component}'"
                         f"{did_you_mean(missing[0], declared)}, so Katib trials would stay at MetricsUnavailable; "
                         f"it prints: {describe_names(declared, 40)}")


def primary_pod_labels(job: Mapping[str, Any]) -> dict[str, str]:
    """The pod whose stdout carries the metrics (rank 0 prints them): the Master when the job has
    one (PET_NODE_RANK=0), else worker 0 of a Worker-only job: its torchrun hosts the c10d store, and
    c10d numbers nodes in the sorted order of their FQDNs (torch `dynamic_rendezvous.py`, "Assign
    the ranks"), in which `<job>-worker-0` comes first. Keyed on the rendered replica specs, so it
    follows whichever layout the renderer chose.
    The Training Operator v1.9 labels every pod it creates with its lower-cased replica type and its
    index (`pkg/controller.v1/common/pod.go` createNewPod: SetReplicaType/SetReplicaIndex; keys in
    `pkg/apis/kubeflow.org/v1/common_types.go`); Katib injects its collector only into pods with
    all of these labels."""
    replicas = job["spec"]["pytorchReplicaSpecs"]
    kind = "master" if "Master" in replicas else "worker"
    return {REPLICA_TYPE_LABEL: kind, REPLICA_INDEX_LABEL: "0"}


def per_trial_run_id(tc: TuneConfig) -> bool:
    """Each trial publishes under its own run id (its Katib name), except a downstream component:
    its trials must read the phase-1 artifacts of the config's run id, and the trainer has one run
    id for both reading and publishing, so those trials share it (the last to finish publishes)."""
    return not isinstance(tc.cfg.component(tc.tune.component), DownstreamConfig)


def trial_spec(tc: TuneConfig) -> dict[str, Any]:
    """The component's PyTorchJob with the search space's placeholders in the training command."""
    spec = copy.deepcopy(render_pytorchjob(tc.cfg, tc.tune.component))
    spec["spec"].setdefault("runPolicy", {})["cleanPodPolicy"] = TRIAL_CLEAN_POD_POLICY
    meta = spec["metadata"]
    meta.pop("name", None)
    meta.pop("namespace", None)  # Katib names each trial's job after the trial, in the Experiment's namespace
    extra = tc.space.placeholder_args()
    if per_trial_run_id(tc):
        run_id = tc.cfg.run.effective_run_id
        for key, value in list(meta.get("annotations", {}).items()):
            meta["annotations"][key] = value.replace(f"/runs/{run_id}/", f"/runs/{placeholder(TRIAL_NAME_PARAM)}/")
        extra = [f"run.run_id={placeholder(TRIAL_NAME_PARAM)}", *extra]
    for replica in spec["spec"]["pytorchReplicaSpecs"].values():
        for container in replica["template"]["spec"]["containers"]:
            if container["name"] != CONTAINER:
                continue
            argv = [*container.get("command", []), *container.get("args", []),
                    *(part for arg in extra for part in ("--set", arg))]
            container["command"] = ["sh", "-c"]
            container["args"] = [shlex.join(argv)]
    return spec


def build_experiment(tc: TuneConfig) -> Any:
    """The Katib SDK object (what `KatibClient.create_experiment` takes)."""
    from kubeflow.katib import (
        V1beta1AlgorithmSetting, V1beta1AlgorithmSpec, V1beta1CollectorSpec, V1beta1EarlyStoppingSetting,
        V1beta1EarlyStoppingSpec, V1beta1Experiment, V1beta1ExperimentSpec, V1beta1MetricsCollectorSpec,
        V1beta1MetricStrategy, V1beta1ObjectiveSpec, V1beta1TrialTemplate,
    )
    from kubernetes.client import V1ObjectMeta

    tune, name = tc.tune, experiment_name(tc)
    objective = tune.objective
    metrics = [objective.metric, *objective.additional_metrics]
    early = None
    if tune.early_stopping.rule == "median":
        early = V1beta1EarlyStoppingSpec(algorithm_name="medianstop", algorithm_settings=[
            V1beta1EarlyStoppingSetting(name="min_trials_required", value=str(tune.early_stopping.min_trials)),
            V1beta1EarlyStoppingSetting(name="start_step", value=str(tune.early_stopping.start_step))])
    spec = trial_spec(tc)
    return V1beta1Experiment(
        api_version=API_VERSION, kind=KIND,
        metadata=V1ObjectMeta(name=name, namespace=tc.cfg.kube.namespace,
                              labels=standard_labels(tune.component, name)),
        spec=V1beta1ExperimentSpec(
            objective=V1beta1ObjectiveSpec(
                type="maximize" if objective.goal == "max" else "minimize",
                objective_metric_name=objective.metric,
                additional_metric_names=list(objective.additional_metrics) or None,
                goal=objective.target,
                # "latest": the value printed last, after the final evaluation: what the Optuna backend uses too.
                metric_strategies=[V1beta1MetricStrategy(name=m, value="latest") for m in metrics]),
            algorithm=V1beta1AlgorithmSpec(algorithm_name=ALGORITHMS[tune.algorithm], algorithm_settings=[
                V1beta1AlgorithmSetting(name="random_state", value=str(tune.seed))]),
            early_stopping=early,
            parallel_trial_count=tune.budget.parallel,
            max_trial_count=tune.budget.trials,
            max_failed_trial_count=tune.budget.max_failed or tune.budget.trials,
            parameters=tc.space.katib_parameters(),
            metrics_collector_spec=V1beta1MetricsCollectorSpec(collector=V1beta1CollectorSpec(kind="StdOut")),
            trial_template=V1beta1TrialTemplate(
                primary_container_name=CONTAINER, primary_pod_labels=primary_pod_labels(spec),
                success_condition=SUCCESS, failure_condition=FAILURE,
                trial_parameters=tc.space.katib_trial_parameters(per_trial_run_id(tc)), trial_spec=spec),
        ),
    )


def render_experiment(tc: TuneConfig) -> dict[str, Any]:
    """The Experiment as a plain camelCase dict, exactly what `kubectl apply` receives."""
    from kubeflow.katib import ApiClient

    return ApiClient().sanitize_for_serialization(build_experiment(tc))


def placeholders_in(obj: Any) -> set[str]:
    """Names used as `${trialParameters.<name>}` anywhere in `obj`."""
    return set(_PLACEHOLDER.findall(json.dumps(obj)))


def experiment_errors(obj: dict[str, Any], tc: TuneConfig, schema_dir: Path | None = None) -> list[str]:
    """Every problem: both upstream Experiment schemas, fields Katib does not know, its trial-parameter
    rules, and the substituted trial as a PyTorchJob. SchemaUnavailable when the schema folder is missing."""
    from jsonschema import Draft7Validator

    folder = schema_json_dir(schema_dir)
    errors: list[str] = []
    for name in (OPENAPI_SCHEMA, CRD_SCHEMA):
        schema = json.loads((folder / name).read_text(encoding="utf-8"))
        errors += [f"({name}) {e}" for e in schema_errors(obj, Draft7Validator(schema))]
        if name == OPENAPI_SCHEMA:
            # Katib's CRD keeps fields its Go types lack and its controller ignores them, so a typo
            # (`primaryPodLabel`) would silently lose a setting
            errors += list(pruned_fields(obj, schema, consequence="Katib would ignore it"))
    template = obj["spec"]["trialTemplate"]
    declared = {p["name"] for p in template.get("trialParameters", [])}
    used = placeholders_in(template["trialSpec"])
    errors += [f"spec.trialTemplate.trialSpec: ${{trialParameters.{n}}} is not a trial parameter" for n in sorted(used - declared)]
    errors += [f"spec.trialTemplate.trialParameters: '{n}' is never used in the trial spec" for n in sorted(declared - used)]
    searched = {p["name"] for p in obj["spec"]["parameters"]}
    for p in template.get("trialParameters", []):
        ref = p.get("reference", "")
        if not ref.startswith("${trialSpec.") and ref not in searched:
            errors.append(f"spec.trialTemplate.trialParameters: '{p['name']}' references unknown parameter '{ref}'")
    sample = json.loads(substitute(json.dumps(template["trialSpec"]), tc.space.sample_assignment()))
    sample["metadata"].update(name=f"{obj['metadata']['name']}-sample", namespace=obj["metadata"]["namespace"])
    errors += [f"trialSpec (substituted): {e}" for e in check_object(sample, schema_dir)]
    return errors


def validated_experiment(tc: TuneConfig, schema_dir: Path | None = None, note: Note = to_stderr) -> dict[str, Any]:
    """Render and check; without the schema folder only the checks that need no upstream file run."""
    check_metric_names(tc, note)
    if not per_trial_run_id(tc):
        note(f"note: '{tc.tune.component}' reads upstream artifacts of run '{tc.cfg.run.effective_run_id}', so its "
             "trials share that run id and the last trial to finish publishes the artifact")
    obj = render_experiment(tc)
    try:
        errors = experiment_errors(obj, tc, schema_dir)
    except SchemaUnavailable as exc:
        note(f"note: {exc}; checking the trial spec's pod template only")
        errors = check_object(render_pytorchjob(tc.cfg, tc.tune.component), schema_dir, require_schema=False)
    if errors:
        raise ManifestInvalid(f"Experiment {obj['metadata']['name']}", errors)
    return obj


def submit_experiment(tc: TuneConfig, dry_run: bool, *, env: Mapping[str, str], kubeconfig: Path | None = None,
                      note: Note = to_stderr) -> str:
    """Dry run: the exact YAML. Otherwise create the Experiment with KatibClient and say how to watch it.
    Credentials are loaded first (no cluster contact), so a machine without any fails at once."""
    from astrobio.kube.cluster import load_cluster_access

    access = None if dry_run else load_cluster_access(env, kubeconfig)  # none: one-line UsageError, exit 2
    obj = validated_experiment(tc, note=note)
    if access is None:
        return dump_yaml(obj)
    from kubeflow.katib import KatibClient

    from astrobio.kube.checks.probe import KubeProbe
    from astrobio.kube.submission.preflight import require_ready

    # a namespace without Katib's collector label, a missing Secret: one line, exit 2, nothing created
    require_ready(tc.cfg, KubeProbe(access.configuration), katib=True, note=note)
    name, ns = obj["metadata"]["name"], obj["metadata"]["namespace"]
    try:
        client = KatibClient(client_configuration=access.configuration, namespace=ns)
        client.create_experiment(build_experiment(tc), namespace=ns)
    except Exception as exc:  # noqa: BLE001 - the SDK wraps API errors in RuntimeError/TimeoutError
        cause = exc.__cause__ or exc
        detail = (str(cause).strip().splitlines() or [cause.__class__.__name__])[0]
        raise RuntimeFailure(f"creating Experiment {ns}/{name}: {detail}") from None
    return f"created Experiment {ns}/{name}; watch it: kubectl -n {ns} get experiment {name} -w"
