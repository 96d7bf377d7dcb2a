"""Domain types of the matching core: a columnar batch of requests, a columnar pool of
volunteers, the scoring policy and the result.

Everything is held column-wise in numpy arrays (one row per request, volunteer or window),
because building and reading Python objects one by one is where the time goes at scale.
Times are integer seconds since the Unix epoch; windows are half-open ``[start, end)``.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from matcher.core.arrays import F64, I32, I64, U8, U64, Bool
from matcher.core.skills import N_SKILLS


class Urgency(enum.IntEnum):
    """Service tiers (有事即办 / 急事快办 / 难事帮办). Values match the proto enum."""

    ROUTINE = 1
    URGENT = 2
    DIFFICULT = 3


class Reason(enum.IntEnum):
    """Why a request was left (partly) unserved. Values match the proto enum."""

    NO_SKILL = 1
    OUT_OF_RANGE = 2
    NOT_AVAILABLE = 3
    OUTCOMPETED = 4


@dataclass(frozen=True)
class Policy:
    """Scoring policy. Every default lives here.

    The cost of a pair is ``distance_weight * km + skill_weight * skill_term +
    rating_weight * rating_term + fairness_weight * fairness_term`` (see ``scoring``).
    Values are integers so that "serve the most value first" is an exact lexicographic
    objective (any two different served sets differ by at least 1 in value).
    """

    distance_weight: float = 1.0
    skill_weight: float = 2.0
    rating_weight: float = 2.0
    fairness_weight: float = 1.0
    default_radius_km: float = 15.0
    routine_value: int = 10
    urgent_value: int = 100
    difficult_value: int = 30

    def value_of(self, urgency: Urgency) -> int:
        """The value of serving one slot of a request of this urgency."""
        return {
            Urgency.ROUTINE: self.routine_value,
            Urgency.URGENT: self.urgent_value,
            Urgency.DIFFICULT: self.difficult_value,
        }[urgency]

    def values(self, urgency: I32) -> I64:
        """Vectorised ``value_of`` over an array of urgency codes."""
        table = np.zeros(4, dtype=np.int64)
        for u in Urgency:
            table[u] = self.value_of(u)
        return table[urgency]

    @property
    def max_pair_cost(self) -> float:
        """An upper bound on any feasible pair's cost (every term is capped)."""
        return (
            self.distance_weight * self.default_radius_km
            + self.skill_weight
            + self.rating_weight
            + self.fairness_weight
        )


@dataclass(frozen=True)
class RequestBatch:
    """A batch of service requests, one row per request."""

    ids: tuple[str, ...]
    skill_mask: U64  # required skills, bit i = SKILL_CODES[i]
    lat: F64
    lon: F64
    start: I64  # window start, epoch seconds
    end: I64  # window end (exclusive), epoch seconds
    urgency: I32  # Urgency codes
    slots: I32  # volunteers needed, >= 1
    remote: Bool
    max_distance_km: F64  # 0 = the policy default

    def __len__(self) -> int:
        return len(self.ids)


#: The per-volunteer and per-window array columns of ``VolunteerPool`` (besides ``ids`` and
#: ``window_owner``): what ``take`` and ``concat`` carry over column by column.
_VOLUNTEER_COLUMNS = (
    "skill_mask",
    "levels",
    "lat",
    "lon",
    "max_travel_km",
    "rating",
    "rating_count",
    "recent_hours",
)
_WINDOW_COLUMNS = ("window_start", "window_end")


@dataclass(frozen=True)
class VolunteerPool:
    """Volunteers (one row each) and their availability windows (one row each).

    ``levels[v, s]`` is volunteer ``v``'s level (1-5) in skill ``s``, 0 when not held.
    Window ``w`` belongs to volunteer ``window_owner[w]``; a volunteer's windows do not
    overlap, and each window is one order slot.
    """

    ids: tuple[str, ...]
    skill_mask: U64
    levels: U8  # shape (n_volunteers, N_SKILLS)
    lat: F64
    lon: F64
    max_travel_km: F64  # 0 = no personal limit
    rating: F64
    rating_count: I64
    recent_hours: F64
    window_owner: I32
    window_start: I64
    window_end: I64

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def n_windows(self) -> int:
        return len(self.window_owner)

    def __post_init__(self) -> None:
        if self.levels.shape != (len(self.ids), N_SKILLS):
            raise ValueError(f"levels must have shape ({len(self.ids)}, {N_SKILLS})")

    def take(self, rows: I64) -> VolunteerPool:
        """The volunteers at ``rows`` (indices, each at most once), in that order, with their
        windows grouped by new row (each volunteer's windows kept in their order).

        ``take(np.flatnonzero(keep))`` is the subset where ``keep`` holds; a permutation of
        every row reorders the pool.
        """
        new_row = np.full(len(self), -1, dtype=np.int64)
        new_row[rows] = np.arange(len(rows), dtype=np.int64)
        owner = new_row[self.window_owner]
        windows = np.flatnonzero(owner >= 0)
        if np.any(owner[windows][1:] < owner[windows][:-1]):
            windows = windows[np.argsort(owner[windows], kind="stable")]
        ids = self.ids
        return VolunteerPool(
            ids=tuple(ids[i] for i in rows.tolist()),
            **{name: getattr(self, name)[rows] for name in _VOLUNTEER_COLUMNS},
            window_owner=owner[windows].astype(np.int32),
            **{name: getattr(self, name)[windows] for name in _WINDOW_COLUMNS},
        )

    @classmethod
    def concat(cls, pools: Sequence[VolunteerPool]) -> VolunteerPool:
        """The volunteers of every pool in ``pools``, one pool after the other (at least one)."""
        offsets = np.cumsum([0, *(len(p) for p in pools[:-1])])
        return cls(
            ids=tuple(i for p in pools for i in p.ids),
            **{
                name: np.concatenate([getattr(p, name) for p in pools])
                for name in _VOLUNTEER_COLUMNS + _WINDOW_COLUMNS
            },
            window_owner=np.concatenate(
                [p.window_owner.astype(np.int64) + at for p, at in zip(pools, offsets, strict=True)]
            ).astype(np.int32),
        )


@dataclass(frozen=True)
class SolveStats:
    """Figures about one solve; times in milliseconds."""

    candidate_pairs: int = 0
    rounds: int = 0
    candidates_ms: float = 0.0
    scoring_ms: float = 0.0
    solve_ms: float = 0.0
    total_ms: float = 0.0


@dataclass(frozen=True)
class MatchResult:
    """The optimal assignment: one row per filled slot, one per (partly) unserved request.

    Assigned rows are ordered by request index, then slot.
    """

    request: I64  # request index
    slot: I64  # slot of the request, 0-based
    volunteer: I64  # volunteer index
    window: I64  # window index (into the pool's window arrays)
    distance_km: F64
    cost_terms: F64  # shape (n_assigned, 4): weighted distance, skill, rating, fairness
    unserved_request: I64
    unserved_slots: I64
    unserved_reason: I32  # Reason codes
    value_served: int = 0
    stats: SolveStats = field(default_factory=SolveStats)

    @property
    def cost(self) -> F64:
        """Weighted cost of each assigned pair."""
        out: F64 = self.cost_terms.sum(axis=1)
        return out

    @property
    def total_cost(self) -> float:
        return float(self.cost_terms.sum())
