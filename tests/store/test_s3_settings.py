"""S3Settings.from_env: which variables, which forms, and the secret never shown."""

from __future__ import annotations

import pytest

from astrobio.errors import UsageError
from astrobio.store import S3Settings

SECRET = "sup3r-s3cret-value"
BASE = {"AWS_ACCESS_KEY_ID": "AKIATEST", "AWS_SECRET_ACCESS_KEY": SECRET}


def test_http_url_sets_insecure_and_strips_the_scheme() -> None:
    settings = S3Settings.from_env({**BASE, "ASTROBIO_S3_ENDPOINT": "http://minio.kubeflow:9000", "AWS_REGION": "eu-west-1"})
    assert settings.endpoint == "minio.kubeflow:9000"
    assert settings.secure is False
    assert settings.url == "http://minio.kubeflow:9000"
    assert settings.region == "eu-west-1"
    assert settings.access_key == "AKIATEST"
    assert settings.secret_key.get_secret_value() == SECRET


def test_https_url_and_aws_endpoint_url_fallback() -> None:
    settings = S3Settings.from_env({**BASE, "AWS_ENDPOINT_URL": "https://s3.example.org/"})
    assert (settings.endpoint, settings.secure) == ("s3.example.org", True)


def test_astrobio_endpoint_wins_over_aws_endpoint_url() -> None:
    env = {**BASE, "ASTROBIO_S3_ENDPOINT": "http://a:1", "AWS_ENDPOINT_URL": "http://b:2"}
    assert S3Settings.from_env(env).endpoint == "a:1"


@pytest.mark.parametrize(("flag", "secure"), [(None, True), ("false", False), ("0", False), ("TRUE", True), ("yes", True)])
def test_bare_host_port_uses_the_secure_flag(flag: str | None, secure: bool) -> None:
    env = {**BASE, "ASTROBIO_S3_ENDPOINT": "minio:9000"}
    if flag is not None:
        env["ASTROBIO_S3_SECURE"] = flag
    settings = S3Settings.from_env(env)
    assert (settings.endpoint, settings.secure) == ("minio:9000", secure)


def test_minio_key_names_and_default_region() -> None:
    env = {
        "ASTROBIO_S3_ENDPOINT": "minio:9000",
        "MINIO_ACCESS_KEY": "mk",
        "MINIO_SECRET_KEY": "ms",
        "AWS_DEFAULT_REGION": "us-west-2",
    }
    settings = S3Settings.from_env(env)
    assert (settings.access_key, settings.secret_key.get_secret_value(), settings.region) == ("mk", "ms", "us-west-2")


def test_ipv6_endpoint() -> None:
    assert S3Settings.from_env({**BASE, "ASTROBIO_S3_ENDPOINT": "http://[::1]:9000"}).endpoint == "[::1]:9000"


def test_all_missing_variables_are_named_at_once() -> None:
    with pytest.raises(UsageError) as info:
        S3Settings.from_env({"AWS_SECRET_ACCESS_KEY": SECRET})
    message = str(info.value)
    for name in ("ASTROBIO_S3_ENDPOINT", "AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "MINIO_ACCESS_KEY"):
        assert name in message
    assert "AWS_SECRET_ACCESS_KEY" not in message
    assert SECRET not in message


def test_empty_variables_count_as_missing() -> None:
    with pytest.raises(UsageError, match="AWS_SECRET_ACCESS_KEY"):
        S3Settings.from_env({"ASTROBIO_S3_ENDPOINT": "m:1", "AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": ""})


@pytest.mark.parametrize(
    ("endpoint", "extra", "match"),
    [
        ("ftp://minio:9000", {}, "scheme 'ftp'"),
        ("http://minio:9000/bucket", {}, "path"),
        ("http://minio:notaport", {}, "invalid port"),
        ("http://", {}, "no host"),
        ("minio:9000", {"ASTROBIO_S3_SECURE": "maybe"}, "ASTROBIO_S3_SECURE='maybe'"),
        ("https://minio:9000", {"ASTROBIO_S3_SECURE": "false"}, "drop one"),
    ],
)
def test_bad_endpoints(endpoint: str, extra: dict[str, str], match: str) -> None:
    with pytest.raises(UsageError, match=match) as info:
        S3Settings.from_env({**BASE, "ASTROBIO_S3_ENDPOINT": endpoint, **extra})
    assert "\n" not in str(info.value)


def test_user_info_in_endpoint_is_refused_without_echoing_it() -> None:
    with pytest.raises(UsageError) as info:
        S3Settings.from_env({**BASE, "ASTROBIO_S3_ENDPOINT": f"http://user:{SECRET}@minio:9000"})
    assert SECRET not in str(info.value)
    assert "ASTROBIO_S3_ENDPOINT" in str(info.value)


def test_secret_never_in_repr_str_or_dump() -> None:
    settings = S3Settings.from_env({**BASE, "ASTROBIO_S3_ENDPOINT": "minio:9000", "AWS_SESSION_TOKEN": "tok3n-value"})
    for text in (repr(settings), str(settings), settings.model_dump_json(), str(settings.model_dump())):
        assert SECRET not in text
        assert "tok3n-value" not in text
    assert "minio:9000" in repr(settings)


def test_from_env_does_not_read_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASTROBIO_S3_ENDPOINT", "minio:9000")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "a")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "b")
    with pytest.raises(UsageError):
        S3Settings.from_env({})
