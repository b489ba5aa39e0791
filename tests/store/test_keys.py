"""Key validation: the guard that keeps keys from becoming paths outside a store."""

from __future__ import annotations

import pytest

from astrobio.errors import UsageError
from astrobio.store import artifact_prefix, join_key, validate_key, validate_name, validate_prefix

GOOD_KEYS = [
    "a",
    "model.safetensors",
    "runs/r1/pretrain/graph_vae/COMPLETE",
    "a/b/c/d.txt",
    "..hidden/x",  # '..' only as a whole segment is special
    "a/.b",
    "with space/and-dash_underscore.ext",
    "ünïcode/ключ",
]

BAD_KEYS = [
    ("", "empty"),
    ("..", "'..' segment"),
    ("a/../b", "'..' segment"),
    ("../etc/passwd", "'..' segment"),
    (".", "'.' segment"),
    ("a/./b", "'.' segment"),
    ("/abs", "absolute"),
    ("/", "absolute"),
    ("a//b", "empty segment"),
    ("a/", "empty segment"),
    ("a\\b", "backslash"),
    ("..\\x", "backslash"),
    ("a\x00b", "control character"),
    ("\x00", "control character"),
    ("a\nb", "control character"),
    ("tab\there", "control character"),
    ("C:/windows", "drive letter"),
    ("c:x", "drive letter"),
    ("x" * 1025, "longer than"),
]


@pytest.mark.parametrize("key", GOOD_KEYS)
def test_good_keys_are_returned_unchanged(key: str) -> None:
    assert validate_key(key) == key


@pytest.mark.parametrize(("key", "reason"), BAD_KEYS)
def test_bad_keys_are_rejected_naming_the_key(key: str, reason: str) -> None:
    with pytest.raises(UsageError) as info:
        validate_key(key)
    message = str(info.value)
    assert reason in message
    assert repr(key)[:60] in message
    assert "\n" not in message and "\x00" not in message  # one line, even for a control character


def test_non_string_key_is_rejected() -> None:
    with pytest.raises(UsageError, match="not a string"):
        validate_key(b"bytes")  # type: ignore[arg-type]


def test_join_key_skips_empty_parts_and_validates_the_result() -> None:
    assert join_key("runs/r1", "a.txt") == "runs/r1/a.txt"
    assert join_key("", "a.txt") == "a.txt"
    with pytest.raises(UsageError, match="empty segment"):
        join_key("runs/", "a.txt")
    with pytest.raises(UsageError, match=r"'\.\.' segment"):
        join_key("runs", "..", "x")
    with pytest.raises(UsageError):
        join_key()


def test_validate_prefix_allows_root_and_a_trailing_slash() -> None:
    assert validate_prefix("") == ""
    assert validate_prefix("runs/r1/") == "runs/r1"
    with pytest.raises(UsageError):
        validate_prefix("/")
    with pytest.raises(UsageError):
        validate_prefix("runs//")


def test_artifact_prefix_layout() -> None:
    assert artifact_prefix("r-2024.01_a", "pretrain", "graph_vae") == "runs/r-2024.01_a/pretrain/graph_vae"


@pytest.mark.parametrize("bad", ["", "..", ".hidden", "-dash", "a/b", "a b", "a\\b", "x" * 129, "é"])
def test_artifact_prefix_rejects_unsafe_names(bad: str) -> None:
    with pytest.raises(UsageError) as info:
        artifact_prefix(bad, "pretrain", "graph_vae")
    assert "run id" in str(info.value)
    with pytest.raises(UsageError, match="component"):
        artifact_prefix("r1", "pretrain", bad)


def test_validate_name_accepts_the_maximum_length() -> None:
    assert validate_name("a" * 128) == "a" * 128
