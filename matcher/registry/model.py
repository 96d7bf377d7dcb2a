"""The registry's model, independent of protobuf and of any store: a volunteer's record, the
``Selector`` that picks a part of the pool, and what a store returns (``Changes``, ``Snapshot``).

A record is what the matcher needs (``Profile``) plus what the registry needs: a grid /
branch (网格分行) id, team ids (品牌志愿服务队), an active flag, timestamps and a version that
grows by one on every write of that volunteer. Times are integer epoch seconds (windows)
or epoch milliseconds (record timestamps).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Profile:
    """A volunteer as the matcher sees them (mirrors ``matcher.v1.Volunteer``)."""

    skills: tuple[tuple[str, int], ...]  # (code, level 1-5), codes distinct
    lat: float
    lon: float
    windows: tuple[tuple[int, int], ...]  # [start, end) epoch seconds, sorted, disjoint
    max_travel_km: float = 0.0
    rating: float = 0.0
    rating_count: int = 0
    recent_hours: float = 0.0


@dataclass(frozen=True)
class VolunteerRecord:
    """One volunteer in the registry."""

    id: str
    profile: Profile
    branch_id: str = ""
    team_ids: tuple[str, ...] = ()
    active: bool = True
    version: int = 0  # set by the store: 1 on create, +1 on every write
    created_ms: int = 0  # set by the store
    updated_ms: int = 0  # set by the store


@dataclass(frozen=True)
class Selector:
    """Which registered volunteers to use; criteria combine with AND."""

    branch_ids: tuple[str, ...] = ()
    team_ids: tuple[str, ...] = ()
    center: tuple[float, float] | None = None  # (lat, lon)
    radius_km: float = 0.0


@dataclass(frozen=True)
class Changes:
    """What changed in a store after some registry version (see ``VolunteerStore``)."""

    version: int  # the registry version these changes bring the reader to
    upserted: tuple[VolunteerRecord, ...] = ()
    deleted: tuple[str, ...] = ()
    complete: bool = True  # False: the change log no longer reaches back; reload a snapshot


@dataclass(frozen=True)
class Snapshot:
    """Every record in a store at one registry version."""

    version: int
    records: tuple[VolunteerRecord, ...] = field(default_factory=tuple)
