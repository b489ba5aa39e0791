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
]
UPLOAD_RULES = [{"apiGroups": ["pipelines.kubeflow.org"], "resources": ["pipelines", "pipelines/versions"],
                 "verbs": ["create", "get", "list"]}]


def _roles(docs):
    return {d["metadata"]["name"]: d for d in docs if d["kind"] in ("Role", "ClusterRole")}


def test_namespaced_roles_have_exactly_the_needed_rules():
    docs = render()
    roles = _roles(docs)
    assert set(roles) == {"astrobio-launcher", "astrobio-pipeline-upload"}
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
            assert "secrets" not in rule["resources"]  # pods get the Secret by env reference, not through the API


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
