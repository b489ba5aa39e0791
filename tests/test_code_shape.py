"""The house limits of docs/DESIGN.md hold in src/astrobio/ (#17 item 5): no function over 60 lines,
no file over 300 lines, and no repository root computed from `__file__` (which silently points into
site-packages in an installed wheel; astrobio.checkout finds the checkout from the working folder,
package data comes through importlib.resources)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "astrobio"
MAX_FUNCTION_LINES = 60
MAX_FILE_LINES = 300


def _sources() -> list[Path]:
    files = sorted(PACKAGE.rglob("*.py"))
    assert files, f"no sources under {PACKAGE}"
    return files


def _long_functions(path: Path, root: Path = PACKAGE) -> list[str]:
    """`file:line name (N lines)` for every function, method or nested function over the limit,
    counted from its first decorator to its last line."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            length = (node.end_lineno or node.lineno) - start + 1
            if length > MAX_FUNCTION_LINES:
                found.append(f"{path.relative_to(root)}:{node.lineno} {node.name} ({length} lines)")
    return found


def test_no_function_over_60_lines() -> None:
    offenders = [hit for path in _sources() for hit in _long_functions(path)]
    assert offenders == [], f"functions over {MAX_FUNCTION_LINES} lines: {offenders}"


def test_no_file_over_300_lines() -> None:
    offenders = [f"{p.relative_to(PACKAGE)} ({n} lines)" for p in _sources()
                 if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_FILE_LINES]
    assert offenders == [], f"files over {MAX_FILE_LINES} lines: {offenders}"


def test_the_checker_sees_a_long_function(tmp_path: Path) -> None:
    """The AST count itself: a 61-line function is caught, a 60-line one is not."""
    body = "\n".join("    x = 1" for _ in range(59))
    (tmp_path / "long.py").write_text(f"def long():\n{body}\n    return x\n", encoding="utf-8")
    (tmp_path / "ok.py").write_text(f"def ok():\n{body}\n", encoding="utf-8")
    assert _long_functions(tmp_path / "long.py", tmp_path) == ["long.py:1 long (61 lines)"]
    assert _long_functions(tmp_path / "ok.py", tmp_path) == []


def _file_names(path: Path) -> list[int]:
    """Lines that use the bare name `__file__` (not another package's `cobra.__file__`, not text)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return [n.lineno for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id == "__file__"]


def test_no_path_from_this_file() -> None:
    """No `Path(__file__).parents[3]` and the like anywhere in the package; a
    third-party package's own data folder (`Path(cobra.__file__).parent`) is not a repository
    lookup."""
    offenders = [f"{p.relative_to(PACKAGE)}:{line}" for p in sorted(PACKAGE.rglob("*.py")) for line in _file_names(p)]
    assert offenders == [], f"paths computed from __file__: {offenders}"
