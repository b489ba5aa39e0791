"""Dockerfiles: one per registered component, FROM the base, non-root, entry point astrobio; no drift."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from astrobio.config import AstrobioConfig
from astrobio.kube.render.images import (base_ref, build_commands, component_extras, image_ref, render_dockerfile,
                                  render_images)
from astrobio.catalog import component_names

from .conftest import ROOT

IMAGES = ROOT / "images"


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    joined = re.sub(r"\\\n", " ", "\n".join(l for l in text.splitlines() if not l.lstrip().startswith("#")))
    out = []
    for line in joined.splitlines():
        if line.strip():
            word, _, rest = line.strip().partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def dockerfiles() -> list[Path]:
    return sorted(IMAGES.glob("*/Dockerfile"))


def test_every_component_has_a_dockerfile():
    have = {p.parent.name for p in dockerfiles()}
    assert have >= {"base", *component_names()}


@pytest.mark.parametrize("path", dockerfiles(), ids=lambda p: p.parent.name)
def test_dockerfile_is_well_formed(path):
    steps = instructions(path.read_text())
    kinds = [k for k, _ in steps]
    assert kinds[0] in ("ARG", "FROM") and "FROM" in kinds
    assert all(k == "ARG" for k in kinds[: kinds.index("FROM")])
    users = [arg for k, arg in steps if k == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    assert json.loads(next(arg for k, arg in steps if k == "ENTRYPOINT")) == ["astrobio"]
    cmd = json.loads(next(arg for k, arg in steps if k == "CMD"))
    if path.parent.name != "base":
        assert cmd == ["train", "--component", path.parent.name]
        assert next(arg for k, arg in steps if k == "FROM") == "${BASE_IMAGE}"
    text = path.read_text()
    assert not re.search(r"^\s*(ENV|ARG)\s+\S*(SECRET|PASSWORD|TOKEN|ACCESS_KEY)", text, re.M | re.I)
    assert (path.parent / "Dockerfile.dockerignore").is_file()


def test_base_installs_the_hashed_locks_then_astrobio_as_a_fixed_uid():
    steps = instructions((IMAGES / "base" / "Dockerfile").read_text())
    runs = " ".join(arg for k, arg in steps if k == "RUN")
    assert "--require-hashes --no-deps -r requirements/build.lock" in runs
    assert "--require-hashes --no-deps --no-build-isolation -r requirements/base.lock" in runs
    assert "install --no-deps --no-build-isolation ." in runs and "--uid 10001" in runs
    ignore = (IMAGES / "base" / "Dockerfile.dockerignore").read_text()
    assert "!requirements/base.lock" in ignore and "!requirements/build.lock" in ignore
    assert ("WORKDIR", "/workspace") in steps


def test_committed_images_match_the_renderer():
    rendered = render_images((ROOT / "pyproject.toml").read_text())
    for rel, text in rendered.items():
        assert (ROOT / rel).read_text() == text, f"{rel} drifted: run `astrobio render images`"


def test_extras_come_from_the_optional_dependency_group():
    pyproject = '[project.optional-dependencies]\ndatacube = ["climlab>=0.8"]\ngraph-vae = ["cobra"]\n'
    assert component_extras(pyproject, "datacube") == ["climlab>=0.8"]
    assert component_extras(pyproject, "graph_vae") == ["cobra"]
    text = render_dockerfile("datacube", ["climlab>=0.8"])
    assert "COPY requirements/datacube.lock /opt/astrobio/requirements/datacube.lock" in text
    assert "pip install --require-hashes --no-deps -r /opt/astrobio/requirements/datacube.lock" in text
    assert instructions(text)[-3][0] == "USER"


def test_llm_image_installs_bitsandbytes_from_its_lock():
    """QLoRA is offered only by the llm component; its image (GPU nodes) carries bitsandbytes."""
    text = (IMAGES / "llm" / "Dockerfile").read_text()
    assert "-r /opt/astrobio/requirements/llm.lock" in text
    assert (IMAGES / "llm" / "Dockerfile.dockerignore").read_text() == "*\n!requirements/llm.lock\n"
    assert "bitsandbytes" in (ROOT / "requirements" / "llm.lock").read_text()
    for name in component_names():
        if name != "llm":
            assert "pip install" not in (IMAGES / name / "Dockerfile").read_text()


def test_images_pin_by_digest_when_one_is_given():
    digest = "sha256:" + "a" * 64
    cfg = AstrobioConfig.model_validate({"kube": {"image_digests": {"graph_vae": digest, "base": digest}}})
    assert image_ref(cfg.kube, "graph_vae") == f"ghcr.io/astrobio/graph-vae:0.1.0@{digest}"
    assert base_ref(cfg.kube) == f"ghcr.io/astrobio/base:0.1.0@{digest}"
    assert image_ref(cfg.kube, "spectra") == "ghcr.io/astrobio/spectra:0.1.0"
    for bad, said in (({"graph_vae": "sha256:abc"}, "is not a digest"), ({"nope": digest}, "is not an image")):
        with pytest.raises(ValidationError, match=said):
            AstrobioConfig.model_validate({"kube": {"image_digests": bad}})


def test_image_refs_and_build_order():
    cfg = AstrobioConfig()
    assert image_ref(cfg.kube, "graph_vae") == "ghcr.io/astrobio/graph-vae:0.1.0"
    lines = build_commands(cfg)
    assert lines[0].startswith("docker build -f images/base/Dockerfile")
    assert lines[1].startswith("docker tag") and lines[2] == "docker push ghcr.io/astrobio/base:0.1.0"
    for name in component_names():
        assert any(f"-f images/{name}/Dockerfile" in line for line in lines[3:])
    other = AstrobioConfig.model_validate({"kube": {"image_registry": "registry.local:5000", "image_tag": "dev"}})
    assert image_ref(other.kube, "graph_vae") == "registry.local:5000/astrobio/graph-vae:dev"
