"""Repository checks that run with the suite: generated stubs match protos/, ruff and mypy
(strict) are clean. They run the same tools a developer runs, on the whole tree."""

from __future__ import annotations

import shutil
import subprocess
import sys

from tests.support.paths import ROOT
from tests.support.prerequisites import missing_prerequisite


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
        missing_prerequisite("npm not installed: buf lint (an npm package) cannot run")
    if not (ROOT / "node_modules" / "@bufbuild" / "buf").exists():
        # .ci/run installs it before the suite; a test never installs packages.
        missing_prerequisite("buf is not installed: run `npm ci` at the repository root first")
    result = _run("npx", "--no-install", "buf", "lint")
    assert result.returncode == 0, result.stdout + result.stderr
