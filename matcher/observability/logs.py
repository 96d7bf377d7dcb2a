"""Logging handlers, configured once at the entry point: human-readable lines by default,
one JSON object per line with ``MATCHER_LOG_FORMAT=json``. Library modules only call
``logging.getLogger(__name__)``.

Fields passed as ``extra={"fields": {...}}`` (the access log's method, code, duration and
batch sizes) become JSON keys, or ``key=value`` pairs in the human format. Callers never
pass residents' personal data.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

FORMATS = ("text", "json")


class JsonFormatter(logging.Formatter):
    """One JSON object per record: ts, level, logger, msg and the record's fields."""

    def format(self, record: logging.LogRecord) -> str:
        body: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        body.update(getattr(record, "fields", {}) or {})
        if record.exc_info:
            body["exc"] = self.formatException(record.exc_info)
        return json.dumps(body, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """``time level logger: message key=value ...``."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = getattr(record, "fields", None) or {}
        shown = getattr(record, "shown", ())
        extra = [f"{k}={v}" for k, v in fields.items() if k not in shown]
        if extra:
            line += " " + " ".join(extra)
        return line


def configure_logging(level: str, fmt: str = "text") -> None:
    """Install one stderr handler on the root logger (replacing any earlier one)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
