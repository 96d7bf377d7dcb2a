"""Reading and checking ``Volunteer`` messages into a columnar ``VolunteerPool``.

Shared by inline Match volunteers (paths ``volunteers[3].home.lat``), registry upserts
(``volunteers[3].volunteer.home.lat``) and availability replacements (``availability[0]``).
Each volunteer's path comes from an ``at`` function, so messages stay exact wherever the
``Volunteer`` sits in the request.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from matcher.core.arrays import I64, U8
from matcher.core.model import VolunteerPool
from matcher.core.skills import N_SKILLS, held_masks
from matcher.errors import LimitExceededError
from matcher.service.convert.checks import (
    DEFAULT_SKILL_LEVEL,
    FLOAT_MAX,
    MAX_SKILL_LEVEL,
    UNKNOWN_SKILL,
    Path,
    Scan,
    Violations,
    bad_real,
    check_ids,
    check_points,
    check_windows,
    child,
    f64,
    i64,
    join,
    owners,
    skill_bits,
    unknown_code,
)
from matcher.v1 import match_pb2


class _VolunteerScan(Scan):
    """Every field of every volunteer, read in one pass (the fast way through upb)."""

    ids: list[str]
    has_home: list[bool]
    lat: list[float]
    lon: list[float]
    travel: list[float]
    rating: list[float]
    rating_count: list[int]
    hours: list[float]
    skill_counts: list[int]
    codes: list[str]
    levels: list[int]
    window_counts: list[int]
    times: list[int]  # start s, start ns, end s, end ns


def _scan_volunteers(vols: Sequence[match_pb2.Volunteer]) -> _VolunteerScan:
    scan = _VolunteerScan()
    codes, levels, times = scan.codes, scan.levels, scan.times
    for v in vols:
        scan.ids.append(v.id)
        scan.has_home.append(v.HasField("home"))
        home = v.home
        scan.lat.append(home.lat)
        scan.lon.append(home.lon)
        scan.travel.append(v.max_travel_km)
        scan.rating.append(v.rating)
        scan.rating_count.append(v.rating_count)
        scan.hours.append(v.recent_hours)
        skills = v.skills
        scan.skill_counts.append(len(skills))
        for s in skills:
            codes.append(s.code)
            levels.append(s.level)
        windows = v.availability
        scan.window_counts.append(len(windows))
        for w in windows:
            start, end = w.start, w.end
            times += (start.seconds, start.nanos, end.seconds, end.nanos)
    return scan


def read_volunteers(
    vols: Sequence[match_pb2.Volunteer], found: Violations, max_windows: int, at: Path
) -> VolunteerPool:
    """Read and check every volunteer, their skills and their availability windows.

    ``at(i)`` is the path of volunteer ``i`` (``volunteers[3]``), used in violations.
    """
    scan = _scan_volunteers(vols)
    check_ids(scan.ids, child(at, "id"), found)
    lat, lon = f64(scan.lat), f64(scan.lon)
    has_home = np.array(scan.has_home, dtype=np.bool_)
    check_points(has_home, lat, lon, np.ones_like(has_home), child(at, "home"), found)
    travel, rating, hours = f64(scan.travel), f64(scan.rating), f64(scan.hours)
    rating_count = i64(scan.rating_count)
    found.rows(
        bad_real(travel, 0, FLOAT_MAX),
        child(at, "max_travel_km"),
        "must be a finite number >= 0 (0 means no personal limit)",
    )
    found.rows(
        bad_real(rating, 0, 5) | ((rating_count > 0) & (rating < 1)),
        child(at, "rating"),
        "must be in [1, 5] (or 0 with rating_count 0 when not rated yet)",
    )
    found.rows(
        bad_real(hours, 0, FLOAT_MAX), child(at, "recent_hours"), "must be a finite number >= 0"
    )
    levels = _read_skills(scan, found, at)
    owner, start, end = read_availability(
        vols, scan.window_counts, scan.times, found, max_windows, at
    )
    return VolunteerPool(
        ids=tuple(scan.ids),
        skill_mask=held_masks(levels),
        levels=levels,
        lat=lat,
        lon=lon,
        max_travel_km=travel,
        rating=rating,
        rating_count=rating_count,
        recent_hours=hours,
        window_owner=owner.astype(np.int32),
        window_start=start,
        window_end=end,
    )


def _read_skills(scan: _VolunteerScan, found: Violations, at: Path) -> U8:
    """The (volunteers, N_SKILLS) level matrix; level 0 means 3, codes distinct and known."""
    owner, pos = owners(scan.skill_counts)
    level = i64(scan.levels)
    bits = skill_bits(scan.codes)

    def path(k: int) -> str:
        return join(at(int(owner[k])), f"skills[{pos[k]}]")

    unknown = bits == UNKNOWN_SKILL
    found.rows(unknown, child(path, "code"), unknown_code(scan.codes))
    too_high = level > MAX_SKILL_LEVEL
    found.rows(too_high, child(path, "level"), "must be in [0, 5] (0 means 3)")
    known = np.flatnonzero(~unknown)
    order = known[np.argsort(owner[known] * 64 + bits[known], kind="stable")]
    sorted_key = owner[order] * 64 + bits[order]
    for r in (np.flatnonzero(sorted_key[1:] == sorted_key[:-1]) + 1).tolist():
        k, first = order[r], order[r - 1]
        found.add(f"{path(k)}.code", f"duplicate of skills[{pos[first]}]")
    levels = np.zeros((len(scan.ids), N_SKILLS), dtype=np.uint8)
    ok = ~unknown & ~too_high
    levels[owner[ok], bits[ok]] = np.where(level[ok] == 0, DEFAULT_SKILL_LEVEL, level[ok])
    return levels


def read_availability(
    vols: Sequence[match_pb2.Volunteer],
    counts: list[int],
    flat_times: list[int],
    found: Violations,
    max_windows: int,
    at: Path,
) -> tuple[I64, I64, I64]:
    """Owner, start and end of every availability window, checked for order and overlap.

    ``counts`` holds each volunteer's number of windows and ``flat_times`` every window's
    (start s, start ns, end s, end ns), volunteer after volunteer. A volunteer with more than
    ``max_windows`` windows is a ``LimitExceededError`` (the first such one is named).
    """
    over = np.flatnonzero(np.array(counts, dtype=np.int64) > max_windows)
    if len(over):
        i = int(over[0])
        raise LimitExceededError(
            "MATCHER_MAX_WINDOWS_PER_VOLUNTEER",
            max_windows,
            counts[i],
            f"{child(at, 'availability')(i)}: windows",
        )
    owner, pos = owners(counts)

    def path(k: int) -> str:
        return join(at(int(owner[k])), f"availability[{pos[k]}]")

    times = i64(flat_times).reshape(-1, 4)
    start, end = times[:, 0].copy(), times[:, 2].copy()
    bad = check_windows(times, lambda k: vols[owner[k]].availability[pos[k]], path, found)
    good = np.flatnonzero(~bad)
    order = good[np.lexsort((start[good], owner[good]))]
    clash = (owner[order][1:] == owner[order][:-1]) & (start[order][1:] < end[order][:-1])
    for r in (np.flatnonzero(clash) + 1).tolist():
        k, earlier = order[r], order[r - 1]
        found.add(path(k), f"overlaps availability[{pos[earlier]}]")
    return owner, start, end
