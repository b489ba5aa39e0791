"""Least privilege: exactly the rules the launcher and the pipeline upload need; nothing cluster-wide by default."""

from __future__ import annotations

import pytest

from .helpers import VALUE_SETS, of_kind, render

LAUNCHER_RULES = [
    {"apiGroups": ["kubeflow.org"], "resources": ["pytorchjobs", "experiments", "trials"],
     "verbs": ["create", "get", "list", "watch", "delete"]},
    {"apiGroups": ["kubeflow.org"], "resources": ["pytorchjobs/status", "experiments/status", "trials/status"],
     "verbs": ["get"]},
    {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": [""], "resources": ["pods/log"], "verbs": ["get"]},
    {"apiGroups": [""], "resources": ["namespaces"], "resourceNames": ["astrobio"], "verbs": ["get"]},
    {"apiGroups": [""], "resources": ["secrets"], "resourceNames": ["astrobio-storage"], "verbs": ["get"]},
]
RUNNER_RULES = [
    {"apiGroups": [""], "resources": ["secrets"], "resourceNames": ["astrobio-storage"], "verbs": ["get"]},
    {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch", "patch"]},
    {"apiGroups": [""], "resources": ["pods/log"], "verbs": ["get"]},
    {"apiGroups": ["argoproj.io"], "resources": ["workflows"], "verbs": ["get", "list", "watch", "update", "patch"]},
    {"apiGroups": ["argoproj.io"], "resources": ["workflowtaskresults"], "verbs": ["create", "patch"]},
    {"apiGroups": ["kubeflow.org"], "resources": ["pytorchjobs"], "verbs": ["create", "get", "list", "watch", "delete"]},
    {"apiGroups": ["kubeflow.org"], "resources": ["pytorchjobs/status"], "verbs": ["get"]},
]
KFP_PIPELINE_RUNNER = {
    ("", "secrets"): {"get"}, ("", "configmaps"): {"get", "watch", "list"}, ("", "pods"): {"*"},
    ("", "pods/log"): {"*"}, ("argoproj.io", "workflows"): {"get", "list", "watch", "update", "patch"},
    ("argoproj.io", "workflowtaskresults"): {"create", "patch"}, ("kubeflow.org", "*"): {"*"},
}
"""The rules of KFP's own `pipeline-runner` Role these come from (kubeflow/pipelines
manifests/kustomize/base/pipeline/pipeline-runner-role.yaml, read at 2.5.0 and master)."""
UPLOAD_RULES = [{"apiGroups": ["pipelines.kubeflow.org"], "resources": ["pipelines", "pipelines/versions"],
                 "verbs": ["create", "get", "list"]}]


def _roles(docs):
    return {d["metadata"]["name"]: d for d in docs if d["kind"] in ("Role", "ClusterRole")}


def test_namespaced_roles_have_exactly_the_needed_rules():
    docs = render()
    roles = _roles(docs)
    assert set(roles) == {"astrobio-launcher", "astrobio-pipeline-upload"}  # no runner unless asked
    assert all(r["kind"] == "Role" and r["metadata"]["namespace"] == "astrobio" for r in roles.values())
    assert roles["astrobio-launcher"]["rules"] == LAUNCHER_RULES
    assert roles["astrobio-pipeline-upload"]["rules"] == UPLOAD_RULES
    assert of_kind(docs, "ClusterRole") == [] and of_kind(docs, "ClusterRoleBinding") == []
    bindings = {b["metadata"]["name"]: b for b in of_kind(docs, "RoleBinding")}
    assert bindings["astrobio-launcher"]["subjects"] == [
        {"kind": "ServiceAccount", "name": "astrobio-launcher", "namespace": "astrobio"}]
    assert bindings["astrobio-launcher"]["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                                                        "name": "astrobio-launcher"}
    assert bindings["astrobio-pipeline-upload"]["subjects"][0]["name"] == "astrobio-pipeline-upload"


@pytest.mark.parametrize("which", sorted(VALUE_SETS))
def test_no_wildcards_anywhere(which):
    for role in _roles(render(VALUE_SETS[which])).values():
        for rule in role["rules"]:
            for field in ("apiGroups", "resources", "verbs"):
                assert "*" not in rule.get(field, []), (role["metadata"]["name"], rule)
            if "secrets" in rule["resources"]:  # KFP's launcher reads the storage Secret's keys by name
                assert rule["verbs"] == ["get"] and rule["resourceNames"] == ["astrobio-storage"], rule


def test_cluster_wide_only_when_asked():
    docs = render({"rbac": {"clusterWide": True}})
    (role,) = of_kind(docs, "ClusterRole")
    assert role["rules"] == LAUNCHER_RULES and "namespace" not in role["metadata"]
    (binding,) = of_kind(docs, "ClusterRoleBinding")
    assert binding["roleRef"]["kind"] == "ClusterRole"
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "astrobio-launcher", "namespace": "astrobio"}]
    assert "astrobio-launcher" not in {r["metadata"]["name"] for r in of_kind(docs, "Role")}


def test_rbac_and_service_account_can_be_left_to_the_cluster_admin():
    docs = render({"rbac": {"create": False}, "serviceAccount": {"create": False}})
    assert not [d for d in docs if d["kind"] in ("Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding")]
    assert [d["metadata"]["name"] for d in of_kind(docs, "ServiceAccount")] == ["astrobio-pipeline-upload"]


def test_pipeline_runner_is_token_mounted_with_kfps_runner_rules_and_pytorchjobs():
    """Item 1 of the KFP issue: step pods call the API server (KFP driver/launcher, Argo executor, the
    astrobio launcher), so the runner's token is mounted, unlike astrobio-launcher's."""
    docs = render({"pipelineRunner": {"create": True, "name": "ab-runner"}, "rbac": {"clusterWide": True}})
    accounts = {a["metadata"]["name"]: a for a in of_kind(docs, "ServiceAccount")}
    assert accounts["ab-runner"]["automountServiceAccountToken"] is True
    assert accounts["astrobio-launcher"]["automountServiceAccountToken"] is False
    runner = _roles(docs)["ab-runner"]
    assert runner["kind"] == "Role" and runner["metadata"]["namespace"] == "astrobio"  # never cluster-wide
    assert runner["rules"] == RUNNER_RULES
    binding = {b["metadata"]["name"]: b for b in of_kind(docs, "RoleBinding")}["ab-runner"]
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "ab-runner", "namespace": "astrobio"}]
    assert binding["roleRef"]["name"] == "ab-runner"


def test_runner_rules_stay_within_kfps_pipeline_runner():
    for rule in RUNNER_RULES:
        for group in rule["apiGroups"]:
            for resource in rule["resources"]:
                allowed = KFP_PIPELINE_RUNNER.get((group, resource)) or KFP_PIPELINE_RUNNER.get((group, "*"))
                assert allowed, (group, resource)
                assert "*" in allowed or set(rule["verbs"]) <= allowed, (group, resource, rule["verbs"])
    verbs = {v for r in RUNNER_RULES if "pytorchjobs" in r["resources"] for v in r["verbs"]}
    assert {"create", "get", "watch", "delete"} <= verbs
