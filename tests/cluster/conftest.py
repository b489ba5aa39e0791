"""A real control plane for the `cluster` tests: etcd + kube-apiserver + kube-controller-manager +
the Kubeflow Training Operator (out of cluster, webhook at 127.0.0.1), CRDs from the package.

Started once per session, torn down by PID. Binaries come from `python -m tests.cluster.gobuild`
(cached by go.sum). Without them: CI (ASTROBIO_REQUIRE_CLUSTER=1) fails; elsewhere the cluster
tests are deselected and one line says how to get them, so the rest of the suite still runs.
"""

from __future__ import annotations

import os
import shutil
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from . import gobuild
from .operators import OPERATOR_CERT_DIR, install_crds, start_training_operator
from .plane import ControlPlane, start_control_plane

REQUIRE_ENV = "ASTROBIO_REQUIRE_CLUSTER"
LAUNCHER_SA = "astrobio-launcher"
STORAGE_SECRET = "astrobio-storage"
_NOT_RUN: list[str] = []
_REPORT: list[str] = []


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect the cluster tests (with one line) where the binaries are missing and CI does not require them."""
    gone = gobuild.missing()
    if not gone or os.environ.get(REQUIRE_ENV) == "1":
        return
    cluster = [item for item in items if item.get_closest_marker("cluster")]
    if cluster:
        config.hook.pytest_deselected(items=cluster)
        items[:] = [item for item in items if not item.get_closest_marker("cluster")]
        _NOT_RUN.append(gobuild.HOW_TO_GET.format(missing="missing " + ", ".join(gone)))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    for line in _NOT_RUN:
        terminalreporter.write_line(line, yellow=True)
    for line in _REPORT:
        terminalreporter.write_line(line)


@pytest.fixture(scope="package")
def plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
    """The running control plane with CRDs and the Training Operator; timings in `startup_s`.

    Package scope: it stops when the last cluster test is done, so the rest of the suite neither
    carries its memory nor sees its processes among pytest's children (tests/phases/test_interrupt.py
    forwards a SIGTERM to every descendant of the test process)."""
    gone = gobuild.missing()
    if gone:
        pytest.fail(gobuild.HOW_TO_GET.format(missing="missing " + ", ".join(gone)), pytrace=False)
    root = tmp_path_factory.mktemp("controlplane")
    # A SIGTERM (CI timeout, `timeout`) becomes KeyboardInterrupt, so the teardown below still stops
    # the processes it started: they run in their own sessions and would outlive pytest.
    previous = signal.signal(signal.SIGTERM, _interrupt)
    start = time.monotonic()
    plane = start_control_plane(root)
    try:
        admin = plane_client(plane)
        t = time.monotonic()
        install_crds(admin)
        plane.startup_s["crds"] = time.monotonic() - t
        plane.startup_s["training-operator"] = start_training_operator(plane, admin)
        plane.startup_s["total"] = time.monotonic() - start
        _REPORT.append("control plane start-up (s): " + ", ".join(f"{k} {v:.1f}" for k, v in plane.startup_s.items()))
        yield plane
    finally:
        plane.procs.stop_all()
        shutil.rmtree(OPERATOR_CERT_DIR, ignore_errors=True)
        signal.signal(signal.SIGTERM, previous)


def _interrupt(*_: Any) -> None:
    raise KeyboardInterrupt("SIGTERM")


def plane_client(plane: ControlPlane, token: str | None = None) -> Any:
    """A kubernetes ApiClient for the admin (default) or another token."""
    from kubernetes import config

    return config.new_client_from_config(config_file=str(plane.kubeconfig(token)))


@pytest.fixture(scope="package")
def admin(plane: ControlPlane) -> Any:
    return plane_client(plane)


@pytest.fixture(scope="package")
def code_kubeconfig(plane: ControlPlane) -> Path:
    """The kubeconfig the code under test uses: its requests are the ones the audit log records."""
    return plane.kubeconfig(plane.code_token, plane.root / "kubeconfig-code")


@pytest.fixture
def restricted_ns(admin: Any) -> Iterator[Callable[..., str]]:
    """Make a namespace enforcing Pod Security `restricted` (deleted after the test), labelled for
    Katib's metrics collector as the chart's NOTES ask. With `launcher`, it also holds what the chart
    and its NOTES put there on a cluster: the service account the jobs' pods run as
    (kube.service_account; without it the ServiceAccount admission plugin refuses them) and the storage
    Secret (kube.storage_secret; without it `astrobio submit` refuses, exit 2). Its endpoint is a
    placeholder: tests whose pods really reach a store overwrite it (jobs.put_secret)."""
    from kubernetes import client as k8s

    core = k8s.CoreV1Api(admin)
    made: list[str] = []

    def make(name: str, launcher: bool = True, katib: bool = True) -> str:
        labels = {"pod-security.kubernetes.io/enforce": "restricted",
                  "pod-security.kubernetes.io/enforce-version": "latest"}
        if katib:
            labels["katib.kubeflow.org/metrics-collector-injection"] = "enabled"
        core.create_namespace({"metadata": {"name": name, "labels": labels}})
        made.append(name)
        if launcher:
            core.create_namespaced_service_account(name, {"metadata": {"name": LAUNCHER_SA}})
            core.create_namespaced_secret(name, {"metadata": {"name": STORAGE_SECRET}, "stringData": {
                "ASTROBIO_S3_ENDPOINT": "http://127.0.0.1:9", "AWS_ACCESS_KEY_ID": "placeholder",
                "AWS_SECRET_ACCESS_KEY": "placeholder"}})
        return name

    yield make
    for name in made:
        core.delete_namespace(name)
