"""What `astrobio submit` and `astrobio tune --backend katib` check before they create anything.

The doctor's verdicts (kube.checks.cluster, shared with `astrobio doctor`), asked of the live cluster
just before the create: a missing namespace or storage Secret, a namespace Katib will not collect
metrics from, or a layout the namespace's Pod Security level refuses becomes one line naming the
setting and the fix (UsageError, exit 2); so does a `restricted` namespace whose Katib would inject a
non-compliant collector sidecar, and nothing is created. A question the cluster will not
answer (RBAC forbids reading Secrets, say) is a note, not a refusal: the create itself then decides.
"""

from __future__ import annotations

from collections.abc import Callable

from astrobio.config import AstrobioConfig
from astrobio.errors import UsageError
from astrobio.kube.checks.check import Check
from astrobio.kube.checks.cluster import namespace_checks, secret_check
from astrobio.kube.checks.probe import ClusterProbe

SETTING = {"namespace": "kube.namespace", "pod-security": "kube.layout", "katib-metrics": "kube.namespace",
           "katib-security": "katib-config", "storage-secret": "kube.storage_secret"}


def submit_checks(cfg: AstrobioConfig, probe: ClusterProbe, *, katib: bool) -> list[Check]:
    """Namespace (+ Pod Security level, + the Katib label when `katib`) and the storage Secret."""
    checks = [c for c in namespace_checks(cfg, probe) if katib or not c.name.startswith("katib-")]
    return [*checks, secret_check(cfg, probe)]


def refusal(check: Check) -> str:
    """`<setting>: <what was found> -> <fix>`, one line."""
    return f"{SETTING.get(check.name, check.name)}: {check.detail} -> {check.fix}"


def require_ready(cfg: AstrobioConfig, probe: ClusterProbe, *, katib: bool, note: Callable[[str], None]) -> None:
    """Raise UsageError on the first failed check; pass unanswered questions on as notes."""
    checks = submit_checks(cfg, probe, katib=katib)
    for check in checks:
        if check.status == "warn":
            note(f"note: {check.name}: {check.detail}")
    failed = [c for c in checks if c.status == "fail"]
    if failed:
        raise UsageError(refusal(failed[0]))
