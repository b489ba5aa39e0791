"""SBML loading: cobra's bundled models, a user's own file, and one-line errors naming the file."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pytest

from astrobio.components.graph_vae.data import build_data
from astrobio.components.graph_vae.sbml import read_sbml
from astrobio.errors import UsageError
from tests.components.graph_vae.helpers import make_cfg


def test_bundled_models_load(textbook, ijo):
    assert len(textbook.model.reactions) == 95
    assert len(ijo.model.reactions) == 2583
    assert ijo.path.name == "iJO1366.xml.gz" and ijo.path.is_file()


def test_users_own_sbml_file_loads(mini, mini_path):
    assert mini.path == mini_path
    assert len(mini.model.reactions) > 0


@pytest.mark.parametrize("suffix", [".sbml", ".xml.gz"])
def test_users_file_with_other_suffixes(tmp_path, mini_path, suffix):
    target = tmp_path / f"mine{suffix}"
    if suffix.endswith(".gz"):
        with open(mini_path, "rb") as src, gzip.open(target, "wb") as dst:
            shutil.copyfileobj(src, dst)
    else:
        shutil.copy(mini_path, target)
    data = build_data(make_cfg({"sources": [str(target)], "val_frac": 0.1, "test_frac": 0.1}))
    assert data.describe()["files"] == [str(target)]
    assert all(name.startswith(f"{target}:") for name in data.graph.names)


def _assert_names(err: pytest.ExceptionInfo, path: Path) -> None:
    message = str(err.value)
    assert str(path) in message and "\n" not in message


def test_missing_file_is_a_usage_error_naming_it(tmp_path):
    path = tmp_path / "nope.xml"
    with pytest.raises(UsageError) as err:
        read_sbml(str(path))
    _assert_names(err, path)
    assert err.value.exit_code == 2


@pytest.mark.parametrize("content", [b"not xml at all", b"", b'<?xml version="1.0"?><root/>', b"\x1f\x8b\x08garbage"])
def test_unreadable_or_non_sbml_file_is_a_usage_error_naming_it(tmp_path, content):
    path = tmp_path / "broken.xml"
    path.write_bytes(content)
    with pytest.raises(UsageError) as err:
        read_sbml(str(path))
    _assert_names(err, path)


def test_directory_is_a_usage_error(tmp_path):
    path = tmp_path / "dir.xml"
    path.mkdir()
    with pytest.raises(UsageError) as err:
        read_sbml(str(path))
    _assert_names(err, path)


def test_build_data_reports_the_bad_source(tmp_path):
    path = tmp_path / "missing.sbml"
    with pytest.raises(UsageError) as err:
        build_data(make_cfg({"sources": ["textbook", str(path)]}))
    _assert_names(err, path)
