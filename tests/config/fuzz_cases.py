"""Hypothesis strategies for hostile configs, and the oracle every one of them must satisfy.

A case is a list of (key path, value) mutations of an empty config, applied either as a YAML file
or as `--set` overrides, or a whole YAML text that is not a config at all. The oracle: the command
exits 0 (the config is valid), or exits 2 with exactly one `error:` line that names the file or a
key path that was mutated (or one of its parent sections), and never a traceback.
"""

from __future__ import annotations

import math
import types
from dataclasses import dataclass
from typing import Any, Union, get_args, get_origin

import yaml
from hypothesis import strategies as st
from pydantic import BaseModel

from astrobio.config.schema import AstrobioConfig
from astrobio.errors import one_line


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if get_origin(annotation) in (Union, types.UnionType):
        return next((m for a in get_args(annotation) if (m := _model_in(a)) is not None), None)
    return None


def schema_paths(model: type[BaseModel] = AstrobioConfig, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every section and field path of the schema, so mutations hit real fields most of the time."""
    out: list[tuple[str, ...]] = []
    for name, field in model.model_fields.items():
        path = (*prefix, name)
        out.append(path)
        inner = _model_in(field.annotation)
        if inner is not None:
            out += schema_paths(inner, path)
    return out


PATHS = schema_paths()

odd_text = st.one_of(
    st.text(max_size=20),
    st.sampled_from(["", " ", "\x00", "a\x00b", "\u202e", "\u2028", "é", "𝔵", "../..", "/etc/passwd", "C:\\x",
                     "nan", ".inf", "-.inf", "1e999", "0x10", "true", "null", "~", "[1", "{a: 1", "&a [*a]",
                     "!!python/object/apply:os.system [id]", "x" * 300, "٣", "１２"]),
)
scalars = st.one_of(
    st.none(), st.booleans(), odd_text, st.integers(0, 100), st.floats(0, 1),
    st.sampled_from(["auto", "cpu", "max", "min", "cosine", "stop", "skip", "gcn", "textbook"]),
    st.integers(), st.integers(min_value=2**63 - 10, max_value=2**200), st.integers(max_value=-(2**63)),
    st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([math.nan, math.inf, -math.inf, 1e308, -0.0, 5e-324]),
)
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(odd_text, inner, max_size=3)), max_leaves=8)
"""Wrong types, out-of-range and huge numbers, NaN/inf, odd unicode (in keys too), nested shapes."""


def _safe_key(text: str) -> bool:
    """A key a `--set` path can carry: no '.', '=', and no whitespace `str.strip` would remove."""
    return bool(text) and "." not in text and "=" not in text and text.strip() == text


set_keys = st.text(min_size=1, max_size=12).filter(_safe_key)
known_path = st.sampled_from(PATHS)
new_path = st.builds(lambda base, key: (*base, key), st.sampled_from([(), *PATHS]), set_keys)
mutation = st.tuples(st.one_of(known_path, known_path, new_path), values)
not_a_mapping = st.one_of(st.lists(values, max_size=3).map(lambda v: yaml.safe_dump(v)),
                          scalars.map(lambda v: yaml.safe_dump(v, allow_unicode=True)),
                          st.binary(max_size=64), st.binary(max_size=64).map(lambda b: b.decode("latin-1")),
                          st.sampled_from(["[" * 2000, "a: &x {b: *x}", "- - -", "\t\trun: 1", "run: {seed: 1\n",
                                           "%YAML 1.1\n---\na: 1\n---\nb: 2\n"]))


@dataclass(frozen=True)
class Case:
    """One hostile config: mutations (as a YAML file or as `--set`), or a raw YAML text."""

    mode: str  # "yaml" | "set" | "raw"
    mutations: tuple[tuple[tuple[str, ...], Any], ...] = ()
    raw: str | bytes = ""  # bytes: written as they are (invalid UTF-8, binary garbage)

    def tree(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for path, value in self.mutations:
            node = out
            for part in path[:-1]:
                if not isinstance(node.get(part), dict):
                    node[part] = {}
                node = node[part]
            node[path[-1]] = value
        return out

    def file_bytes(self) -> bytes:
        """The config file of a "yaml" or "raw" case."""
        if self.mode == "raw":
            return self.raw if isinstance(self.raw, bytes) else self.raw.encode("utf-8")
        return yaml.safe_dump(self.tree(), allow_unicode=True).encode("utf-8")

    def overrides(self) -> list[str]:
        """The mutations as KEY=VALUE texts; a string value goes in raw, for the override parser."""
        out: list[str] = []
        for path, value in self.mutations:
            text = value if isinstance(value, str) else yaml.safe_dump(
                value, default_flow_style=True, allow_unicode=True, width=10**9).removesuffix("\n").removesuffix("\n...")
            out.append(f"{'.'.join(path)}={text}")
        return out

    def set_args(self) -> list[str]:
        return [arg for text in self.overrides() for arg in ("--set", text)]

    def names(self) -> list[str]:
        """What an error line may name: every prefix of every mutated key path, as the CLI prints it."""
        return [one_line(".".join(path[:n])) for path, _ in self.mutations for n in range(1, len(path) + 1)]


LEAVES = [p for p in PATHS if p not in {q[:len(p)] for q in PATHS if len(q) > len(p)}]
plausible = st.one_of(st.integers(0, 100), st.floats(0, 1), st.booleans(), st.none(),
                      st.sampled_from(["auto", "cpu", "max", "cosine", "stop", "gcn", "textbook", "val_auc", "r1",
                                       math.inf, math.nan, -1, 0.5, 1e-4]))
"""Values a user might really write, so a good share of cases validate (or fail on range only)."""

cases = st.one_of(
    st.builds(Case, st.just("yaml"), st.lists(st.tuples(st.sampled_from(LEAVES), plausible), min_size=1,
                                              max_size=2).map(tuple)),
    st.builds(Case, st.just("set"), st.lists(st.tuples(st.sampled_from(LEAVES), plausible), min_size=1,
                                             max_size=2).map(tuple)),
    st.builds(Case, st.just("yaml"), st.lists(mutation, min_size=1, max_size=3).map(tuple)),
    st.builds(Case, st.just("set"), st.lists(st.tuples(st.one_of(known_path, new_path).filter(
        lambda p: all(_safe_key(k) for k in p)), values), min_size=1, max_size=3).map(tuple)),
    st.builds(Case, st.just("raw"), st.just(()), not_a_mapping),
)


def check_outcome(case: Case, code: int, stderr: str, source: str) -> str:
    """The oracle; returns 'valid' or 'refused' and raises AssertionError naming what went wrong."""
    assert "Traceback" not in stderr, stderr[-2000:]
    if code == 0:
        return "valid"
    assert code == 2, (code, stderr[-2000:])
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr[-2000:]
    line = lines[0]
    assert "internal failure" not in line, line
    if case.mode == "set":
        assert any(name in line for name in case.names()), (case.names(), line)
    else:
        assert source in line, (source, line)
        rest = line.split(source, 1)[1]
        if case.mode == "yaml" and "invalid YAML" not in rest and "contains itself" not in rest:
            assert any(name in rest for name in case.names()), (case.names(), line)
    return "refused"


def numbers_in(tree: Any) -> list[float | int]:
    """Every number in a resolved config dump (bools excluded)."""
    if isinstance(tree, dict):
        return [n for v in tree.values() for n in numbers_in(v)]
    if isinstance(tree, list):
        return [n for v in tree for n in numbers_in(v)]
    return [tree] if isinstance(tree, (int, float)) and not isinstance(tree, bool) else []


def check_resolved(dump: Any) -> None:
    """A config that validated holds only finite numbers that fit in 64 bits (torch, numpy and
    Kubernetes manifests all take these values later)."""
    assert isinstance(dump, dict), dump
    for n in numbers_in(dump):
        assert math.isfinite(n) and abs(n) < 2**63, f"valid config holds {n!r}"
