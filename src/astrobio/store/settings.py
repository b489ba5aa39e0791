"""S3 connection settings, and the one function that reads their environment variables.

Endpoint and keys come from the environment (or a Kubernetes Secret mounted as env), never from a
config file (DESIGN.md). `S3Settings.from_env` takes the mapping explicitly so library code never
touches `os.environ`: the CLI passes it, tests pass a dict.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, SecretStr

from astrobio.errors import UsageError

ENDPOINT_VARS = ("ASTROBIO_S3_ENDPOINT", "AWS_ENDPOINT_URL")
SECURE_VAR = "ASTROBIO_S3_SECURE"
ACCESS_KEY_VARS = ("AWS_ACCESS_KEY_ID", "MINIO_ACCESS_KEY")
SECRET_KEY_VARS = ("AWS_SECRET_ACCESS_KEY", "MINIO_SECRET_KEY")
SESSION_TOKEN_VAR = "AWS_SESSION_TOKEN"
REGION_VARS = ("AWS_REGION", "AWS_DEFAULT_REGION")
CA_FILE_VAR = "SSL_CERT_FILE"

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def _first(env: Mapping[str, str], names: tuple[str, ...]) -> str | None:
    """The first non-empty value among `names` (an empty variable counts as unset)."""
    for name in names:
        value = env.get(name, "").strip()
        if value:
            return value
    return None


def _parse_bool(name: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise UsageError(f"{name}={value!r} is not a boolean: expected true or false")


def parse_endpoint(value: str, secure_flag: bool | None, source: str) -> tuple[str, bool]:
    """Split an endpoint into (host[:port], secure).

    Accepted: 'http://host:port', 'https://host:port' (the scheme sets `secure`), or a bare
    'host[:port]' whose `secure` comes from ASTROBIO_S3_SECURE (default true).
    """
    expected = "expected http://host:port, https://host:port or host:port"
    has_scheme = "://" in value
    parts = urlsplit(value if has_scheme else f"//{value}")
    if "@" in parts.netloc:  # never echo: user info may hold a secret
        raise UsageError(f"{source} must not contain user info; put keys in {ACCESS_KEY_VARS[0]}/{SECRET_KEY_VARS[0]}")
    if has_scheme and parts.scheme not in ("http", "https"):
        raise UsageError(f"{source}={value!r} has scheme {parts.scheme!r}; {expected}")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise UsageError(f"{source}={value!r} has a path or query; {expected}")
    try:
        port = parts.port
    except ValueError:
        raise UsageError(f"{source}={value!r} has an invalid port; {expected}") from None
    if not parts.hostname:
        raise UsageError(f"{source}={value!r} has no host; {expected}")
    if has_scheme:
        secure = parts.scheme == "https"
        if secure_flag is not None and secure_flag != secure:
            raise UsageError(
                f"{source}={value!r} says {parts.scheme} but {SECURE_VAR} says {str(secure_flag).lower()}; "
                "drop one of them"
            )
    else:
        secure = True if secure_flag is None else secure_flag
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return (f"{host}:{port}" if port is not None else host), secure


class S3Settings(BaseModel):
    """How to reach an S3-compatible server. Secrets are SecretStr: repr, str and JSON dumps mask them."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    endpoint: str
    """host[:port], no scheme (what `minio.Minio` takes)."""
    access_key: str
    secret_key: SecretStr
    session_token: SecretStr | None = None
    region: str | None = None
    secure: bool = True
    ca_file: str | None = None
    """CA bundle for TLS (e.g. a cluster-internal CA); None = certifi's bundle."""

    @property
    def url(self) -> str:
        """The endpoint with its scheme, for messages."""
        return f"{'https' if self.secure else 'http'}://{self.endpoint}"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> S3Settings:
        """Read the settings from `env`; UsageError naming every missing variable at once."""
        missing = []
        endpoint_value = _first(env, ENDPOINT_VARS)
        if endpoint_value is None:
            missing.append(" or ".join(ENDPOINT_VARS))
        access_key = _first(env, ACCESS_KEY_VARS)
        if access_key is None:
            missing.append(" or ".join(ACCESS_KEY_VARS))
        secret_key = _first(env, SECRET_KEY_VARS)
        if secret_key is None:
            missing.append(" or ".join(SECRET_KEY_VARS))
        if missing:
            raise UsageError(f"an s3:// store needs these environment variables set: {', '.join(missing)}")
        assert endpoint_value is not None and access_key is not None and secret_key is not None

        secure_raw = env.get(SECURE_VAR, "").strip()
        secure_flag = _parse_bool(SECURE_VAR, secure_raw) if secure_raw else None
        source = next(name for name in ENDPOINT_VARS if env.get(name, "").strip())
        endpoint, secure = parse_endpoint(endpoint_value, secure_flag, source)
        token = _first(env, (SESSION_TOKEN_VAR,))
        return cls(
            endpoint=endpoint,
            access_key=access_key,
            secret_key=SecretStr(secret_key),
            session_token=SecretStr(token) if token else None,
            region=_first(env, REGION_VARS),
            secure=secure,
            ca_file=_first(env, (CA_FILE_VAR,)),
        )


_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)[^/@\s]*@")


def redact_userinfo(text: str) -> str:
    """`text` with the user info of every URL in it (`s3://KEY:SECRET@bucket`) replaced by `***@`.

    For messages that repeat a user-given URI: a key pasted into store.uri or an endpoint must not
    travel on into logs, failure reports or CI output."""
    return _USERINFO.sub(r"\g<scheme>***@", text)
