"""open_store: every accepted URI form, and a clear refusal of the rest."""

from __future__ import annotations

from pathlib import Path

import pytest

from astrobio.errors import UsageError
from astrobio.store import LocalStore, S3Store, open_store, parse_s3_uri

ENV = {"ASTROBIO_S3_ENDPOINT": "http://127.0.0.1:9", "AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "s3cr3t"}


def test_plain_path(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "art"), {})
    assert isinstance(store, LocalStore)
    assert store.root == tmp_path / "art"
    assert not (tmp_path / "art").exists()  # opening touches nothing


def test_relative_path_is_made_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    store = open_store("artifacts", {})
    assert isinstance(store, LocalStore) and store.root == tmp_path / "artifacts"


def test_file_uri(tmp_path: Path) -> None:
    store = open_store((tmp_path / "with space").as_uri(), {})
    assert isinstance(store, LocalStore) and store.root == tmp_path / "with space"
    assert isinstance(open_store(f"file://localhost{tmp_path}", {}), LocalStore)


def test_local_uri_round_trips(tmp_path: Path) -> None:
    store = open_store(str(tmp_path), {})
    assert isinstance(open_store(store.uri, {}), LocalStore)


@pytest.mark.parametrize(
    ("uri", "bucket", "prefix", "canonical"),
    [
        ("s3://my-bucket", "my-bucket", "", "s3://my-bucket"),
        ("s3://my-bucket/", "my-bucket", "", "s3://my-bucket"),
        ("s3://my-bucket/astrobio/prod", "my-bucket", "astrobio/prod", "s3://my-bucket/astrobio/prod"),
        ("s3://my-bucket/astrobio/", "my-bucket", "astrobio", "s3://my-bucket/astrobio"),
    ],
)
def test_s3_uris(uri: str, bucket: str, prefix: str, canonical: str) -> None:
    assert parse_s3_uri(uri) == (bucket, prefix)
    store = open_store(uri, ENV)
    assert isinstance(store, S3Store)
    assert (store.bucket, store.prefix, store.uri) == (bucket, prefix, canonical)
    assert "s3cr3t" not in repr(store)


def test_s3_without_env_names_the_variables() -> None:
    with pytest.raises(UsageError, match="ASTROBIO_S3_ENDPOINT"):
        open_store("s3://my-bucket/x", {})


@pytest.mark.parametrize(
    ("uri", "match"),
    [
        ("gs://bucket/x", "scheme 'gs'"),
        ("https://minio:9000/bucket", "scheme 'https'"),
        ("s3:/bucket", "expected s3://bucket"),
        ("s3:///prefix-without-bucket", "expected s3://bucket"),
        ("s3://my-bucket/a//b", "empty segment"),
        ("s3://my-bucket/../x", "'..' segment"),
        ("s3://B_/x", "invalid S3 bucket name"),
        ("file://otherhost/x", "expected file:///absolute/path"),
        ("", "empty artifact store URI"),
    ],
)
def test_bad_uris(uri: str, match: str) -> None:
    with pytest.raises(UsageError, match=match) as info:
        open_store(uri, ENV)
    message = str(info.value)
    assert "\n" not in message
    if uri:
        assert repr(uri) in message or "bucket name" in message


def test_bad_scheme_lists_the_accepted_forms() -> None:
    with pytest.raises(UsageError) as info:
        open_store("gs://bucket", ENV)
    assert "s3://bucket[/prefix]" in str(info.value) and "file://" in str(info.value) and "local path" in str(info.value)
