"""A built wheel, installed into an empty virtualenv, runs `astrobio render job` and `astrobio doctor`
from a folder outside any checkout (#17 item 5).

An editable install hides two defects this catches: a file the package reads at run time that the
wheel does not ship (the upstream JSON Schemas `render job` validates against are package data), and
a path computed from `__file__` that only lands on the repository inside a checkout.

The new virtualenv gets the wheel alone (`--no-deps`); the dependencies come from the test
interpreter's site-packages through a plain path line in a `.pth` file. `site` does not process the
`.pth` files of a folder added that way, so the editable finder of the development install is not
loaded, and the test asserts the package is imported from the new virtualenv.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


def _run(args: list[str | Path], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def _clean_env(home: Path) -> dict[str, str]:
    """The environment of a user's shell outside the checkout: no PYTHONPATH pointing at src/, no
    kubeconfig or in-cluster service, a home folder without ~/.kube. (Building and installing use it
    too: a PYTHONPATH over a src/ holding an egg-info makes pip call the wheel "already satisfied".)"""
    dropped = {"PYTHONPATH", "VIRTUAL_ENV", "KUBECONFIG", "KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT"}
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env["HOME"] = str(home)
    return env


def _build_wheel(tmp: Path, env: dict[str, str]) -> Path:
    """Build from a copy of the sources, so setuptools' build/ cache of the checkout (which keeps
    files deleted since) cannot leak into the wheel."""
    source = tmp / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    shutil.copytree(ROOT / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    done = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                 "-w", tmp / "dist", source], cwd=tmp, env=env)
    assert done.returncode == 0, done.stderr
    (wheel,) = (tmp / "dist").glob("astrobio-*.whl")
    return wheel


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, str]]:
    """(the new virtualenv's bin/, a working folder outside any checkout, its environment)."""
    tmp = tmp_path_factory.mktemp("wheel")
    env = _clean_env(tmp)
    wheel = _build_wheel(tmp, env)
    venv = tmp / "venv"
    done = _run([sys.executable, "-m", "venv", "--without-pip", venv], cwd=tmp)
    assert done.returncode == 0, done.stderr
    python = venv / "bin" / "python"
    done = _run([sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "-q", wheel],
                cwd=tmp, env=env)
    assert done.returncode == 0, done.stderr
    site = Path(_run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], cwd=tmp).stdout.strip())
    (site / "astrobio_test_deps.pth").write_text(sysconfig.get_path("purelib") + "\n", encoding="utf-8")
    work = tmp / "work"
    work.mkdir()
    return venv / "bin", work, env


def test_the_package_and_its_schemas_come_from_the_new_venv(installed: tuple[Path, Path, dict[str, str]]) -> None:
    bin_dir, work, env = installed
    probe = "import astrobio; from astrobio.kube.validate import default_schema_dir; " \
            "print(astrobio.__file__); print(default_schema_dir())"
    done = _run([bin_dir / "python", "-c", probe], cwd=work, env=env)
    assert done.returncode == 0, done.stderr
    package, schemas = (Path(line) for line in done.stdout.splitlines())
    venv = bin_dir.parent.resolve()
    assert package.resolve().is_relative_to(venv), f"astrobio imported from {package}, not the wheel"
    assert schemas.resolve().is_relative_to(venv)
    assert (schemas / "json" / "pytorchjob_v1.json").is_file()


def test_render_job_prints_a_validated_pytorchjob(installed: tuple[Path, Path, dict[str, str]]) -> None:
    bin_dir, work, env = installed
    done = _run([bin_dir / "astrobio", "render", "job", "-c", "graph_vae"], cwd=work, env=env)
    assert done.returncode == 0, done.stderr
    assert "checking the pod template only" not in done.stderr, "the upstream schemas did not ship"
    job = yaml.safe_load(done.stdout)
    assert job["apiVersion"] == "kubeflow.org/v1"
    assert job["kind"] == "PyTorchJob"
    assert job["metadata"]["name"] == "astrobio-graph-vae"
    assert job["metadata"]["labels"]["app.kubernetes.io/component"] == "graph_vae"
    assert "Worker" in job["spec"]["pytorchReplicaSpecs"]
    assert list(work.iterdir()) == [], "render job prints; it writes nothing"


def test_doctor_passes_without_a_cluster(installed: tuple[Path, Path, dict[str, str]]) -> None:
    bin_dir, work, env = installed
    store = work.parent / "store"
    done = _run([bin_dir / "astrobio", "doctor", "--set", f"store.uri={store}"], cwd=work, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert not [line for line in lines if line.startswith("[FAIL]")], done.stdout
    assert any(line.startswith("[PASS] store:") and str(store) in line for line in lines), done.stdout
    assert any(line.startswith("[SKIP] cluster:") and "no kubeconfig" in line for line in lines), done.stdout
    assert "audit: no " + str(work / "benchmarks") in done.stdout, "doctor looked for a checkout outside one"
