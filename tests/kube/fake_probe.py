"""A ClusterProbe answered from memory: what `astrobio doctor` and the pre-submit checks ask a cluster."""

from __future__ import annotations

from astrobio.kube.checks.probe import ProbeError

READY_LABELS = {"katib.kubeflow.org/metrics-collector-injection": "enabled",
                "pod-security.kubernetes.io/enforce": "restricted"}


class FakeProbe:
    def __init__(self, crds=("pytorchjobs.kubeflow.org", "experiments.kubeflow.org"), namespaces=None,
                 accounts=("astrobio-launcher",), secrets=None, forbidden=(), operator="webhook x",
                 denied=(), served=True, katib_sc=True):
        self.crds, self.accounts = set(crds), set(accounts)
        self.namespaces = {"astrobio": dict(READY_LABELS)} if namespaces is None else namespaces
        self.secrets = secrets if secrets is not None else {
            "astrobio-storage": {"ASTROBIO_S3_ENDPOINT", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}}
        self.forbidden, self.operator, self.denied, self.served = set(forbidden), operator, set(denied), served
        self.katib_sc = katib_sc

    def _guard(self, what):
        if what in self.forbidden:
            raise ProbeError("forbidden for this kubeconfig's user")

    def server_version(self):
        return "v1.30.2"

    def crd_exists(self, name):
        self._guard("crd")
        return name in self.crds

    def crd_served(self, name, version):
        self._guard("crd")
        return (self.served and version == "v1") if name in self.crds else None

    def operator_presence(self):
        self._guard("operator")
        return self.operator

    def namespace_labels(self, namespace):
        self._guard("namespace")
        return self.namespaces.get(namespace)

    def service_account_exists(self, namespace, name):
        return name in self.accounts

    def secret_keys(self, namespace, name):
        self._guard("secret")
        return self.secrets.get(name)

    def can_i(self, verb, group, resource, namespace, subresource=""):
        self._guard("review")
        return f"{verb} {resource}" not in self.denied

    def katib_injects_security_context(self):
        self._guard("katib-config")
        return self.katib_sc
