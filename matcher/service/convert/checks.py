"""Shared pieces of validating conversion: limits, the violation collector and column checks.

Every check works on numpy columns read in one pass from the messages and reports offending
rows as ``FieldViolation``s whose ``field`` is a proto path. Paths are built by ``Path``
functions (row -> path) so that one check serves ``volunteers[3].home`` in a MatchRequest,
``volunteers[3].volunteer.home`` in an upsert and ``availability[2]`` in a replacement.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from matcher.core.arrays import F64, I64, Bool
from matcher.core.skills import SKILL_BIT
from matcher.errors import FieldViolation, ValidationError
from matcher.v1 import match_pb2

#: The most field violations one error lists.
MAX_VIOLATIONS = 100
#: Longest id accepted, in characters.
MAX_ID_CHARS = 128
#: Longest branch or team id accepted, in characters.
MAX_GROUP_ID_CHARS = 64
#: Largest policy weight accepted (keeps every pair's cost finite).
MAX_WEIGHT = 1e6
MAX_RADIUS_KM = 500.0
MIN_VALUE, MAX_VALUE = 1, 1_000_000
#: The Timestamp range: 0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z.
MIN_SECONDS, MAX_SECONDS = -62_135_596_800, 253_402_300_799
MAX_NANOS = 999_999_999
MAX_SKILL_LEVEL, DEFAULT_SKILL_LEVEL = 5, 3
UNKNOWN_SKILL = -1
FLOAT_MAX = float(np.finfo(np.float64).max)

Path = Callable[[int], str]


class Violations:
    """Collects field violations up to ``MAX_VIOLATIONS``; raises them all at the end."""

    def __init__(self) -> None:
        self.items: list[FieldViolation] = []
        self.truncated = False

    def add(self, field: str, description: str) -> None:
        if len(self.items) >= MAX_VIOLATIONS:
            self.truncated = True
        else:
            self.items.append(FieldViolation(field, description))

    def rows(self, bad: Bool, path: Path, description: str | Path) -> None:
        """One violation per true entry of ``bad`` (stops early once the list is full)."""
        for i in np.flatnonzero(bad).tolist():
            if len(self.items) >= MAX_VIOLATIONS:
                self.truncated = True
                return
            self.add(path(i), description if isinstance(description, str) else description(i))

    def raise_if_any(self) -> None:
        if self.items:
            raise ValidationError(self.items, truncated=self.truncated)


class Scan:
    """Parallel lists filled in one pass over repeated messages (with upb one pass beats one
    comprehension per field): each field a subclass annotates starts as an empty list."""

    def __init__(self) -> None:
        for name in type(self).__annotations__:
            setattr(self, name, [])


def join(parent: str, name: str) -> str:
    """``parent.name``, or ``name`` alone at the top level (``parent`` empty)."""
    return f"{parent}.{name}" if parent else name


def child(path: Path, name: str) -> Path:
    """The path of field ``name`` under each row of ``path``."""
    return lambda k: join(path(k), name)


def check_ids(ids: Sequence[str], path: Path, found: Violations) -> None:
    """Ids (at ``path(i)``) must be non-empty, at most ``MAX_ID_CHARS`` long and unique."""
    lengths = np.fromiter(map(len, ids), dtype=np.int64, count=len(ids))
    found.rows(lengths == 0, path, "must not be empty")
    found.rows(lengths > MAX_ID_CHARS, path, f"must be at most {MAX_ID_CHARS} characters")
    if len(set(ids)) == len(ids):
        return
    first: dict[str, int] = {}
    for i, ident in enumerate(ids):
        j = first.setdefault(ident, i)
        if j != i and ident:
            found.add(path(i), f"duplicate of {path(j)}")


def group_id_problem(ident: str) -> str | None:
    """Why a branch or team id is invalid, or None: at most ``MAX_GROUP_ID_CHARS`` characters,
    no control characters and no braces (Redis keys embed branch ids in hash tags)."""
    if len(ident) > MAX_GROUP_ID_CHARS:
        return f"must be at most {MAX_GROUP_ID_CHARS} characters"
    if not ident.isprintable() or "{" in ident or "}" in ident:
        return "must not contain control characters or braces"
    return None


def bad_real(x: F64, lo: float, hi: float) -> Bool:
    """True where ``x`` is NaN or outside ``[lo, hi]`` (infinities included)."""
    out: Bool = ~((x >= lo) & (x <= hi))
    return out


def f64(values: list[float]) -> F64:
    return np.array(values, dtype=np.float64)


def i64(values: list[int]) -> I64:
    return np.array(values, dtype=np.int64)


def owners(counts: list[int]) -> tuple[I64, I64]:
    """For items flattened from per-row lists of ``counts`` items: each item's row and index."""
    n = np.array(counts, dtype=np.int64)
    owner = np.repeat(np.arange(len(n), dtype=np.int64), n)
    pos = np.arange(int(n.sum()), dtype=np.int64) - np.repeat(np.cumsum(n) - n, n)
    return owner, pos


def check_points(
    present: Bool, lat: F64, lon: F64, required: Bool, path: Path, found: Violations
) -> None:
    """A GeoPoint must be present where required, with finite in-range coordinates."""
    found.rows(required & ~present, path, "is required")
    found.rows(
        present & bad_real(lat, -90, 90), child(path, "lat"), "must be a finite number in [-90, 90]"
    )
    found.rows(
        present & bad_real(lon, -180, 180),
        child(path, "lon"),
        "must be a finite number in [-180, 180]",
    )


def check_windows(
    times: I64, window: Callable[[int], match_pb2.TimeWindow], path: Path, found: Violations
) -> Bool:
    """Check windows given as rows of (start s, start ns, end s, end ns); returns bad rows.

    ``window(k)`` fetches row k's message, to test presence where the values are defaults.
    """
    bad = np.zeros(len(times), dtype=np.bool_)
    for col, side in ((0, "start"), (2, "end")):
        sec, nanos = times[:, col], times[:, col + 1]
        maybe_absent = np.flatnonzero((sec == 0) & (nanos == 0)).tolist()
        missing = np.zeros(len(times), dtype=np.bool_)
        missing[[k for k in maybe_absent if not window(k).HasField(side)]] = True
        found.rows(missing, child(path, side), "is required")
        out_of_range = ~missing & (
            (sec < MIN_SECONDS) | (sec > MAX_SECONDS) | (nanos < 0) | (nanos > MAX_NANOS)
        )
        found.rows(
            out_of_range,
            child(path, side),
            "must be a valid Timestamp (years 0001 to 9999, nanos in [0, 999999999])",
        )
        bad |= missing | out_of_range
    backwards = ~bad & (times[:, 2] <= times[:, 0])
    found.rows(backwards, child(path, "end"), "must be after start (in whole seconds)")
    result: Bool = bad | backwards
    return result


def skill_bits(codes: Sequence[str]) -> I64:
    """Each code's bit in the taxonomy, ``UNKNOWN_SKILL`` where the code is not in it."""
    return i64([SKILL_BIT.get(code, UNKNOWN_SKILL) for code in codes])


def unknown_code(codes: Sequence[str]) -> Path:
    return lambda k: f"unknown skill code {codes[k][:40]!r} (see the skill taxonomy)"
