"""Where the repository is: tests that run a script, read a committed file or start
``python -m matcher.cli`` from the root use ``ROOT``."""

from __future__ import annotations

from pathlib import Path

#: The repository root (the folder holding ``pyproject.toml``).
ROOT = Path(__file__).resolve().parents[2]
