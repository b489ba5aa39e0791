"""RBAC from what the code really does: the API server's audit log records every request astrobio's
code makes (the `astrobio-cli` token; plane.py AUDIT_POLICY), and a SubjectAccessReview asks whether
the service account the chart gives that code may make each of them."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from astrobio.config import load_config
from astrobio.kube.submission.submit import submit_train
from astrobio.tune.katib_backend import submit_experiment
from astrobio.tune.load import load_tune_config

from .jobs import ROOT, TINY, finish_all, in_thread
from .kubeapi import create, dynamic
from .plane import CODE_USER

pytestmark = pytest.mark.cluster


def recorded_requests(audit_log: Path, namespace: str, offset: int = 0) -> set[tuple[str, str, str, str, str, str]]:
    """(verb, apiGroup, resource, subresource, path, name) of the code's requests in `namespace` (path
    for non-resource requests such as discovery; the object's name, so rules limited to named objects,
    e.g. the storage Secret, are judged as the API server judged the real request). Only events after
    byte `offset` count: the log is shared by every cluster test (doctor's cluster-scoped reads, made
    with a person's kubeconfig, are not the launcher's)."""
    seen = set()
    with audit_log.open("rb") as log:
        log.seek(offset)
        lines = log.read().decode().splitlines()
    for line in lines:
        event = json.loads(line)
        if event["user"]["username"] != CODE_USER:
            continue
        ref = event.get("objectRef")
        if ref is None:
            seen.add((event["verb"], "", "", "", event["requestURI"].split("?")[0], ""))
        elif ref.get("namespace") in (namespace, None):
            seen.add((event["verb"], ref.get("apiGroup", ""), ref["resource"], ref.get("subresource", ""), "",
                      ref.get("name", "")))
    return seen


def allowed(admin: Any, user: str, groups: list[str], namespace: str, req: tuple[str, ...]) -> bool:
    from kubernetes import client as k8s

    verb, group, resource, sub, path, name = req
    spec: dict[str, Any] = {"user": user, "groups": groups}
    if path:
        spec["nonResourceAttributes"] = {"verb": verb, "path": path}
    else:
        spec["resourceAttributes"] = {"verb": verb, "group": group, "resource": resource, "subresource": sub,
                                      "namespace": namespace, "name": name}
    review = k8s.AuthorizationV1Api(admin).create_subject_access_review(
        {"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview", "spec": spec})
    return bool(review.status.allowed)


def test_chart_launcher_may_make_every_request_the_code_makes(plane, admin, restricted_ns, code_kubeconfig):
    from kubernetes import client as k8s
    from tests.chart.helpers import render

    offset = plane.audit_log.stat().st_size
    ns = restricted_ns("rbac", launcher=False)
    dyn = dynamic(admin)
    docs = render({}, namespace=ns)
    for doc in docs:
        create(dyn, doc, ns)
    launcher = next(d["metadata"]["name"] for d in docs if d["kind"] == "ServiceAccount"
                    and any(s.get("name") == d["metadata"]["name"] for rb in docs if rb["kind"] == "RoleBinding"
                            for s in rb.get("subjects", [])) and "launcher" in d["metadata"]["name"])
    env = {"KUBECONFIG": str(code_kubeconfig)}
    cfg = load_config(ROOT / "configs" / "smoke.yaml", [*TINY, "kube.workers=0", "run.run_id=rbac1",
                                                        "store.uri=s3://bucket/astro"])
    thread, out = in_thread(submit_train, cfg, "graph_vae", ns, env=env, poll_s=1, note=lambda _: None)
    finish_all(k8s.CoreV1Api(admin), ns, "astrobio-graph-vae-rbac1", 1)
    thread.join(120)
    assert out.get("result"), out
    tc = load_tune_config(ROOT / "configs" / "tune-graph-vae.yaml", [f"kube.namespace={ns}"])
    submit_experiment(tc, False, env=env, note=lambda _: None)
    time.sleep(0.5)
    requests = recorded_requests(plane.audit_log, ns, offset)
    assert {("create", "kubeflow.org", "pytorchjobs", "", ""), ("get", "kubeflow.org", "pytorchjobs", "", "")} <= {r[:5] for r in requests}
    user = f"system:serviceaccount:{ns}:{launcher}"
    groups = ["system:serviceaccounts", f"system:serviceaccounts:{ns}", "system:authenticated"]
    denied = sorted(r for r in requests if not allowed(admin, user, groups, ns, r))
    assert not denied, f"{user} lacks RBAC for requests the code makes: {denied}"
