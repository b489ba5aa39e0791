"""`astrobio models list|show|promote`, wired here exactly as astrobio.cli wires them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from astrobio.cli.models import models_list, models_promote, models_show
from astrobio.production.model_registry import ModelRegistry
from astrobio.store import open_store
from tests.production.conftest import fake_artifact

app = typer.Typer()
app.command("list")(models_list)
app.command("show")(models_show)
app.command("promote")(models_promote)


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


def one_line_error(result, code: int, *needles: str) -> str:
    assert result.exit_code == code, (result.exit_code, result.output)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), result.stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


@pytest.fixture
def store(tmp_path: Path) -> str:
    """A store with two versions of graph_vae and one of causal, none promoted."""
    root = open_store(str(tmp_path / "store"), {})
    registry = ModelRegistry(root)
    for i, (name, auc) in enumerate((("graph_vae", 0.7), ("graph_vae", 0.9), ("causal", 0.5))):
        uri = fake_artifact(root, f"runs/r{i}/pretrain/{name}", {"test_auc": auc})
        registry.register(name, open_store(uri, {}), uri, now=1000.0 + i)
    return str(tmp_path / "store")


def versions(store: str, name: str) -> list[str]:
    return [e["version"] for e in ModelRegistry(open_store(store, {})).versions(name)]


def test_list_show_promote(store: str) -> None:
    v1, v2 = versions(store, "graph_vae")
    listed = invoke("list", "--store", store)
    assert listed.exit_code == 0, listed.output
    lines = listed.stdout.splitlines()
    assert lines[0].split() == ["model", "versions", "production", "latest", "created"]
    assert lines[2].split()[:4] == ["graph_vae", "2", "-", v2]

    promoted = invoke("promote", "graph_vae", v1, "--store", store)
    assert promoted.exit_code == 0 and promoted.stdout.strip() == f"graph_vae: production -> {v1} (was unset)"
    assert invoke("promote", "graph_vae", v2, "--store", store).stdout.strip() == \
        f"graph_vae: production -> {v2} (was {v1})"
    shown = invoke("show", "graph_vae", "--store", store)  # default: the production alias
    entry = json.loads(shown.stdout)
    assert shown.exit_code == 0 and entry["version"] == v2 and entry["aliases"] == ["production"]
    assert json.loads(invoke("show", "graph_vae", v1, "--store", store).stdout)["metrics"] == {"test_auc": 0.7}
    assert invoke("list", "--store", store).stdout.splitlines()[2].split()[2] == v2


def test_store_comes_from_the_config(store: str, tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(f"store:\n  uri: {store}\n")
    result = invoke("list", "--config", str(config))
    assert result.exit_code == 0 and "causal" in result.stdout
    empty = invoke("list", "--store", str(tmp_path / "nothing"))
    assert empty.exit_code == 0 and "no models registered" in empty.stdout


def test_unknown_model_version_or_config_is_one_line_exit_2(store: str, tmp_path: Path) -> None:
    one_line_error(invoke("show", "fusion", "--store", store), 2, "no registered model 'fusion'", "graph_vae")
    one_line_error(invoke("show", "graph_vae", "0123456789ab", "--store", store), 2, "no version or alias '0123456789ab'")
    one_line_error(invoke("promote", "causal", "nope", "--store", store), 2, "no version or alias 'nope'")
    one_line_error(invoke("list", "--config", str(tmp_path / "missing.yaml")), 2, "not found")
    assert not (Path(store) / "registry/causal/aliases.json").exists()
