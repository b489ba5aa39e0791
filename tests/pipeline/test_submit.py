"""Submitting: a dry run compiles and summarises without network; an unreachable host is one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from astrobio.config import AstrobioConfig
from astrobio.errors import UsageError
from astrobio.pipeline.compile import normalise_host, submit_pipeline
from tests.s3server import closed_port


def test_unreachable_host_is_a_usage_error_naming_it(default_cfg: AstrobioConfig) -> None:
    host = f"http://127.0.0.1:{closed_port()}"
    with pytest.raises(UsageError) as info:
        submit_pipeline(default_cfg, host, None, dry_run=False)
    assert str(info.value).startswith(f"KFP host {host} is unreachable")
    assert "\n" not in str(info.value)


def test_dry_run_compiles_and_summarises_without_network(default_cfg: AstrobioConfig, tmp_path: Path) -> None:
    summary = submit_pipeline(default_cfg, "kfp.example.invalid:80", "my run", dry_run=True, workdir=tmp_path)
    assert summary.splitlines()[0] == (f"dry run: would submit {tmp_path}/pipelines/astrobio-five-phase.yaml "
                                       "to http://kfp.example.invalid:80")
    assert "run 'my run'" in summary and "phase 1 pretrain: graph_vae" in summary
    assert (tmp_path / "pipelines" / "astrobio-five-phase.yaml").is_file()


def test_host_forms() -> None:
    assert normalise_host("localhost:8080/") == "http://localhost:8080"
    assert normalise_host("https://kfp.example.org") == "https://kfp.example.org"
    with pytest.raises(UsageError):
        normalise_host("  ")
