"""The render/submit/doctor commands of the real `astrobio` command tree."""

from __future__ import annotations

import types

from typer.testing import CliRunner


from .conftest import DEFAULT, ROOT
from .test_submit import app


def test_render_images_writes_dockerfiles_and_prints_build_lines(tmp_path):
    (tmp_path / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text())
    result = CliRunner().invoke(app(), ["render", "images", "--out", str(tmp_path), "--set", "kube.image_tag=dev"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "images" / "base" / "Dockerfile").read_text() == (ROOT / "images/base/Dockerfile").read_text()
    assert "docker push ghcr.io/astrobio/graph-vae:dev" in result.stdout.splitlines()


def test_render_manifests_into_a_folder(tmp_path):
    result = CliRunner().invoke(app(), ["render", "manifests", "--out", str(tmp_path), "--config", str(DEFAULT)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "manifests" / "pytorchjob-graph-vae.yaml").is_file()


def test_pipeline_commands_call_the_pipeline_module(monkeypatch, tmp_path):
    calls = []
    fake = types.SimpleNamespace(
        render_pipeline=lambda cfg, root: calls.append(("render", root)) or [root / "pipelines" / "p.yaml"],
        submit_pipeline=lambda cfg, host, run_name, dry_run, **kw: calls.append(
            ("submit", host, run_name, dry_run, kw["namespace"], kw["token"])) or "run-1",
    )
    monkeypatch.setattr("astrobio.pipeline.compile.render_pipeline", fake.render_pipeline)
    monkeypatch.setattr("astrobio.pipeline.submit.submit_pipeline", fake.submit_pipeline)
    monkeypatch.setenv("KFP_TOKEN", "tok")
    runner = CliRunner()
    rendered = runner.invoke(app(), ["render", "pipeline", "--out", str(tmp_path)])
    submitted = runner.invoke(app(), ["submit", "pipeline", "--host", "http://kfp", "--run-name", "r", "--dry-run",
                                      "--namespace", "team-a"])
    assert rendered.exit_code == 0 and submitted.exit_code == 0, (rendered.output, submitted.output)
    assert calls == [("render", tmp_path), ("submit", "http://kfp", "r", True, "team-a", "tok")]
    assert submitted.stdout.strip() == "run-1"


def test_doctor_without_a_cluster_passes_and_says_skipped(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    result = CliRunner().invoke(app(), ["doctor", "--set", f"store.uri={tmp_path / 'store'}"])
    assert result.exit_code == 0, result.output
    assert "[SKIP] cluster: cluster checks skipped" in result.stdout


def test_doctor_failing_check_exits_1(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("KUBECONFIG", raising=False)
    for var in ("ASTROBIO_S3_ENDPOINT", "AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(var, raising=False)
    result = CliRunner().invoke(app(), ["doctor", "--set", "store.uri=s3://bucket/p"])
    assert result.exit_code == 1
    assert "[FAIL] store" in result.stdout and "error: 1 check(s) failed: store" in result.output
