"""Refuse YAML trees that no config can be, before anything walks them recursively.

YAML anchors can make a mapping contain itself (`a: &x {b: *x}`) and a file or `--set` value can
nest thousands of levels deep (`[[[[...`); either would end in a RecursionError deep inside the
merge or pydantic, i.e. a traceback instead of a line naming where the problem is.
"""

from __future__ import annotations

from typing import Any

from astrobio.errors import UsageError

MAX_DEPTH = 32
"""Far deeper than any real config (the deepest field is about 5 levels down)."""


def check_tree(tree: Any, source: str) -> None:
    """Raise UsageError naming `source` and the key path of a cycle or of too deep nesting."""
    _walk(tree, source, [], set())


def _walk(node: Any, source: str, path: list[str], active: set[int]) -> None:
    if not isinstance(node, (dict, list)):
        return
    where = ".".join(path) or "<top>"
    if id(node) in active:
        raise UsageError(f"{source}: '{where}' contains itself (a YAML alias cycle); write the values out")
    if len(path) >= MAX_DEPTH:
        raise UsageError(f"{source}: '{where}' nests more than {MAX_DEPTH} levels deep")
    active.add(id(node))
    items = node.items() if isinstance(node, dict) else enumerate(node)
    for key, child in items:
        _walk(child, source, [*path, str(key)], active)
    active.discard(id(node))
