"""Kubernetes names and label values derived from component names and run ids.

The API server rejects a PyTorchJob whose name is not a DNS-1035 label, and the operator derives
pod and service names from it (`<job>-worker-<i>`), so a valid job name must leave room for those
suffixes. Run ids allow upper case, dots, underscores and 128 characters: they are folded here
rather than rejected, with a short hash so two long ids never fold to the same name.
"""

from __future__ import annotations

import hashlib
import re

from astrobio import __version__

JOB_NAME_MAX = 46
"""Longest job name: leaves room for `-worker-<index>` pods/services and TrainJob's `-node-0-0`
under the 63-character DNS label limit."""

LABEL_VALUE_MAX = 63
_DNS_1035 = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
APP_NAME = "astrobio"


def dashed(component: str) -> str:
    """`graph_vae` -> `graph-vae`: the form used in object and file names."""
    return component.replace("_", "-")


def _short_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:6]


def _fold(text: str) -> str:
    """Lower case, anything outside [a-z0-9-] becomes '-', runs of '-' collapse, ends trimmed."""
    folded = re.sub(r"[^a-z0-9-]+", "-", text.lower())
    return re.sub(r"-{2,}", "-", folded).strip("-")


def job_name(component: str, run_id: str | None = None) -> str:
    """`astrobio-<component>[-<run_id>]`, a DNS-1035 label of at most JOB_NAME_MAX characters."""
    full = f"{APP_NAME}-{_fold(dashed(component))}"
    if run_id:
        full = f"{full}-{_fold(run_id)}".rstrip("-")
    if len(full) > JOB_NAME_MAX:
        digest = _short_hash(f"{component}/{run_id}")
        full = f"{full[: JOB_NAME_MAX - len(digest) - 1].rstrip('-')}-{digest}"
    assert is_dns_1035(full), full
    return full


def label_value(text: str) -> str:
    """`text` as a valid label value (at most 63 characters, alphanumeric ends)."""
    value = re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-_.")
    if len(value) > LABEL_VALUE_MAX:
        digest = _short_hash(text)
        value = f"{value[: LABEL_VALUE_MAX - len(digest) - 1].rstrip('-_.')}-{digest}"
    assert _LABEL_VALUE.match(value), value
    return value


def is_dns_1035(name: str) -> bool:
    """What the training operator's webhook requires of a job name."""
    return len(name) <= 63 and bool(_DNS_1035.match(name))


def standard_labels(component: str, run_id: str) -> dict[str, str]:
    """Labels on every object and pod astrobio renders, so `kubectl get -l` finds a run's pieces:
    the Helm chart's `app.kubernetes.io/*` set less what only an install knows (instance,
    managed-by, which the chart adds to the objects it ships)."""
    return {
        "app.kubernetes.io/name": APP_NAME,
        "app.kubernetes.io/component": label_value(component),
        "app.kubernetes.io/part-of": APP_NAME,
        "app.kubernetes.io/version": label_value(__version__),
        "astrobio.dev/run-id": label_value(run_id),
    }
