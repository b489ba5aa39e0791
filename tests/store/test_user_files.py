"""A user's data and weights named by s3:// URI reach the trainer: fetched once, checksummed, cached."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from astrobio.components.causal.config import CausalConfig
from astrobio.errors import UsageError
from astrobio.store import S3Store, open_store
from astrobio.store.user_files import fetch_user_file, localize_section
from tests.cli_helpers import ROOT, assert_one_line_error
from tests.s3server import S3TestServer, unique_bucket


@pytest.fixture
def bucket(s3_server: S3TestServer) -> tuple[S3Store, dict[str, str]]:
    env = s3_server.env()
    store = open_store(f"s3://{unique_bucket()}", env)
    store.ensure_bucket()  # type: ignore[attr-defined]
    return store, env  # type: ignore[return-value]


def test_an_object_is_fetched_once_and_checksummed(bucket, s3_server: S3TestServer, tmp_path: Path) -> None:
    store, env = bucket
    store.put_bytes("data/obs.csv", b"a,b\n1,2\n")
    uri = f"s3://{store.bucket}/data/obs.csv"
    said: list[str] = []
    path = fetch_user_file(uri, "components.causal.data.source", env, tmp_path / "cache", said.append)
    assert path == tmp_path / "cache" / store.bucket / "data" / "obs.csv" and path.read_bytes() == b"a,b\n1,2\n"
    assert len(said) == 1 and "sha256" in said[0]
    s3_server.stop()  # a rerun (restarted pod, same folder) does not need the store for it
    assert fetch_user_file(uri, "x", env, tmp_path / "cache", said.append) == path and len(said) == 1
    path.write_bytes(b"tampered")  # a damaged copy is not trusted: fetched again (the store is down now)
    with pytest.raises(Exception, match=str(store.bucket)):
        fetch_user_file(uri, "x", env, tmp_path / "cache")


def test_a_folder_is_fetched_whole(bucket, tmp_path: Path) -> None:
    """llm's model_name_or_path names a folder: every object under the prefix comes along."""
    store, env = bucket
    store.put_bytes("models/base/config.json", b"{}")
    store.put_bytes("models/base/sub/weights.bin", b"w")
    path = fetch_user_file(f"s3://{store.bucket}/models/base", "components.llm.model.model_name_or_path", env, tmp_path)
    assert sorted(p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file()) == ["config.json", "sub/weights.bin"]


@pytest.mark.parametrize(("uri", "needle"), [("s3://{bucket}/nope.csv", "no object or folder"),
                                             ("s3://k:s@{bucket}/x.csv", "user info"),
                                             ("s3://{bucket}/a/../x.csv", "components.causal.data.source")])
def test_bad_uri_or_missing_object_names_the_setting(bucket, tmp_path: Path, uri: str, needle: str) -> None:
    store, env = bucket
    with pytest.raises(UsageError, match="components.causal.data.source") as info:
        fetch_user_file(uri.format(bucket=store.bucket), "components.causal.data.source", env, tmp_path)
    assert needle in str(info.value) and "\n" not in str(info.value)


def test_every_s3_setting_of_a_section_is_localized(bucket, tmp_path: Path) -> None:
    store, env = bucket
    store.put_bytes("obs.csv", b"a,b\n1,2\n")
    store.put_bytes("w.safetensors", b"weights")
    section = CausalConfig.model_validate({"data": {"source": f"s3://{store.bucket}/obs.csv"},
                                           "init_from": f"s3://{store.bucket}/w.safetensors"})
    local = localize_section(section, "components.causal", env, tmp_path)
    assert Path(local.data.source).read_bytes() == b"a,b\n1,2\n"
    assert Path(local.init_from).read_bytes() == b"weights"
    plain = CausalConfig()
    assert localize_section(plain, "components.causal", env, tmp_path) is plain


def test_train_reads_its_csv_from_s3_and_a_missing_one_is_exit_2(bucket, tmp_path: Path) -> None:
    store, env = bucket
    rng = np.random.default_rng(0)
    x = rng.normal(size=300)
    y = 2 * x + rng.normal(size=300) * 0.1
    rows = "\n".join(f"{a:.5f},{b:.5f}" for a, b in zip(x, y))
    store.put_bytes("team/obs.csv", f"x,y\n{rows}\n".encode())
    base = [sys.executable, "-m", "astrobio", "train", "-c", "causal", "--output", str(tmp_path / "o"),
            "--set", f"store.uri={tmp_path / 'store'}", "--set", "components.causal.trainer.max_steps=4",
            "--set", "components.causal.trainer.eval_every=4"]
    child = {**os.environ, **env, "OMP_NUM_THREADS": "1"}
    ok = subprocess.run([*base, "--set", f"components.causal.data.source=s3://{store.bucket}/team/obs.csv"],
                        cwd=ROOT, env=child, capture_output=True, text=True, timeout=300)
    assert ok.returncode == 0, ok.stderr[-3000:]
    assert f"fetched s3://{store.bucket}/team/obs.csv" in ok.stderr
    missing = subprocess.run([*base, "--set", f"components.causal.data.source=s3://{store.bucket}/team/gone.csv"],
                             cwd=ROOT, env=child, capture_output=True, text=True, timeout=300)
    assert_one_line_error(missing, 2, "components.causal.data.source", "gone.csv")
