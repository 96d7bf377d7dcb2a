"""The day every dispatcher meets: its orders and volunteers, and the rules of the world.

An order arrives at ``arrival`` and is *answered* when every one of its slots has a volunteer
who accepted it and can set off by its ``deadline`` (per tier: ``DEADLINE_S``). A volunteer
works only on a shift (the pool's windows): they set off at a time inside a shift and are
busy for the round trip at ``SPEED_KMH`` plus the service time, which must end within that
shift; one order at a time. Who may serve whom is the engine's hard constraints (skills held,
distance within the request's limit, the policy radius and the volunteer's own limit; remote
orders at 0 km).

Volunteers answer offers by a seeded rule, the same for every dispatcher: each (order,
volunteer) pair has a fixed answer (accept, decline or let the offer expire) and delay, drawn
from a hash of (seed, order, volunteer), so a pair answers alike whoever asks and whenever. A
volunteer who cannot make it any more (busy or off shift until after the deadline) declines.
"""

from __future__ import annotations

import enum
import heapq
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from matcher.core.arrays import F64, I64, U64
from matcher.core.greedy import request_limits_km
from matcher.core.model import Policy, RequestBatch, Urgency, VolunteerPool
from matcher.core.scoring import haversine_km

MINUTE = 60
HOUR = 3600
SPEED_KMH = 30.0
#: How long a volunteer has to answer an offer (the engine's offer TTL too).
OFFER_TTL_S = 5 * MINUTE
#: The range of answer delays, seconds (always within the TTL).
ANSWER_DELAY_S = (30, 4 * MINUTE)
#: Chances of an answer: accept, decline; the rest let the offer expire.
ACCEPT_P, DECLINE_P = 0.75, 0.15
#: From arrival to the latest time a volunteer may set off, per tier.
DEADLINE_S = {Urgency.URGENT: 30 * MINUTE, Urgency.ROUTINE: 2 * HOUR, Urgency.DIFFICULT: 4 * HOUR}
#: The tiers in report order, with their names (有事即办, 急事快办, 难事帮办).
TIERS = (Urgency.ROUTINE, Urgency.URGENT, Urgency.DIFFICULT)
TIER_NAMES = {Urgency.ROUTINE: "即办 routine", Urgency.URGENT: "快办 urgent"}
TIER_NAMES[Urgency.DIFFICULT] = "帮办 difficult"


class Answer(enum.IntEnum):
    """What a volunteer does with an offer."""

    ACCEPT = 1
    DECLINE = 2
    IGNORE = 3  # the offer expires


@dataclass(frozen=True)
class Day:
    """One simulated day. ``needs`` holds each order's skills, place, urgency, slots, remote
    flag and distance limit (its ``start``/``end`` are the arrival and the deadline); the
    pool's windows are the volunteers' shifts."""

    name: str
    seed: int
    opens: int  # epoch seconds: the first arrival is at or after this
    closes: int  # no arrival at or after this
    needs: RequestBatch
    service_s: I64  # service time of each order, seconds
    pool: VolunteerPool
    policy: Policy = field(default_factory=Policy)

    @property
    def arrival(self) -> I64:
        return self.needs.start

    @property
    def deadline(self) -> I64:
        return self.needs.end

    def __len__(self) -> int:
        return len(self.needs)


@dataclass(frozen=True)
class Reach:
    """Every (order, volunteer) pair the hard constraints allow, sorted by order then km,
    with the pair's seeded answer and delay."""

    order: I64
    volunteer: I64
    km: F64
    answer: I64  # Answer codes
    delay_s: I64
    first: I64  # per order, its first row (len(day) + 1 entries)

    def rows(self, o: int) -> range:
        return range(int(self.first[o]), int(self.first[o + 1]))


def reach(day: Day) -> Reach:
    """The pairs of ``day`` (one pass per order over the pool)."""
    needs, pool = day.needs, day.pool
    limits = request_limits_km(needs, day.policy)
    own = np.where(pool.max_travel_km > 0, pool.max_travel_km, np.inf)
    parts: list[tuple[I64, F64]] = []
    for o in range(len(needs)):
        need = np.uint64(needs.skill_mask[o])
        ok = (pool.skill_mask & need) == need
        km = np.zeros(len(pool))
        if not needs.remote[o]:
            km = haversine_km(
                pool.lat,
                pool.lon,
                np.full(len(pool), needs.lat[o]),
                np.full(len(pool), needs.lon[o]),
            )
            ok &= km <= np.minimum(limits[o], own)
        rows = np.flatnonzero(ok)
        rows = rows[np.argsort(km[rows], kind="stable")]
        parts.append((rows.astype(np.int64), km[rows]))
    counts = np.array([len(r) for r, _ in parts], dtype=np.int64)
    order = np.repeat(np.arange(len(needs), dtype=np.int64), counts)
    volunteer = np.concatenate([r for r, _ in parts]) if parts else np.zeros(0, np.int64)
    answer, delay = answers(day.seed, order, volunteer)
    return Reach(
        order=order,
        volunteer=volunteer,
        km=np.concatenate([k for _, k in parts]) if parts else np.zeros(0),
        answer=answer,
        delay_s=delay,
        first=np.concatenate(([0], np.cumsum(counts))).astype(np.int64),
    )


def answers(seed: int, order: I64, volunteer: I64) -> tuple[I64, I64]:
    """The seeded answer and delay of each (order, volunteer) pair."""
    u = _uniform(seed, order, volunteer, 1)
    answer = np.where(u < ACCEPT_P, Answer.ACCEPT, Answer.DECLINE)
    answer = np.where(u >= ACCEPT_P + DECLINE_P, Answer.IGNORE, answer).astype(np.int64)
    lo, hi = ANSWER_DELAY_S
    delay = (lo + _uniform(seed, order, volunteer, 2) * (hi - lo)).astype(np.int64)
    return answer, delay


def _uniform(seed: int, a: I64, b: I64, salt: int) -> F64:
    """A uniform [0, 1) per element from a SplitMix64 hash of (seed, a, b, salt)."""
    with np.errstate(over="ignore"):
        start = np.uint64(seed) * np.uint64(0x9E3779B97F4A7C15) + np.uint64(salt)
        x: U64 = a.astype(np.uint64) * np.uint64(0xBF58476D1CE4E5B9) + start
        x = x + b.astype(np.uint64) * np.uint64(0x94D049BB133111EB)
        for shift, mult in ((30, 0xBF58476D1CE4E5B9), (27, 0x94D049BB133111EB)):
            x = (x ^ (x >> np.uint64(shift))) * np.uint64(mult)
        x = x ^ (x >> np.uint64(31))
    out: F64 = (x >> np.uint64(11)).astype(np.float64) / float(1 << 53)
    return out


def busy_s(day: Day, o: int, km: float) -> int:
    """Seconds a volunteer at ``km`` is busy with order ``o``: there, the service, back."""
    return int(day.service_s[o]) + int(np.ceil(2 * km / SPEED_KMH * HOUR))


def shifts(pool: VolunteerPool) -> list[list[tuple[int, int]]]:
    """Each volunteer's shifts, [start, end) in time order."""
    out: list[list[tuple[int, int]]] = [[] for _ in range(len(pool))]
    for v, s, e in zip(
        pool.window_owner.tolist(),
        pool.window_start.tolist(),
        pool.window_end.tolist(),
        strict=True,
    ):
        out[v].append((s, e))
    for spans in out:
        spans.sort()
    return out


def set_off(spans: list[tuple[int, int]], free_at: int, deadline: int, busy: int) -> int | None:
    """The earliest time from ``free_at`` a volunteer with shifts ``spans`` can set off on a
    job of ``busy`` seconds, by ``deadline``; None when they cannot."""
    for start, end in spans:
        at = max(start, free_at)
        if at > deadline:
            return None
        if at + busy <= end:
            return at
    return None


@dataclass(frozen=True)
class Trip:
    """One volunteer serving one order: answered at ``answered_s``, set off at ``start_s``."""

    order: int
    volunteer: int
    answered_s: int
    start_s: int
    km: float
    busy_s: int


@dataclass
class Outcome:
    """What a dispatcher did on a day."""

    name: str
    trips: list[Trip] = field(default_factory=list)
    notes: dict[str, object] = field(default_factory=dict)


@dataclass
class Agenda:
    """Simulated time: a heap of (time, sequence, action); ``now`` moves only forward."""

    now: float = 0.0
    _heap: list[tuple[float, int, Callable[[], None]]] = field(default_factory=list)
    _sequence: itertools.count[int] = field(default_factory=itertools.count)

    def __call__(self) -> float:
        """The time, so the agenda is a clock."""
        return self.now

    def at(self, when: float, action: Callable[[], None]) -> None:
        heapq.heappush(self._heap, (when, next(self._sequence), action))

    def run(self) -> None:
        while self._heap:
            when, _, action = heapq.heappop(self._heap)
            self.now = max(self.now, when)
            action()
