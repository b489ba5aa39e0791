"""Build the control plane's binaries from Go modules and cache them outside the repository.

Each Go module under tests/cluster/controlplane/ (go.mod + go.sum, no source) names what it builds.
Its binaries land in ~/.cache/astrobio/controlplane/<sha256 of go.mod+go.sum>/ (or
$ASTROBIO_CONTROLPLANE_CACHE/<hash>/) and are rebuilt only when those files change: a build writes a
temporary directory and renames it into place after every binary is there, so a half-finished
build is never taken for a cache hit. etcd is Debian's `etcd-server` (apt-get install etcd-server).

    python -m tests.cluster.gobuild            # build what is missing when Go is there, else one line
    python -m tests.cluster.gobuild --require  # exit 1 unless every binary is there afterwards
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

MODULES_DIR = Path(__file__).resolve().parent / "controlplane"
HOW_TO_GET = ("cluster tests not run: {missing}; install Go >= 1.26 and `apt-get install etcd-server`, "
              "then `make cluster-test` builds kube-apiserver, kube-controller-manager and the Kubeflow "
              "Training Operator from tests/cluster/controlplane/ (~25 min of 2 cores once, cached in ~/.cache/astrobio)")


@dataclass(frozen=True)
class Target:
    """One binary: the Go module directory that pins it and its package path."""

    name: str
    module: str
    package: str


TARGETS = (
    Target("kube-apiserver", ".", "k8s.io/kubernetes/cmd/kube-apiserver"),
    Target("kube-controller-manager", ".", "k8s.io/kubernetes/cmd/kube-controller-manager"),
    Target("training-operator", "operator", "github.com/kubeflow/training-operator/cmd/training-operator.v1"),
)


def cache_root() -> Path:
    return Path(os.environ.get("ASTROBIO_CONTROLPLANE_CACHE") or Path.home() / ".cache" / "astrobio" / "controlplane")


def module_hash(module: str) -> str:
    """Hash of the module's go.mod and go.sum: the cache key of the binaries it builds."""
    digest = hashlib.sha256()
    for name in ("go.mod", "go.sum"):
        digest.update((MODULES_DIR / module / name).read_bytes())
    return digest.hexdigest()[:20]


def module_dir(module: str) -> Path:
    return cache_root() / module_hash(module)


def binary_path(name: str) -> Path:
    target = next(t for t in TARGETS if t.name == name)
    return module_dir(target.module) / name


def kube_version() -> str:
    """The k8s.io/kubernetes version go.mod requires (stamped into the binaries, else they say v0.0.0)."""
    match = re.search(r"^require k8s\.io/kubernetes (v\S+)", (MODULES_DIR / "go.mod").read_text(), re.M)
    if not match:
        raise SystemExit(f"{MODULES_DIR / 'go.mod'}: no `require k8s.io/kubernetes vX.Y.Z` line")
    return match.group(1)


def missing() -> list[str]:
    """What the cluster tests need and do not have (binary names, or 'etcd')."""
    gone = [t.name for t in TARGETS if not binary_path(t.name).is_file()]
    if shutil.which("etcd") is None:
        gone.append("etcd")
    return gone


def build_module(module: str, log=print) -> None:
    """Build every target of one module into its cache directory (atomic rename at the end)."""
    final = module_dir(module)
    if final.is_dir():
        return
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}-", dir=final.parent))
    ldflags = f"-s -w -X k8s.io/component-base/version.gitVersion={kube_version()}"
    env = {**os.environ, "GOFLAGS": os.environ.get("ASTROBIO_GOFLAGS", "-mod=readonly"), "CGO_ENABLED": "0"}
    try:
        for target in (t for t in TARGETS if t.module == module):
            start = time.monotonic()
            log(f"building {target.name} ({target.package}) ...")
            cmd = ["nice", "-n", "10", "go", "build", "-trimpath", "-ldflags", ldflags, "-o",
                   str(tmp / target.name), target.package]
            subprocess.run(cmd, cwd=MODULES_DIR / module, env=env, check=True)
            log(f"built {target.name} in {time.monotonic() - start:.0f}s")
        tmp.rename(final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main(argv: list[str]) -> int:
    require = "--require" in argv
    if shutil.which("go") is None:
        gone = missing()
        if gone:
            print(HOW_TO_GET.format(missing="missing " + ", ".join(gone)), file=sys.stderr)
        return 1 if gone and require else 0
    for module in dict.fromkeys(t.module for t in TARGETS):
        try:
            build_module(module)
        except subprocess.CalledProcessError as exc:
            print(f"go build in {MODULES_DIR / module} failed (exit {exc.returncode}); "
                  + HOW_TO_GET.format(missing="build failed"), file=sys.stderr)
            return 1 if require else 0
    gone = missing()
    if gone:
        print(HOW_TO_GET.format(missing="missing " + ", ".join(gone)), file=sys.stderr)
        return 1 if require else 0
    for target in TARGETS:
        print(binary_path(target.name))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
