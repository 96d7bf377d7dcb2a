"""The registry's messages <-> ``VolunteerRecord``s, pool selectors and list filters.

Upserts reuse the Match volunteer checks, so paths read ``volunteers[3].volunteer.home.lat``.
Stored profiles are canonical, so that resending a volunteer is recognised as no change:
skills in taxonomy order with level 0 stored as 3, windows sorted by start, timestamps
truncated to whole seconds, team ids sorted with duplicates dropped.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from matcher.config import Settings
from matcher.core.model import VolunteerPool
from matcher.core.skills import SKILL_BIT, SKILL_CODES
from matcher.errors import LimitExceededError
from matcher.registry.model import Profile, Selector, VolunteerRecord
from matcher.service.convert.checks import (
    FLOAT_MAX,
    Violations,
    bad_real,
    check_points,
    f64,
    group_id_problem,
    join,
)
from matcher.service.convert.match_out import timestamp_fields, window_fields
from matcher.service.convert.volunteer_in import read_availability, read_volunteers
from matcher.v1 import match_pb2, volunteers_pb2

#: Page size of ListVolunteers when the caller sends 0, and the largest one served.
DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE = 100, 1000


def upserts_to_records(
    msg: volunteers_pb2.UpsertVolunteersRequest, settings: Settings | None = None
) -> tuple[list[VolunteerRecord], dict[str, int]]:
    """Validate an upsert batch; returns the records to write and the expected versions.

    Raises ``LimitExceededError`` for more than ``MATCHER_MAX_VOLUNTEERS`` entries or
    ``MATCHER_MAX_WINDOWS_PER_VOLUNTEER`` windows for one volunteer, and ``ValidationError``
    naming every bad field (``volunteers[3].volunteer.home.lat``).
    """
    entries = msg.volunteers
    pool = _read_upserts(msg, settings if settings is not None else Settings())
    records = [
        VolunteerRecord(
            id=pool.ids[i],
            profile=profile,
            branch_id=entry.branch_id,
            team_ids=tuple(sorted(set(entry.team_ids))),
            active=entry.active if entry.HasField("active") else True,
        )
        for i, (entry, profile) in enumerate(zip(entries, pool_profiles(pool), strict=True))
    ]
    expected = {
        e.volunteer.id: e.expected_version for e in entries if e.HasField("expected_version")
    }
    return records, expected


def check_upserts(
    msg: volunteers_pb2.UpsertVolunteersRequest, settings: Settings | None = None
) -> None:
    """The checks of ``upserts_to_records`` without building the records (for importers)."""
    _read_upserts(msg, settings if settings is not None else Settings())


def _read_upserts(msg: volunteers_pb2.UpsertVolunteersRequest, limits: Settings) -> VolunteerPool:
    entries = msg.volunteers
    if len(entries) > limits.max_volunteers:
        raise LimitExceededError(
            "MATCHER_MAX_VOLUNTEERS", limits.max_volunteers, len(entries), "volunteers"
        )
    found = Violations()
    if not entries:
        found.add("volunteers", "must hold at least one volunteer")
    for i, entry in enumerate(entries):
        if not entry.HasField("volunteer"):
            found.add(f"volunteers[{i}].volunteer", "is required")
        _check_groups(entry.branch_id, entry.team_ids, f"volunteers[{i}]", found)
    profiles = [e.volunteer for e in entries]
    pool = read_volunteers(
        profiles, found, limits.max_windows_per_volunteer, lambda i: f"volunteers[{i}].volunteer"
    )
    found.raise_if_any()
    return pool


def _check_groups(branch: str, teams: Sequence[str], at: str, found: Violations) -> None:
    problem = group_id_problem(branch)
    if problem:
        found.add(f"{at}.branch_id", problem)
    for k, team in enumerate(teams):
        problem = "must not be empty" if not team else group_id_problem(team)
        if problem:
            found.add(f"{at}.team_ids[{k}]", problem)


def pool_profiles(pool: VolunteerPool) -> list[Profile]:
    """One canonical ``Profile`` per row of a validated pool."""
    n = len(pool)
    holder, skill = np.nonzero(pool.levels)  # row-major: by volunteer, then taxonomy order
    codes = [SKILL_CODES[s] for s in skill.tolist()]
    held = list(zip(codes, pool.levels[holder, skill].tolist(), strict=True))
    skill_ends = np.cumsum(np.bincount(holder, minlength=n)).tolist()
    order = np.lexsort((pool.window_start, pool.window_owner))
    spans = list(
        zip(pool.window_start[order].tolist(), pool.window_end[order].tolist(), strict=True)
    )
    window_ends = np.cumsum(np.bincount(pool.window_owner, minlength=n)).tolist()
    rows = zip(
        pool.lat.tolist(),
        pool.lon.tolist(),
        pool.max_travel_km.tolist(),
        pool.rating.tolist(),
        pool.rating_count.tolist(),
        pool.recent_hours.tolist(),
        strict=True,
    )
    out, s0, w0 = [], 0, 0
    for i, (lat, lon, travel, rating, count, hours) in enumerate(rows):
        s1, w1 = skill_ends[i], window_ends[i]
        out.append(
            Profile(tuple(held[s0:s1]), lat, lon, tuple(spans[w0:w1]), travel, rating, count, hours)
        )
        s0, w0 = s1, w1
    return out


def availability_to_windows(
    availability: Sequence[match_pb2.TimeWindow], settings: Settings | None = None
) -> tuple[tuple[int, int], ...]:
    """Validate replacement windows (paths ``availability[2].end``); sorted by start."""
    limits = settings if settings is not None else Settings()
    holder = match_pb2.Volunteer(availability=availability)
    times = [
        t
        for w in availability
        for t in (w.start.seconds, w.start.nanos, w.end.seconds, w.end.nanos)
    ]
    found = Violations()
    _, start, end = read_availability(
        [holder], [len(availability)], times, found, limits.max_windows_per_volunteer, lambda _: ""
    )
    found.raise_if_any()
    return tuple(sorted(zip(start.tolist(), end.tolist(), strict=True)))


def read_selector(msg: match_pb2.PoolSelector, found: Violations, parent: str) -> Selector:
    """A ``PoolSelector`` as a ``Selector`` (ids sorted and deduplicated, so equal selectors
    share one cached index)."""
    for name in ("branch_ids", "team_ids"):
        for k, ident in enumerate(getattr(msg, name)):
            problem = "must not be empty" if not ident else group_id_problem(ident)
            if problem:
                found.add(f"{join(parent, name)}[{k}]", problem)
    center = _read_area(msg.HasField("center"), msg.center, msg.radius_km, found, parent)
    return Selector(
        branch_ids=tuple(sorted(set(msg.branch_ids))),
        team_ids=tuple(sorted(set(msg.team_ids))),
        center=center,
        radius_km=msg.radius_km if center is not None else 0.0,
    )


def _read_area(
    has_center: bool, center: match_pb2.GeoPoint, radius_km: float, found: Violations, parent: str
) -> tuple[float, float] | None:
    """``(lat, lon)`` of a search area's centre, None when absent; checks ``radius_km``."""
    radius_path = join(parent, "radius_km")
    if not has_center:
        if radius_km != 0:
            found.add(radius_path, "must be 0 when center is absent")
        return None
    before = len(found.items)
    present = np.ones(1, dtype=np.bool_)
    check_points(
        present,
        f64([center.lat]),
        f64([center.lon]),
        present,
        lambda _: join(parent, "center"),
        found,
    )
    if bad_real(f64([radius_km]), 0, FLOAT_MAX)[0] or radius_km == 0:
        found.add(radius_path, "must be a finite number > 0 when center is set")
    return (center.lat, center.lon) if len(found.items) == before else None


@dataclass(frozen=True)
class ListQuery:
    """A validated ListVolunteers request."""

    selector: Selector
    skill: str
    include_inactive: bool
    page_size: int
    page_token: str


def list_request_to_query(msg: volunteers_pb2.ListVolunteersRequest) -> ListQuery:
    """Validate ListVolunteers filters; page size 0 means 100, larger than 1000 means 1000."""
    found = Violations()
    area = match_pb2.PoolSelector(branch_ids=msg.branch_ids, radius_km=msg.radius_km)
    if msg.HasField("center"):
        area.center.CopyFrom(msg.center)
    selector = read_selector(area, found, "")
    if msg.team_id:
        problem = group_id_problem(msg.team_id)
        if problem:
            found.add("team_id", problem)
        selector = dataclasses.replace(selector, team_ids=(msg.team_id,))
    if msg.skill and msg.skill not in SKILL_BIT:
        found.add("skill", f"unknown skill code {msg.skill[:40]!r} (see the skill taxonomy)")
    found.raise_if_any()
    size = min(msg.page_size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
    return ListQuery(selector, msg.skill, msg.include_inactive, size, msg.page_token)


def records_to_proto(
    records: Sequence[VolunteerRecord],
) -> list[volunteers_pb2.RegisteredVolunteer]:
    """``RegisteredVolunteer`` messages for ``records``, in order."""
    return [record_to_proto(r) for r in records]


def record_to_proto(record: VolunteerRecord) -> volunteers_pb2.RegisteredVolunteer:
    """The message for one stored record (built from dicts: faster through upb)."""
    p = record.profile
    volunteer = {
        "id": record.id,
        "skills": [{"code": code, "level": level} for code, level in p.skills],
        "home": {"lat": p.lat, "lon": p.lon},
        "availability": [window_fields(start, end) for start, end in p.windows],
        "max_travel_km": p.max_travel_km,
        "rating": p.rating,
        "rating_count": p.rating_count,
        "recent_hours": p.recent_hours,
    }
    return volunteers_pb2.RegisteredVolunteer(
        volunteer=volunteer,
        branch_id=record.branch_id,
        team_ids=record.team_ids,
        active=record.active,
        version=record.version,
        create_time=timestamp_fields(record.created_ms),
        update_time=timestamp_fields(record.updated_ms),
    )
