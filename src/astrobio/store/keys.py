"""Store keys: the one place that decides what a key may look like.

Keys are '/'-separated relative paths, the same on a local folder and in S3. They are checked
strictly because a key becomes a file path in `LocalStore` and in `fetch_dir`: a '..' segment, an
absolute path or a backslash could write outside the intended folder, and a control character
would make a one-line error message span several lines.
"""

from __future__ import annotations

import re
import unicodedata
import urllib.parse

from astrobio.errors import UsageError

NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
"""A single safe name: run ids, phase and component names (also valid as a k8s label value)."""

MAX_KEY_BYTES = 1024
"""S3's limit on an object name; a local key longer than this would not survive a move to S3."""

_DRIVE_RE = re.compile(r"^[A-Za-z]:")
_EXAMPLE = "expected a relative path like 'runs/r1/pretrain/graph_vae/model.safetensors'"


MAX_SEGMENT_BYTES = 255
"""The longest file name common file systems allow; a longer segment fails as a raw OSError."""


def _disguised(key: str) -> str | None:
    """Why `key` becomes unsafe once decoded by a layer below us, or None.

    A percent-encoded ('%2e%2e') or look-alike ('\u2025', fullwidth '\uff0e\uff0e', '\uff0f') dot-dot
    or slash is harmless in a local file name, but an HTTP proxy that decodes '%xx', or a tool that
    applies Unicode NFKC normalisation, would turn it into a real traversal. No key astrobio writes
    needs such characters, so they are refused rather than trusted to every layer.
    """
    decoded = unicodedata.normalize("NFKC", urllib.parse.unquote(key))
    if decoded == key:
        return None
    for segment in decoded.replace("\\", "/").split("/"):
        if segment in (".", ".."):
            return "has a segment that decodes or normalises to '.' or '..'"
    if decoded.count("/") != key.count("/") or "\\" in decoded or decoded.startswith("/"):
        return "has a character that decodes or normalises to a path separator"
    return None


def _key_problem(key: object) -> str | None:
    """Return why `key` is not a valid key, or None when it is."""
    if not isinstance(key, str):
        return f"is a {type(key).__name__}, not a string"
    if key == "":
        return "is empty"
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in key):
        return "contains a NUL or control character"
    if "\\" in key:
        return "contains a backslash"
    if key.startswith("/"):
        return "is an absolute path"
    if _DRIVE_RE.match(key):
        return "starts with a drive letter"
    if len(key.encode("utf-8")) > MAX_KEY_BYTES:
        return f"is longer than {MAX_KEY_BYTES} bytes"
    for segment in key.split("/"):
        if segment == "":
            return "has an empty segment ('//' or a trailing '/')"
        if segment in (".", ".."):
            return f"has a '{segment}' segment"
        if len(segment.encode("utf-8")) > MAX_SEGMENT_BYTES:
            return f"has a segment longer than {MAX_SEGMENT_BYTES} bytes"
    return _disguised(key)


def validate_key(key: str) -> str:
    """Return `key` unchanged if it is a safe relative key; raise UsageError naming it otherwise."""
    problem = _key_problem(key)
    if problem is not None:
        shown = key[:120] + "..." if isinstance(key, str) and len(key) > 120 else key
        raise UsageError(f"invalid store key {shown!r}: it {problem}; {_EXAMPLE}")
    return key


def validate_prefix(prefix: str) -> str:
    """A listing prefix: '' (the whole store) or a valid key; a trailing '/' is tolerated."""
    if prefix == "":
        return ""
    stripped = prefix[:-1] if isinstance(prefix, str) and prefix.endswith("/") and prefix != "/" else prefix
    return validate_key(stripped)


def join_key(*parts: str) -> str:
    """Join key parts with '/', skipping empty parts (an empty prefix means the store root).

    Parts are not normalised: 'a/' + 'b' gives 'a//b', which is rejected, so a caller's mistake
    surfaces instead of being silently repaired.
    """
    for part in parts:
        if not isinstance(part, str):
            raise UsageError(f"invalid store key part {part!r}: expected a string")
    return validate_key("/".join(part for part in parts if part != ""))


def validate_name(name: str, what: str = "name") -> str:
    """Return `name` if it is a single safe name (`NAME_RE`); raise UsageError naming it otherwise."""
    if not isinstance(name, str) or NAME_RE.fullmatch(name) is None:
        shown = name[:80] + "..." if isinstance(name, str) and len(name) > 80 else name
        raise UsageError(
            f"invalid {what} {shown!r}: expected 1-128 characters of letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return name


def artifact_prefix(run_id: str, phase: str, component: str) -> str:
    """The store prefix of one artifact: `runs/<run_id>/<phase>/<component>` (DESIGN.md layout)."""
    return "/".join(
        (
            "runs",
            validate_name(run_id, "run id"),
            validate_name(phase, "phase"),
            validate_name(component, "component"),
        )
    )
