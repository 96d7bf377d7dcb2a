"""Repository checks that run with the suite: generated stubs match protos/, ruff and mypy
(strict) are clean. They run the same tools a developer runs, on the whole tree."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)


def test_committed_stubs_match_protos() -> None:
    result = _run(sys.executable, "scripts/generate_stubs.py", "--check")
    assert result.returncode == 0, result.stderr + result.stdout


def test_ruff_lint_is_clean() -> None:
    result = _run(sys.executable, "-m", "ruff", "check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_is_clean() -> None:
    result = _run(sys.executable, "-m", "ruff", "format", "--check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_is_clean() -> None:
    result = _run(sys.executable, "-m", "mypy")
    assert result.returncode == 0, result.stdout + result.stderr


def test_buf_lint_is_clean() -> None:
    if shutil.which("npm") is None or shutil.which("npx") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("npm is required under CI=true to run buf lint")
        pytest.skip("npm not installed: buf lint (an npm package) cannot run")
    if not (ROOT / "node_modules" / "@bufbuild" / "buf").exists():
        installed = _run("npm", "ci", "--no-audit", "--no-fund")
        assert installed.returncode == 0, installed.stderr
    result = _run("npx", "--no-install", "buf", "lint")
    assert result.returncode == 0, result.stdout + result.stderr
