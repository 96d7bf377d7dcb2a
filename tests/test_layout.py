"""The layout rule, checked with the suite: the import contracts of ``[tool.importlinter]`` in
pyproject.toml hold (``lint-imports``), and every module of the package is short enough to
read whole, every function short enough to hold in mind (the generated stubs in matcher/v1
aside)."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "matcher"
GENERATED = PACKAGE / "v1"
#: A module is at most this many lines (the house aims at about 300).
MODULE_LINES = 330
#: A function or method is at most this many lines, decorators and docstring included (the
#: house aims at about 40 to 50).
FUNCTION_LINES = 60


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if GENERATED not in p.parents)


def _name(path: Path) -> str:
    return str(path.relative_to(ROOT))


def test_import_contracts_hold() -> None:
    script = Path(sys.executable).with_name("lint-imports")
    command = str(script) if script.exists() else shutil.which("lint-imports")
    if command is None:
        pytest.fail("lint-imports not found: pip install -e '.[test]' (import-linter)")
    result = subprocess.run(
        [command, "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_modules_are_short() -> None:
    long = [
        f"{_name(path)}: {lines} lines"
        for path in _modules()
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MODULE_LINES
    ]
    assert not long, f"modules over {MODULE_LINES} lines:\n" + "\n".join(long)


def test_functions_are_short() -> None:
    long = []
    for path in _modules():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                lines = (node.end_lineno or node.lineno) - first + 1
                if lines > FUNCTION_LINES:
                    long.append(f"{_name(path)}:{node.lineno} {node.name}: {lines} lines")
    assert not long, f"functions over {FUNCTION_LINES} lines:\n" + "\n".join(long)
