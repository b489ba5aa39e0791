"""`astrobio tune --backend katib` creates its Experiment through KatibClient on the real API server."""

from __future__ import annotations

import pytest

from astrobio.tune.katib_backend import render_experiment, submit_experiment
from astrobio.tune.load import load_tune_config

from .jobs import ROOT

pytestmark = pytest.mark.cluster


def contains(big: object, small: object) -> bool:
    """`small` is `big` with nothing removed (the server may only add defaults)."""
    if isinstance(small, dict):
        return isinstance(big, dict) and all(k in big and contains(big[k], v) for k, v in small.items())
    if isinstance(small, list):
        return isinstance(big, list) and len(big) == len(small) and all(map(contains, big, small))
    return big == small


def test_submit_creates_the_experiment_with_katib_client(admin, restricted_ns, code_kubeconfig):
    from kubernetes import client as k8s

    ns = restricted_ns("tune-submit")
    tc = load_tune_config(ROOT / "configs" / "tune-graph-vae.yaml", [f"kube.namespace={ns}"])
    line = submit_experiment(tc, False, env={"KUBECONFIG": str(code_kubeconfig)}, note=lambda _: None)
    assert line == f"created Experiment {ns}/tune-graph-vae; watch it: kubectl -n {ns} get experiment tune-graph-vae -w"
    stored = k8s.CustomObjectsApi(admin).get_namespaced_custom_object("kubeflow.org", "v1beta1", ns, "experiments",
                                                                      "tune-graph-vae")
    assert contains(stored["spec"], render_experiment(tc)["spec"])
