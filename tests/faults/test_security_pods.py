"""Issue #8, security: every pod astrobio renders is locked down, and the chart's RBAC is least privilege.

Pods: non-root with a fixed UID, no privilege escalation, every capability dropped, the runtime's
seccomp profile, a read-only root filesystem whose writable places (/tmp, HOME caches, the
working directory) are emptyDirs, no host namespaces or hostPath, no service-account token.
PyTorchJobs are checked as the pods the Training Operator creates from them, with the containers
it injects (tests/kube/operator_pods.py, after kubeflow/training-operator v1.9.0
`pkg/controller.v1/pytorch/initcontainer.go`), and every pod also against Pod Security `restricted`
(tests/kube/pod_standards.py). Checked on every renderer's output (PyTorchJob at every scale, TrainJob, Katib trial templates),
on the committed generated files, and on the Helm chart rendered with default and non-default
values. The KFP pipeline's executor pods get their securityContext from the KFP backend (the
pipeline IR and kfp-kubernetes 1.5 cannot carry one): for them only what the YAML can say is checked.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from astrobio.kube.render.images import IMAGE_HOME
from astrobio.kube.render.pytorchjob import render_pytorchjob
from astrobio.kube.render.trainjob import effective_pod_template, render_trainjob
from astrobio.catalog import component_names
from astrobio.tune.katib_backend import render_experiment
from astrobio.tune.load import load_tune_config
from tests.chart.helpers import VALUE_SETS, all_enabled, render
from tests.chart.test_rbac import LAUNCHER_RULES, UPLOAD_RULES
from tests.kube.conftest import VARIANTS, variant
from tests.kube.operator_pods import operator_pods
from tests.kube.pod_standards import restricted_problems

ROOT = Path(__file__).resolve().parents[2]
TRAINING_WRITABLE = {"/tmp", IMAGE_HOME, "/workspace"}
CHART_VALUES = {**VALUE_SETS, "all-enabled": all_enabled(), "cluster-wide": {"rbac": {"clusterWide": True}},
                "external-store": {"storage": {"endpoint": "http://s3.example:9000", "accessKey": "a", "secretKey": "b"},
                                   "nodeSelector": {"pool": "cpu"}, "image": {"pullPolicy": "Always"}, **all_enabled()}}
TRAINJOB_MARK = "x-trainjob"
DANGEROUS_VERBS = {"*", "escalate", "bind", "impersonate"}
DANGEROUS_RESOURCES = {"*", "secrets", "roles", "rolebindings", "clusterroles", "clusterrolebindings", "nodes",
                       "pods/exec", "pods/attach", "pods/portforward", "serviceaccounts/token", "persistentvolumes"}

STORAGE_SECRET_READ = {"apiGroups": [""], "resources": ["secrets"], "resourceNames": ["astrobio-storage"],
                       "verbs": ["get"]}
"""The one Secret rule allowed: `get` of the storage Secret by name, which pre-submit checks read for
its keys (kube/submission/preflight.py). The training pods of the same service account already receive its
values through secretKeyRef, so this exposes nothing new; any other Secret stays unreadable."""


def pod_templates(obj: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(where, pod template spec) of every pod the object would create."""
    kind, name = obj["kind"], obj["metadata"].get("name", "?")
    if kind == "PyTorchJob":
        for pod in operator_pods(obj):
            yield f"{kind}/{pod.name}", pod.spec
    elif kind == "TrainJob":
        yield f"{kind}/{name}", {**effective_pod_template(obj)["spec"], TRAINJOB_MARK: True}
    elif kind == "Experiment":
        trial = obj["spec"]["trialTemplate"]["trialSpec"]
        for where, spec in pod_templates({**trial, "metadata": {"name": f"{name}-trial"}}):
            yield f"{kind}/{where}", spec
    elif kind in ("Deployment", "Job"):
        yield f"{kind}/{name}", obj["spec"]["template"]["spec"]


def pod_problems(spec: dict[str, Any], writable: set[str] = frozenset({"/tmp"})) -> list[str]:
    """Every way the pod spec falls short of the lockdown (empty = compliant). A TrainJob's pod
    cannot say automountServiceAccountToken (RuntimePatches has no such field): unset there means
    the ServiceAccount decides, and the chart's says false (test_service_account_mounts_no_token)."""
    pod = spec.get("securityContext") or {}
    problems = [f"restricted: {p}" for p in restricted_problems(spec)]
    problems += [f"{key} set" for key in ("hostNetwork", "hostPID", "hostIPC") if spec.get(key)]
    token = spec.get("automountServiceAccountToken", "unset" if spec.get(TRAINJOB_MARK) else None)
    if token not in (False, "unset"):
        problems.append("service-account token mounted")
    empty_dirs = {v["name"] for v in spec.get("volumes", []) if "emptyDir" in v}
    problems += [f"hostPath volume {v['name']}" for v in spec.get("volumes", []) if "hostPath" in v]
    for c in [*spec.get("initContainers", []), *spec["containers"]]:
        sc, name = c.get("securityContext") or {}, c["name"]

        def either(key: str) -> Any:
            return sc.get(key, pod.get(key))

        if either("runAsNonRoot") is not True:
            problems.append(f"{name}: runAsNonRoot not true")
        if not isinstance(either("runAsUser"), int) or either("runAsUser") == 0:
            problems.append(f"{name}: no non-zero runAsUser")
        if (either("seccompProfile") or {}).get("type") != "RuntimeDefault":
            problems.append(f"{name}: seccompProfile not RuntimeDefault")
        if sc.get("allowPrivilegeEscalation") is not False:
            problems.append(f"{name}: allowPrivilegeEscalation not false")
        if sc.get("privileged"):
            problems.append(f"{name}: privileged")
        caps = sc.get("capabilities") or {}
        if "ALL" not in caps.get("drop", []) or caps.get("add"):
            problems.append(f"{name}: capabilities not drop ALL / add none")
        if sc.get("readOnlyRootFilesystem") is not True:
            problems.append(f"{name}: root filesystem writable")
        mounted = {m["mountPath"] for m in c.get("volumeMounts", []) if m["name"] in empty_dirs}
        problems += [f"{name}: {path} not an emptyDir (read-only root)" for path in sorted(writable - mounted)]
    return problems


def _tally(fault_table, fault: str, objects: list[tuple[str, dict[str, Any]]], writable: set[str],
           extra: str = "") -> None:
    bad = {where: pod_problems(spec, writable) for where, spec in objects}
    bad = {where: p for where, p in bad.items() if p}
    assert objects and not bad, bad
    fault_table.record(fault, trials=len(objects), survived=len(objects) - len(bad), data_lost=0,
                       detail=f"{len(objects)} pods compliant, operator-injected containers included{extra}")


def test_rendered_training_pods_are_locked_down(fault_table):
    objects = []
    for scale in VARIANTS:
        cfg = variant(scale)
        for component in component_names():
            objects += pod_templates(render_pytorchjob(cfg, component))
            if scale != "elastic":
                objects += pod_templates(render_trainjob(cfg, component))
    for path in sorted((ROOT / "configs").glob("tune-*.yaml")):
        objects += pod_templates(render_experiment(load_tune_config(path)))
    _tally(fault_table, "pod security: rendered PyTorchJob/TrainJob/Katib trials", objects, TRAINING_WRITABLE,
           f" ({len(VARIANTS)} scales x {len(component_names())} components, tune configs)")


def test_committed_generated_files_are_locked_down(fault_table):
    files = [*sorted((ROOT / "manifests").rglob("*.yaml")),
             *sorted((ROOT / "charts" / "astrobio" / "files").glob("*/*.yaml"))]
    objects = [pt for f in files for doc in yaml.safe_load_all(f.read_text()) if doc and "kind" in doc
               for pt in pod_templates(doc)]
    _tally(fault_table, "pod security: manifests/ and chart files/", objects, TRAINING_WRITABLE,
           f" in {len(files)} files")


def test_chart_pods_are_locked_down_with_any_values(fault_table):
    objects = []
    for values in CHART_VALUES.values():
        for obj in render(values):
            for where, spec in pod_templates(obj):
                training = obj["kind"] in ("PyTorchJob", "Experiment")
                objects.append((where, spec, TRAINING_WRITABLE if training else {"/tmp"}))
    bad = {w: p for w, s, wr in objects if (p := pod_problems(s, wr))}
    assert objects and not bad, bad
    fault_table.record("pod security: helm chart (default + non-default values)", trials=len(objects),
                       survived=len(objects) - len(bad), data_lost=0,
                       detail=f"{len(objects)} pods over {len(CHART_VALUES)} value sets compliant")


def test_a_weakened_pod_is_caught():
    """The checker itself: each weakening of a compliant spec is reported."""
    (_, good), *_ = pod_templates(render_pytorchjob(variant("cpu"), "graph_vae"))
    assert pod_problems(good, TRAINING_WRITABLE) == []

    def weakened(change) -> list[str]:
        spec = copy.deepcopy(good)
        change(spec)
        return pod_problems(spec, TRAINING_WRITABLE)

    c = lambda s: s["containers"][0]["securityContext"]  # noqa: E731
    assert weakened(lambda s: c(s).update(readOnlyRootFilesystem=False)) == ["pytorch: root filesystem writable"]
    assert weakened(lambda s: c(s).update(runAsUser=0)) == [
        'restricted: runAsUser=0 (container "pytorch" must not set runAsUser=0)', "pytorch: no non-zero runAsUser"]
    assert weakened(lambda s: c(s)["capabilities"].update(add=["NET_ADMIN"]))
    assert weakened(lambda s: s["containers"][0]["volumeMounts"].pop(-1)) == [f"pytorch: {IMAGE_HOME} not an emptyDir (read-only root)"]
    assert weakened(lambda s: s.update(hostNetwork=True)) == ["restricted: host namespaces (hostNetwork=true)", "hostNetwork set"]
    assert weakened(lambda s: c(s).pop("allowPrivilegeEscalation")) == [
        'restricted: allowPrivilegeEscalation != false (container "pytorch" must set '
        'securityContext.allowPrivilegeEscalation=false)', "pytorch: allowPrivilegeEscalation not false"]


def test_service_account_mounts_no_token():
    for values in CHART_VALUES.values():
        launcher = [d for d in render(values) if d["kind"] == "ServiceAccount"
                    and d["metadata"]["name"] == "astrobio-launcher"]
        assert launcher and all(sa["automountServiceAccountToken"] is False for sa in launcher)


def test_kfp_executors_carry_only_secret_references(fault_table):
    """Pipeline pods: securityContext is the KFP backend's (not expressible in the IR); what the
    YAML does say must be safe: Secrets only by reference, no host paths, no privileged flags; the
    downward API exposes only the step pod's own name, namespace and uid (so its PyTorchJob lands in
    its namespace and is owned by it)."""
    docs = [d for d in yaml.safe_load_all((ROOT / "pipelines" / "astrobio-five-phase.yaml").read_text()) if d]
    platform = next(d for d in docs if "platforms" in d)["platforms"]["kubernetes"]["deploymentSpec"]["executors"]
    text = yaml.safe_dump(platform)
    allowed = {"imagePullPolicy", "secretAsEnv", "tolerations", "nodeSelector", "podMetadata", "configMapAsEnv",
               "configMapAsVolume", "emptyDirMounts", "activeDeadlineSeconds", "fieldPathAsEnv"}
    own_pod = {"metadata.name", "metadata.namespace", "metadata.uid"}
    bad = [name for name, ex in platform.items()
           if set(ex) - allowed or {f["fieldPath"] for f in ex.get("fieldPathAsEnv", [])} - own_pod]
    assert platform and not bad and "hostPath" not in text and "privileged" not in text, bad
    refs = [k for ex in platform.values() for s in ex.get("secretAsEnv", []) for k in s["keyToEnv"]]
    assert refs and all(set(k) == {"envVar", "secretKey"} for k in refs)
    fault_table.record("pod security: KFP executors (YAML-expressible part)", trials=len(platform),
                       survived=len(platform) - len(bad), data_lost=0,
                       detail=f"{len(platform)} executors: secrets by reference only ({len(refs)} refs), no host access; "
                              "securityContext comes from the KFP backend")


def test_rbac_is_least_privilege(fault_table):
    roles = 0
    for values in CHART_VALUES.values():
        docs = render(values)
        names = set()
        for role in (d for d in docs if d["kind"] in ("Role", "ClusterRole")):
            roles += 1
            names.add(role["metadata"]["name"])
            for rule in role["rules"]:
                assert not DANGEROUS_VERBS & set(rule["verbs"]), rule
                assert not DANGEROUS_RESOURCES & set(rule["resources"]) or rule == STORAGE_SECRET_READ, rule
                assert "*" not in rule["apiGroups"] and "nonResourceURLs" not in rule
            assert role["rules"] in (LAUNCHER_RULES, UPLOAD_RULES), role["rules"]
        for binding in (d for d in docs if d["kind"] in ("RoleBinding", "ClusterRoleBinding")):
            assert binding["roleRef"]["name"] in names  # binds only the chart's own roles
            assert {s["kind"] for s in binding["subjects"]} == {"ServiceAccount"}
    assert roles
    fault_table.record("rbac: least privilege (chart roles)", trials=roles, survived=roles, data_lost=0,
                       detail=f"{roles} Role/ClusterRole over {len(CHART_VALUES)} value sets: exact rules, "
                              "no wildcard/exec/escalate/bind/impersonate, no Secret but the storage "
                              "Secret by name (get)")
