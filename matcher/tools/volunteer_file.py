"""Volunteer files for bulk import: CSV (a header row) or JSON Lines, one volunteer per row.

Columns (CSV header names, or JSON keys); only ``id``, ``lat`` and ``lon`` are required:

- ``id``: the volunteer's id, at most 128 characters.
- ``branch_id``: grid / branch (网格分行) id, at most 64 characters; default none.
- ``team_ids``: team ids separated by ``;`` (JSON: also a list of strings); default none.
- ``active``: ``true`` or ``false`` (also ``yes``/``no``, ``1``/``0``); default true.
- ``lat``, ``lon``: home, WGS84 degrees.
- ``skills``: ``code:level`` pairs separated by ``;``, e.g. ``elderly_care:4;cleaning``
  (level 1-5, absent means 3). JSON: also a list of such strings, or an object
  ``{"elderly_care": 4}``. Default none.
- ``availability``: ``start/end`` pairs of ISO 8601 instants with a UTC offset, separated by
  ``;``, e.g. ``2026-11-30T08:00:00+08:00/2026-11-30T12:00:00+08:00``. JSON: also a list of
  ``"start/end"`` strings or of ``[start, end]`` pairs. Default none (never available).
- ``max_travel_km``: km, 0 (the default) means no personal limit.
- ``rating``, ``rating_count``: mean rating 1-5 and how many ratings it is made of; default
  0 and 0 (not rated yet).
- ``recent_hours``: hours served recently (the time bank); default 0.

The kind is chosen by extension: ``.csv``, or ``.jsonl`` / ``.ndjson``. Empty CSV cells and
absent or ``null`` JSON keys take the default; blank lines are skipped; line numbers count
every physical line (the CSV header is line 1). This module only parses: the volunteer checks
are the server's own (``matcher.service.convert``), run by ``matcher.tools.volunteer_import``.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from matcher.v1 import volunteers_pb2

COLUMNS = (
    "id",
    "branch_id",
    "team_ids",
    "active",
    "lat",
    "lon",
    "skills",
    "availability",
    "max_travel_km",
    "rating",
    "rating_count",
    "recent_hours",
)
REQUIRED = ("id", "lat", "lon")
KINDS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_SECOND = dt.timedelta(seconds=1)
_TRUE, _FALSE = {"true", "yes", "1", "y", "t"}, {"false", "no", "0", "n", "f"}


class FileFormatError(ValueError):
    """The file cannot be read as volunteers at all (unknown kind, bad header)."""


@dataclass
class Row:
    """One parsed row: its line, the upsert built from it (None if unparseable), problems."""

    line: int
    upsert: volunteers_pb2.VolunteerUpsert | None
    problems: list[tuple[str, str]] = field(default_factory=list)  # (field, problem)


def read_volunteer_file(path: Path) -> Iterator[Row]:
    """Parse every row of ``path``; raises ``FileFormatError`` or ``OSError``."""
    kind = KINDS.get(path.suffix.lower())
    if kind is None:
        raise FileFormatError(f"{path}: expected a .csv, .jsonl or .ndjson file")
    if kind == "csv":
        yield from _read_csv(path)
    else:
        yield from _read_jsonl(path)


def _read_csv(path: Path) -> Iterator[Row]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        header = [name.strip() for name in next(reader, [])]
        _check_header(path, header)
        width = len(header)
        while True:
            line = reader.line_num + 1
            cells = next(reader, None)
            if cells is None:
                return
            if not any(cell.strip() for cell in cells):
                continue  # a blank line
            if len(cells) != width:
                problem = f"has {len(cells)} cells; the header has {width}"
                yield Row(line, None, [("row", problem)])
                continue
            yield parse_row(line, dict(zip(header, cells, strict=True)))


def _check_header(path: Path, header: list[str]) -> None:
    unknown = [name for name in header if name not in COLUMNS]
    missing = [name for name in REQUIRED if name not in header]
    repeated = sorted({name for name in header if header.count(name) > 1})
    for names, what in ((unknown, "unknown"), (missing, "missing"), (repeated, "repeated")):
        if names:
            raise FileFormatError(
                f"{path}:1: header: {what} column(s) {', '.join(names)} "
                f"(columns: {', '.join(COLUMNS)})"
            )


def _read_jsonl(path: Path) -> Iterator[Row]:
    with path.open(encoding="utf-8-sig") as handle:
        for line, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            try:
                values = json.loads(text)
            except json.JSONDecodeError as err:
                yield Row(line, None, [("row", f"is not valid JSON ({err.msg})")])
                continue
            if not isinstance(values, dict):
                yield Row(line, None, [("row", "must be a JSON object")])
                continue
            unknown = sorted(set(values) - set(COLUMNS))
            if unknown:
                yield Row(line, None, [("row", f"unknown key(s) {', '.join(unknown)}")])
                continue
            yield parse_row(line, values)


def parse_row(line: int, values: Mapping[str, object]) -> Row:
    """The upsert of one row (cells as text, or JSON values), with every parse problem.

    The message is built in one constructor call from plain values (much faster through upb
    than setting fields one by one); the values are the server's to check.
    """
    row = Row(line, None)
    vals = {k: v for k, v in values.items() if v is not None and v != ""}
    for name in ("lat", "lon"):
        if name not in vals:
            row.problems.append((name, "is required"))
    count = _number(row, vals, "rating_count")
    if count != int(count) or not 0 <= count < 2**32:
        row.problems.append(("rating_count", "must be a whole number >= 0"))
        count = 0
    volunteer = {
        "id": _text(row, vals, "id"),
        "home": {"lat": _number(row, vals, "lat"), "lon": _number(row, vals, "lon")},
        "skills": _skills(row, vals.get("skills")),
        "availability": _windows(row, vals.get("availability")),
        "max_travel_km": _number(row, vals, "max_travel_km"),
        "rating": _number(row, vals, "rating"),
        "rating_count": int(count),
        "recent_hours": _number(row, vals, "recent_hours"),
    }
    active = _flag(vals.get("active", True))
    if active is None:
        row.problems.append(("active", "must be true or false"))
    row.upsert = volunteers_pb2.VolunteerUpsert(
        volunteer=volunteer,
        branch_id=_text(row, vals, "branch_id"),
        team_ids=_items(row, vals.get("team_ids"), "team_ids"),
        active=active is not False,
    )
    return row


def _text(row: Row, vals: Mapping[str, object], name: str) -> str:
    value = vals.get(name, "")
    if isinstance(value, str):
        return value.strip()
    row.problems.append((name, "must be a string"))
    return ""


def _number(row: Row, vals: Mapping[str, object], name: str) -> float:
    value = vals.get(name, 0.0)
    try:
        if isinstance(value, bool):
            raise ValueError(name)
        return float(value) if isinstance(value, int | float) else float(str(value))
    except ValueError:
        row.problems.append((name, "must be a number"))
        return 0.0


def _flag(value: object) -> bool | None:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    return True if text in _TRUE else False if text in _FALSE else None


def _items(row: Row, value: object, name: str) -> list[str]:
    """A ``;``-separated text or a JSON list of strings, as a list (empty pieces dropped)."""
    if value is None:
        return []
    if isinstance(value, str):
        return [piece.strip() for piece in value.split(";") if piece.strip()]
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return [item.strip() for item in value]
    row.problems.append((name, "must be text separated by ';' or a list of strings"))
    return []


Fields = list[dict[str, Any]]


def _skills(row: Row, value: object) -> Fields:
    """Skills from ``code:level;...``, a list of such strings, or ``{code: level}``; the level
    range is the server's check (``skills[k].level``), only its form is checked here."""
    if isinstance(value, dict):
        pairs = [(str(code), level) for code, level in value.items()]
    else:
        pairs = [
            (code, level)
            for code, _, level in (t.partition(":") for t in _items(row, value, "skills"))
        ]
    out = []
    for k, (code, level) in enumerate(pairs):
        number = _level(level)
        if number is None:
            row.problems.append((f"skills[{k}].level", "must be a whole number 1 to 5"))
        else:
            out.append({"code": code.strip(), "level": number})
    return out


def _level(level: object) -> int | None:
    """A skill level as an int (0 when absent), None when it is not a whole number >= 0."""
    if level is None or level == "":
        return 0
    if isinstance(level, bool) or not isinstance(level, int | str):
        return None
    try:
        number = int(level)
    except ValueError:
        return None
    return number if number >= 0 else None


def _windows(row: Row, value: object) -> Fields:
    """Windows from ``start/end;...``, a list of such strings, or a list of pairs."""
    spans: list[object] = (
        value if isinstance(value, list) else list(_items(row, value, "availability"))
    )
    out = []
    for k, span in enumerate(spans):
        if isinstance(span, str):
            span = span.split("/")
        if not (
            isinstance(span, list) and len(span) == 2 and all(isinstance(t, str) for t in span)
        ):
            row.problems.append((f"availability[{k}]", "must be start/end"))
            continue
        window = {}
        for side, text in zip(("start", "end"), span, strict=True):
            stamp = _timestamp(text)
            if stamp is None:
                problem = "must be an ISO 8601 instant with a UTC offset"
                row.problems.append((f"availability[{k}].{side}", problem))
            else:
                window[side] = stamp
        out.append(window)
    return out


def _timestamp(text: str) -> dict[str, int] | None:
    """``{"seconds", "nanos"}`` of an ISO 8601 instant with an offset (cached: files repeat
    the same instants a lot), None if it is not one."""
    found = _INSTANTS.get(text)
    if found is not None or text in _INSTANTS:
        return found
    try:
        instant = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        instant = None
    if instant is None or instant.tzinfo is None:
        stamp = None
    else:
        stamp = {"seconds": (instant - _EPOCH) // _SECOND, "nanos": instant.microsecond * 1000}
    if len(_INSTANTS) >= _INSTANT_CACHE:
        _INSTANTS.clear()
    _INSTANTS[text] = stamp
    return stamp


_INSTANT_CACHE = 4096
_INSTANTS: dict[str, dict[str, int] | None] = {}
