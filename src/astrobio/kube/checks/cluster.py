"""The namespace, operator and RBAC lines of `astrobio doctor`, and the checks `submit` runs first.

Each function turns a probe's answers into one `Check` (pass/fail/warn with the fix), so the same
verdicts serve the doctor report and the pre-submit refusal, and both are testable without a cluster.

- Pod Security: the namespace's `pod-security.kubernetes.io/enforce` level. astrobio's pods meet
  `restricted`, except in `kube.layout: master-worker`, where the Training Operator v1.9 adds a
  non-compliant `init-pytorch` container to every Worker (docs/CONTROL_PLANE.md).
- Katib injects its metrics collector only into namespaces labelled
  `katib.kubeflow.org/metrics-collector-injection: enabled`; without it no trial reports a metric.
- The Training Operator: the PyTorchJob CRD serves v1 and is Established, and the operator itself
  (its validating webhook or Deployment) is installed; a CRD without a controller leaves jobs idle.
- Katib's metrics-collector sidecar carries a securityContext (a copy of the training container's)
  only when Katib runs with `injectSecurityContext: true`; in a `restricted` namespace every trial's
  primary pod is refused without it (kubeflow/katib v0.19.0 `pkg/webhook/v1beta1/pod/inject_webhook.go`).
- RBAC: a SelfSubjectAccessReview for each API call astrobio makes as this identity.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from astrobio.config import AstrobioConfig
from astrobio.kube.checks.check import Check, existing_or_check, probe_or_warn
from astrobio.kube.checks.probe import ClusterProbe, ProbeError
from astrobio.store.settings import ACCESS_KEY_VARS, ENDPOINT_VARS, SECRET_KEY_VARS

PSA_ENFORCE = "pod-security.kubernetes.io/enforce"
KATIB_LABEL = "katib.kubeflow.org/metrics-collector-injection"
PYTORCHJOB_CRD = ("pytorchjobs.kubeflow.org", "v1")
CRDS: tuple[tuple[str, bool, str], ...] = (  # the PyTorchJob CRD is part of the training-operator check
    ("experiments.kubeflow.org", True, "install Katib (needed by `astrobio tune --backend katib`)"),
    ("trainjobs.trainer.kubeflow.org", False, "install Kubeflow Trainer v2 (only for --api trainjob)"),
)
SECRET_KEYS = (ENDPOINT_VARS[0], ACCESS_KEY_VARS[0], SECRET_KEY_VARS[0])
OPERATOR_INSTALL = ("install the Kubeflow Training Operator v1.9: kubectl apply --server-side -k "
                    '"github.com/kubeflow/training-operator.git/manifests/overlays/standalone?ref=v1.9.0"')


@dataclass(frozen=True)
class Access:
    """One API call astrobio makes, and what needs it."""

    verb: str
    group: str
    resource: str
    used_by: str
    required: bool = True
    subresource: str = ""

    def __str__(self) -> str:
        res = f"{self.resource}/{self.subresource}" if self.subresource else self.resource
        return f"{self.verb} {res}{'.' + self.group if self.group else ''}"


ACCESS: tuple[Access, ...] = (
    Access("get", "kubeflow.org", "pytorchjobs", "submit (existing-job check, wait), KFP launcher"),
    Access("create", "kubeflow.org", "pytorchjobs", "submit, KFP launcher"),
    Access("create", "kubeflow.org", "experiments", "tune --backend katib"),
    Access("get", "", "namespaces", "submit's namespace checks", required=False),
    Access("get", "", "secrets", "submit's storage Secret check", required=False),
    Access("get", "trainer.kubeflow.org", "trainjobs", "submit --api trainjob", required=False),
    Access("create", "trainer.kubeflow.org", "trainjobs", "submit --api trainjob", required=False),
)


def restricted_safe(cfg: AstrobioConfig) -> bool:
    """False when the operator would inject a non-compliant init container (Master beside Workers)."""
    kube = cfg.kube
    return not (kube.layout == "master-worker" and kube.workers > 0)


def pod_security_check(cfg: AstrobioConfig, labels: dict[str, str]) -> Check:
    ns = cfg.kube.namespace
    level = labels.get(PSA_ENFORCE)
    if level == "restricted" and not restricted_safe(cfg):
        return Check("pod-security", "fail",
                     f"{ns} enforces restricted; kube.layout=master-worker gets Workers an operator-injected "
                     "init-pytorch container that restricted refuses", "set kube.layout=auto (Worker-only c10d jobs)")
    if level is None:
        return Check("pod-security", "pass", f"{ns}: no {PSA_ENFORCE} label (the cluster default applies); "
                                             "astrobio's pods meet restricted")
    return Check("pod-security", "pass", f"{ns}: enforce={level}; astrobio's pods meet it")


def katib_label_check(cfg: AstrobioConfig, labels: dict[str, str]) -> Check:
    ns = cfg.kube.namespace
    if labels.get(KATIB_LABEL) == "enabled":
        return Check("katib-metrics", "pass", f"{ns} has {KATIB_LABEL}=enabled")
    found = f"={labels[KATIB_LABEL]}" if KATIB_LABEL in labels else " unset"
    return Check("katib-metrics", "fail", f"{ns}: {KATIB_LABEL}{found}, so Katib collects no trial metrics",
                 f"kubectl label namespace {ns} {KATIB_LABEL}=enabled")


def namespace_checks(cfg: AstrobioConfig, probe: ClusterProbe) -> list[Check]:
    """namespace, pod-security, katib-metrics (the last two only when the namespace exists)."""
    ns = cfg.kube.namespace
    labels = probe_or_warn("namespace", lambda: probe.namespace_labels(ns), f"kubectl create namespace {ns}")
    if isinstance(labels, Check):
        return [labels]
    if labels is None:
        return [Check("namespace", "fail", f"{ns} does not exist", f"kubectl create namespace {ns}")]
    checks = [Check("namespace", "pass", ns), pod_security_check(cfg, labels), katib_label_check(cfg, labels)]
    if labels.get(PSA_ENFORCE) == "restricted":
        checks.append(katib_security_check(probe))
    return checks


def katib_security_check(probe: ClusterProbe) -> Check:
    """In a `restricted` namespace: does Katib give its collector sidecar a securityContext?"""
    fix = ("set init.controller.injectSecurityContext: true in ConfigMap kubeflow/katib-config (katib-config.yaml) "
           "and restart katib-controller")
    inject = probe_or_warn("katib-security", probe.katib_injects_security_context, fix)
    if isinstance(inject, Check):
        return inject
    if inject is None:
        return Check("katib-security", "warn", "no ConfigMap kubeflow/katib-config: cannot tell whether Katib's "
                                               "collector sidecar meets restricted", fix)
    if not inject:
        return Check("katib-security", "fail", "Katib injects its collector sidecar without a securityContext: "
                                               "restricted refuses every trial's primary pod", fix)
    return Check("katib-security", "pass", "Katib copies the training container's securityContext to its sidecar")


def operator_check(probe: ClusterProbe) -> Check:
    crd, version = PYTORCHJOB_CRD
    served = probe_or_warn("training-operator", lambda: probe.crd_served(crd, version), OPERATOR_INSTALL)
    if isinstance(served, Check):
        return served
    if served is None:
        return Check("training-operator", "fail", f"CRD {crd} not installed", OPERATOR_INSTALL)
    if not served:
        return Check("training-operator", "fail", f"CRD {crd} does not serve {version} (or is not Established)",
                     OPERATOR_INSTALL)
    where = probe_or_warn("training-operator", probe.operator_presence, OPERATOR_INSTALL)
    if isinstance(where, Check):
        return Check("training-operator", "warn", f"CRD {crd} serves {version}; operator {where.detail}", where.fix)
    if where is None:
        return Check("training-operator", "fail", f"CRD {crd} serves {version} but no operator runs "
                                                  "(no webhook, no kubeflow/training-operator Deployment): jobs would stay idle",
                     OPERATOR_INSTALL)
    return Check("training-operator", "pass", f"CRD {crd} serves {version}; {where}")


def rbac_check(cfg: AstrobioConfig, probe: ClusterProbe) -> Check:
    """One line over every call in ACCESS: fail for a required one denied, warn for an optional one."""
    ns, sa = cfg.kube.namespace, cfg.kube.service_account
    denied: list[Access] = []
    for access in ACCESS:
        allowed = probe_or_warn("rbac", lambda a=access: probe.can_i(a.verb, a.group, a.resource, ns, a.subresource), "")
        if isinstance(allowed, Check):
            return Check("rbac", "warn", f"could not ask (SelfSubjectAccessReview): {allowed.detail}",
                         "check the kubeconfig's user can create selfsubjectaccessreviews")
        if not allowed:
            denied.append(access)
    fix = (f"bind this identity to the chart's Role (helm install with rbac.create=true binds service account {sa}) "
           f"or grant in namespace {ns}: " + ", ".join(str(a) for a in denied))
    required = [a for a in denied if a.required]
    if required:
        return Check("rbac", "fail", f"in {ns} this identity may not " + "; ".join(f"{a} ({a.used_by})" for a in required), fix)
    if denied:
        return Check("rbac", "warn", f"in {ns} this identity may not " + "; ".join(f"{a} ({a.used_by})" for a in denied), fix)
    return Check("rbac", "pass", f"in {ns} this identity may do all {len(ACCESS)} calls astrobio makes")


def cluster_checks(cfg: AstrobioConfig, probe: ClusterProbe) -> list[Check]:
    """API server, Training Operator, CRDs, namespace (Pod Security level, Katib label), service
    account, this identity's RBAC and the storage Secret."""
    kube = cfg.kube
    try:
        version = probe.server_version()
    except ProbeError as exc:
        return [Check("api-server", "fail", f"unreachable: {exc}", "check the kubeconfig context and network")]
    checks = [Check("api-server", "pass", f"Kubernetes {version}")]

    def ask(name: str, question: Callable[[], bool], ok: str, missing: str, fix: str, required: bool = True) -> None:
        found = probe_or_warn(name, question, fix)
        if isinstance(found, Check):
            checks.append(found)
        else:
            checks.append(Check(name, "pass", ok) if found else Check(name, "fail" if required else "warn", missing, fix))

    checks.append(operator_check(probe))
    for crd, required, fix in CRDS:
        ask(f"crd {crd}", lambda crd=crd: probe.crd_exists(crd), "installed", "not installed", fix, required)
    checks += namespace_checks(cfg, probe)
    ns, sa = kube.namespace, kube.service_account
    ask("service-account", lambda: probe.service_account_exists(ns, sa), f"{ns}/{sa}", f"{ns}/{sa} does not exist",
        f"helm install the astrobio chart, or kubectl -n {ns} create serviceaccount {sa}")
    checks.append(rbac_check(cfg, probe))
    checks.append(secret_check(cfg, probe))
    return checks


def secret_check(cfg: AstrobioConfig, probe: ClusterProbe) -> Check:
    ns, name = cfg.kube.namespace, cfg.kube.storage_secret
    fix = (f"kubectl -n {ns} create secret generic {name} "
           + " ".join(f"--from-literal={k}=..." for k in SECRET_KEYS))
    # every cluster pod writes to the s3:// cluster store (kube.store_uri), so the Secret is always needed
    keys = existing_or_check("storage-secret", lambda: probe.secret_keys(ns, name), f"{ns}/{name}", fix)
    if isinstance(keys, Check):
        return keys
    missing = [k for k in SECRET_KEYS if k not in keys]
    if missing:
        return Check("storage-secret", "fail", f"{ns}/{name} lacks {', '.join(missing)}", fix)
    return Check("storage-secret", "pass", f"{ns}/{name} has {', '.join(SECRET_KEYS)}")
