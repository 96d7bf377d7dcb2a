"""Writing result files atomically (a ``.tmp`` file beside the target, then a rename), so a
reader never sees half a file: the suite's report, the mixed load's and the dispatch rounds'
JSON all go through here."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def write_text(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` (its folder made if missing); returns ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path


def write_json(document: dict[str, Any], path: Path) -> Path:
    """Write ``document`` as indented JSON with a final newline; returns ``path``."""
    return write_text(path, json.dumps(document, indent=2) + "\n")
