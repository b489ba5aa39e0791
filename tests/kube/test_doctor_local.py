"""astrobio doctor's local reliability/security checks: secrets in configs, disk, checkpoints, audit."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from astrobio.doctor.run import failures, run_doctor
from astrobio.doctor.local import (
    audit_check,
    checkpoints_check,
    config_secrets_check,
    disk_check,
    secret_findings,
)
from astrobio.trainer.checkpoint import MODEL_FILE, save_checkpoint

from .conftest import ROOT, variant

SECRET = "LEAKCANARY-SECRET-91be"


def test_shipped_configs_hold_no_secret():
    for path in sorted((ROOT / "configs").glob("*.yaml")):
        check = config_secrets_check(path)
        assert check.status == "pass", (path, check.detail)


@pytest.mark.parametrize("text, where", [
    (f"store:\n  uri: s3://minio:{SECRET}@minio.svc:9000/bucket\n", "store.uri (line 2): a URL with user:password@"),
    (f"store:\n  uri: s3://b\n  aws_secret_access_key: {SECRET}\n", "store.aws_secret_access_key (line 3)"),
    ("run:\n  name: x\nnotes: [AKIAABCDEFGHIJKLMNOP]\n", "notes[0] (line 3): an AWS access key id"),
    (f"kube:\n  env: {{MINIO_SECRET_KEY: {SECRET}}}\n", "kube.env.MINIO_SECRET_KEY (line 2)"),
])
def test_secret_in_config_is_named_by_path_and_line_never_echoed(tmp_path, text, where):
    path = tmp_path / "run.yaml"
    path.write_text(text)
    check = config_secrets_check(path)
    assert check.status == "warn" and where in check.detail, check.detail
    assert SECRET not in check.detail + check.fix and "AKIAABCDEFGHIJKLMNOP" not in check.detail
    assert "rotate" in check.fix


def test_names_of_secrets_are_not_secrets():
    assert secret_findings("kube:\n  storage_secret: astrobio-storage\nstore:\n  uri: s3://bucket/p\n") == []
    assert config_secrets_check(None).status == "skip"


def test_disk_space_below_threshold_warns_and_names_the_place(tmp_path):
    gb = 1e9
    plenty = disk_check({"output": tmp_path / "not" / "yet"}, usage=lambda p: SimpleNamespace(free=80 * gb))
    assert plenty.status == "pass" and "80.0 GB free" in plenty.detail
    seen: list[Path] = []

    def low(path: Path) -> SimpleNamespace:
        seen.append(path)
        return SimpleNamespace(free=(0.5 if "store" in str(path) else 50) * gb)

    (tmp_path / "store").mkdir()
    check = disk_check({"output": tmp_path / "out", "store": tmp_path / "store"}, min_free_gb=5, usage=low)
    assert check.status == "warn" and "below 5 GB at store" in check.fix
    assert seen == [tmp_path, tmp_path / "store"]  # a missing folder is measured at its nearest parent
    assert disk_check({}).status == "skip"


def _checkpoint(root: Path, step: int) -> Path:
    return save_checkpoint(root, step, {"w": torch.ones(3)}, {"step": step}, "hash", keep_last=10)


def test_checkpoints_verify_and_a_corrupt_one_is_named(tmp_path):
    outputs = tmp_path / "outputs"
    assert checkpoints_check(outputs).status == "skip"
    _checkpoint(outputs / "smoke" / "graph_vae" / "checkpoints", 10)
    bad = _checkpoint(outputs / "smoke" / "graph_vae" / "checkpoints", 20)
    _checkpoint(outputs / "smoke" / "spectra" / "checkpoints", 5)
    assert checkpoints_check(outputs).status == "pass" and "3 checkpoint(s)" in checkpoints_check(outputs).detail
    before = (bad / MODEL_FILE).read_bytes()
    (bad / MODEL_FILE).write_bytes(before[:-4] + b"XXXX")
    check = checkpoints_check(outputs)
    assert check.status == "fail" and "1 bad" in check.detail and "2 verify" in check.detail
    assert "smoke/graph_vae/checkpoints/step-00000020" in check.detail and "checksum mismatch" in check.detail
    assert (bad / MODEL_FILE).read_bytes()[-4:] == b"XXXX"  # read-only: nothing repaired or removed
    run_folder = checkpoints_check(outputs / "smoke" / "spectra")  # a single run's --output works too
    assert run_folder.status == "pass" and "1 checkpoint(s)" in run_folder.detail


def _audit(tmp_path: Path, *, days_old: int = 1, vulns=(), not_audited=()) -> Path:
    path = tmp_path / "audit.json"
    date = datetime.now(timezone.utc) - timedelta(days=days_old)
    path.write_text(json.dumps({"date": date.isoformat(), "packages_audited": 10, "vulnerabilities": list(vulns),
                                "not_audited": list(not_audited)}))
    return path


def test_audit_report_states(tmp_path):
    assert audit_check(tmp_path / "none.json").status == "skip"
    assert audit_check(_audit(tmp_path)).status == "pass"
    stale = audit_check(_audit(tmp_path, days_old=90))
    assert stale.status == "warn" and "older than 30 days" in stale.detail
    blind = audit_check(_audit(tmp_path, not_audited=[{"package": "torch", "reason": "no service"}]))
    assert blind.status == "warn" and "1 package(s) could not be audited" in blind.detail
    vuln = {"package": "jinja2", "version": "3.1.4", "id": "GHSA-q2x7-8rv6-6q7h", "fix_versions": ["3.1.5"]}
    found = audit_check(_audit(tmp_path, vulns=[vuln]))
    assert found.status == "fail" and "jinja2 3.1.4 (GHSA-q2x7-8rv6-6q7h)" in found.detail
    (tmp_path / "audit.json").write_text("{}")
    assert audit_check(tmp_path / "audit.json").status == "warn"


def test_run_doctor_includes_the_reliability_checks(tmp_path):
    config = tmp_path / "run.yaml"
    config.write_text(f"store:\n  uri: http://u:{SECRET}@h:9000\n")
    _checkpoint(tmp_path / "out" / "checkpoints", 1)
    checks = {c.name: c for c in run_doctor(variant("cpu", f"store.uri={tmp_path / 'store'}"),
                                            {"HOME": str(tmp_path), "KUBECONFIG": ""}, config=config,
                                            output=tmp_path / "out", audit_report=_audit(tmp_path))}
    assert checks["config-secrets"].status == "warn"
    assert checks["checkpoints"].status == "pass" and checks["audit"].status == "pass"
    assert checks["disk"].status in ("pass", "warn") and "store" in checks["disk"].detail
    assert not failures(list(checks.values()))


def test_doctor_cli_reports_a_bad_checkpoint_and_exits_1(tmp_path):
    bad = _checkpoint(tmp_path / "out" / "checkpoints", 3)
    (bad / "meta.json").unlink()
    proc = subprocess.run([sys.executable, "-m", "astrobio", "doctor", "--set", f"store.uri={tmp_path / 's'}",
                           "--output", str(tmp_path / "out")], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "OMP_NUM_THREADS": "1"})
    assert proc.returncode == 1, proc.stderr
    assert "[FAIL] checkpoints:" in proc.stdout and "step-00000003" in proc.stdout
    assert "error: 1 check(s) failed: checkpoints" in proc.stderr


def test_store_check_never_echoes_keys_in_the_uri():
    from astrobio.doctor.run import store_check

    check = store_check(f"s3://AKEY:{SECRET}@bucket/p", {})
    assert check.status == "fail" and SECRET not in check.detail + check.fix and "AKEY" not in check.detail
    assert "s3://***@bucket/p" in check.detail
