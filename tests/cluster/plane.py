"""etcd + kube-apiserver + kube-controller-manager on 127.0.0.1, as controller-runtime's envtest does,
plus the controller-manager (Job/ReplicaSet controllers, service-account tokens).

Flags are the ones docs/CONTROL_PLANE.md records as enough for kube-apiserver 1.36: RBAC, the
PodSecurity admission plugin, a static token file, a service-account key pair from pki.py. Two
tokens: `admin` (the harness) and `astrobio-cli` (the code under test), both system:masters; the
audit policy records only the second, so the RBAC test sees exactly what astrobio's code calls.
"""

from __future__ import annotations

import base64
import json
import secrets
import ssl
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from . import gobuild
from .pki import Pki, write_pki
from .processes import Processes, free_port

CODE_USER = "astrobio-cli"
ADMISSION = ("NamespaceLifecycle,LimitRanger,ServiceAccount,PodSecurity,ResourceQuota,"
             "MutatingAdmissionWebhook,ValidatingAdmissionWebhook,ValidatingAdmissionPolicy")
AUDIT_POLICY = {
    "apiVersion": "audit.k8s.io/v1", "kind": "Policy", "omitStages": ["RequestReceived"],
    "rules": [{"level": "Metadata", "users": [CODE_USER]}, {"level": "None"}],
}


@dataclass
class ControlPlane:
    root: Path
    pki: Pki
    url: str
    admin_token: str
    code_token: str
    audit_log: Path
    procs: Processes
    startup_s: dict[str, float]

    def kubeconfig(self, token: str | None = None, path: Path | None = None) -> Path:
        """A kubeconfig for the admin (default) or another token, CA-verified."""
        token = token or self.admin_token
        path = path or self.root / f"kubeconfig-{token[:8]}"
        path.write_text(json.dumps({
            "apiVersion": "v1", "kind": "Config", "current-context": "test",
            "clusters": [{"name": "test", "cluster": {
                "server": self.url, "certificate-authority-data": base64.b64encode(self.pki.ca.cert_pem).decode()}}],
            "contexts": [{"name": "test", "context": {"cluster": "test", "user": "u", "namespace": "default"}}],
            "users": [{"name": "u", "user": {"token": token}}],
        }))
        return path

    def get(self, path: str) -> tuple[int, str]:
        """GET `path` as admin (urllib, CA-verified): (status, body)."""
        ctx = ssl.create_default_context(cadata=self.pki.ca.cert_pem.decode())
        req = urllib.request.Request(self.url + path, headers={"Authorization": f"Bearer {self.admin_token}"})
        try:
            with urllib.request.urlopen(req, context=ctx, timeout=5) as resp:
                return resp.status, resp.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode(errors="replace")


def _etcd(procs: Processes, root: Path) -> str:
    client, peer = free_port(), free_port()
    url = f"http://127.0.0.1:{client}"
    procs.start("etcd", ["etcd", "--name=test", f"--data-dir={root / 'etcd'}", f"--listen-client-urls={url}",
                         f"--advertise-client-urls={url}", f"--listen-peer-urls=http://127.0.0.1:{peer}",
                         f"--initial-advertise-peer-urls=http://127.0.0.1:{peer}",
                         f"--initial-cluster=test=http://127.0.0.1:{peer}", "--log-level=warn"],
                env={"ETCD_UNSUPPORTED_ARCH": ""})

    def healthy() -> bool:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as resp:
            return b'"true"' in resp.read()
    procs.wait_until("etcd", healthy, 30)
    return url


def _apiserver(procs: Processes, root: Path, pki: Pki, etcd_url: str, tokens: dict[str, str]) -> tuple[str, Path]:
    port = free_port()
    (root / "tokens.csv").write_text("".join(f"{tok},{user},{user}-uid,system:masters\n" for user, tok in tokens.items()))
    (root / "audit-policy.json").write_text(json.dumps(AUDIT_POLICY))
    audit_log = root / "audit.log"
    procs.start("kube-apiserver", [
        str(gobuild.binary_path("kube-apiserver")), f"--etcd-servers={etcd_url}", "--bind-address=127.0.0.1",
        "--advertise-address=127.0.0.1", f"--secure-port={port}", f"--cert-dir={root / 'apiserver-certs'}",
        f"--tls-cert-file={pki.serving_crt}", f"--tls-private-key-file={pki.serving_key}",
        f"--client-ca-file={pki.ca_crt}", f"--token-auth-file={root / 'tokens.csv'}", "--authorization-mode=RBAC",
        "--service-account-issuer=https://kubernetes.default.svc", f"--service-account-key-file={pki.sa_pub}",
        f"--service-account-signing-key-file={pki.sa_key}", "--service-cluster-ip-range=10.96.0.0/16",
        f"--enable-admission-plugins={ADMISSION}", "--allow-privileged=false", "--profiling=false",
        f"--audit-policy-file={root / 'audit-policy.json'}", f"--audit-log-path={audit_log}",
        "--audit-log-format=json", "--audit-log-mode=blocking"])
    return f"https://127.0.0.1:{port}", audit_log


def _controller_manager(procs: Processes, root: Path, pki: Pki, kubeconfig: Path) -> None:
    procs.start("kube-controller-manager", [
        str(gobuild.binary_path("kube-controller-manager")), f"--kubeconfig={kubeconfig}",
        f"--authentication-kubeconfig={kubeconfig}", f"--authorization-kubeconfig={kubeconfig}",
        f"--service-account-private-key-file={pki.sa_key}", f"--root-ca-file={pki.ca_crt}",
        "--controllers=*", "--leader-elect=false", "--bind-address=127.0.0.1", f"--secure-port={free_port()}",
        f"--cert-dir={root / 'kcm-certs'}", "--use-service-account-credentials=false"])


def start_control_plane(root: Path) -> ControlPlane:
    """etcd, then the API server (until /readyz), then the controller-manager."""
    procs = Processes(root / "logs")
    pki = write_pki(root / "pki")
    tokens = {"admin": "admin-" + secrets.token_hex(12), CODE_USER: "code-" + secrets.token_hex(12)}
    times: dict[str, float] = {}
    try:
        start = time.monotonic()
        etcd_url = _etcd(procs, root)
        times["etcd"] = time.monotonic() - start
        url, audit_log = _apiserver(procs, root, pki, etcd_url, tokens)
        plane = ControlPlane(root, pki, url, tokens["admin"], tokens[CODE_USER], audit_log, procs, times)
        times["kube-apiserver"] = procs.wait_until("kube-apiserver", lambda: plane.get("/readyz")[0] == 200, 90)
        _controller_manager(procs, root, pki, plane.kubeconfig())
        # Its service-account controller making `default/default` shows the controllers run.
        times["kube-controller-manager"] = procs.wait_until(
            "kube-controller-manager", lambda: plane.get("/api/v1/namespaces/default/serviceaccounts/default")[0] == 200, 90)
        return plane
    except BaseException:
        procs.stop_all()
        raise
