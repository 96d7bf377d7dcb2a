"""Builders and reference oracles for the tests of the pure matching core.

* ``req`` / ``vol`` describe one request or volunteer in readable units (hours of a day,
  km north of Qabqa, skill codes); ``batch`` / ``pool`` turn lists of them into the core's
  columnar ``RequestBatch`` / ``VolunteerPool``. Ids are given by the test, so a case can be
  re-run with its rows permuted and compared by id.
* ``random_instance`` is a seeded generator (``clustered`` tight towns or ``uniform`` box)
  for property and differential tests.
* ``reference_pairs`` / ``brute_force_objective`` re-derive feasibility, cost and the
  lexicographic optimum from the semantics in the module docstrings, one pair at a time in
  plain Python, without the core's vectorised helpers (an independent oracle).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from matcher.core.model import MatchResult, Policy, RequestBatch, Urgency, VolunteerPool
from matcher.core.skills import N_SKILLS, SKILL_BIT
from tests.support.times import HOUR

H = HOUR  # windows here are given in hours of day 0 (not of the test day T0)
QABQA = (36.27, 100.62)
EARTH_RADIUS_KM = 6371.0088
KM_PER_DEG_LAT = EARTH_RADIUS_KM * math.pi / 180.0


def north(km: float, east: float = 0.0) -> tuple[float, float]:
    """The point ``km`` north and ``east`` km east of Qabqa (local flat approximation)."""
    lat0, lon0 = QABQA
    lat = lat0 + km / KM_PER_DEG_LAT
    lon = lon0 + east / (KM_PER_DEG_LAT * math.cos(math.radians(lat0)))
    return (lat, lon)


@dataclass(frozen=True)
class ReqSpec:
    """One request in readable units (see ``req``)."""

    id: str
    skills: tuple[str, ...]
    at: tuple[float, float]
    window: tuple[float, float]
    urgency: Urgency
    slots: int
    remote: bool
    max_km: float


@dataclass(frozen=True)
class VolSpec:
    """One volunteer in readable units (see ``vol``)."""

    id: str
    skills: Mapping[str, int]
    at: tuple[float, float]
    windows: tuple[tuple[float, float], ...]
    travel_km: float
    rating: float
    rating_count: int
    hours: float


def req(
    id: str,
    skills: Iterable[str] = ("cleaning",),
    at: tuple[float, float] = QABQA,
    window: tuple[float, float] = (9, 10),
    urgency: Urgency = Urgency.ROUTINE,
    slots: int = 1,
    remote: bool = False,
    max_km: float = 0.0,
) -> ReqSpec:
    """A request; ``window`` in hours of day 0."""
    return ReqSpec(id, tuple(skills), at, window, urgency, slots, remote, max_km)


def vol(
    id: str,
    skills: Mapping[str, int] | None = None,
    at: tuple[float, float] = QABQA,
    windows: Sequence[tuple[float, float]] = ((8, 12),),
    travel_km: float = 0.0,
    rating: float = 0.0,
    rating_count: int = 0,
    hours: float = 0.0,
) -> VolSpec:
    """A volunteer; ``skills`` maps code -> level (default: cleaning at level 3)."""
    held = {"cleaning": 3} if skills is None else dict(skills)
    return VolSpec(id, held, at, tuple(windows), travel_km, rating, rating_count, hours)


def _mask(codes: Iterable[str]) -> int:
    out = 0
    for code in codes:
        out |= 1 << SKILL_BIT[code]
    return out


def batch(specs: Sequence[ReqSpec]) -> RequestBatch:
    return RequestBatch(
        ids=tuple(s.id for s in specs),
        skill_mask=np.array([_mask(s.skills) for s in specs], dtype=np.uint64),
        lat=np.array([s.at[0] for s in specs], dtype=np.float64),
        lon=np.array([s.at[1] for s in specs], dtype=np.float64),
        start=np.array([round(s.window[0] * H) for s in specs], dtype=np.int64),
        end=np.array([round(s.window[1] * H) for s in specs], dtype=np.int64),
        urgency=np.array([int(s.urgency) for s in specs], dtype=np.int32),
        slots=np.array([s.slots for s in specs], dtype=np.int32),
        remote=np.array([s.remote for s in specs], dtype=np.bool_),
        max_distance_km=np.array([s.max_km for s in specs], dtype=np.float64),
    )


def pool(specs: Sequence[VolSpec]) -> VolunteerPool:
    n = len(specs)
    levels = np.zeros((n, N_SKILLS), dtype=np.uint8)
    for v, spec in enumerate(specs):
        for code, level in spec.skills.items():
            levels[v, SKILL_BIT[code]] = level
    owner = [v for v, spec in enumerate(specs) for _ in spec.windows]
    windows = [w for spec in specs for w in spec.windows]
    return VolunteerPool(
        ids=tuple(s.id for s in specs),
        skill_mask=np.array([_mask(s.skills) for s in specs], dtype=np.uint64),
        levels=levels,
        lat=np.array([s.at[0] for s in specs], dtype=np.float64),
        lon=np.array([s.at[1] for s in specs], dtype=np.float64),
        max_travel_km=np.array([s.travel_km for s in specs], dtype=np.float64),
        rating=np.array([s.rating for s in specs], dtype=np.float64),
        rating_count=np.array([s.rating_count for s in specs], dtype=np.int64),
        recent_hours=np.array([s.hours for s in specs], dtype=np.float64),
        window_owner=np.array(owner, dtype=np.int32),
        window_start=np.array([round(a * H) for a, _ in windows], dtype=np.int64),
        window_end=np.array([round(b * H) for _, b in windows], dtype=np.int64),
    )


def assigned_ids(
    requests: RequestBatch, volunteers: VolunteerPool, result: MatchResult
) -> list[tuple[str, str]]:
    """The assignment as sorted (request id, volunteer id) pairs."""
    return sorted(
        (requests.ids[i], volunteers.ids[v])
        for i, v in zip(result.request.tolist(), result.volunteer.tolist(), strict=True)
    )


def unserved_ids(requests: RequestBatch, result: MatchResult) -> dict[str, tuple[int, int]]:
    """Request id -> (unserved slots, reason code)."""
    return {
        requests.ids[i]: (n, r)
        for i, n, r in zip(
            result.unserved_request.tolist(),
            result.unserved_slots.tolist(),
            result.unserved_reason.tolist(),
            strict=True,
        )
    }


# --- seeded random instances -------------------------------------------------------------

#: Cluster centres for the clustered layout: Qabqa and three towns tens of km away.
CENTRES = ((36.27, 100.62), (36.41, 100.97), (36.07, 100.91), (35.97, 100.21))


def random_instance(
    seed: int,
    n_requests: int,
    n_volunteers: int,
    *,
    layout: str = "clustered",
    spread_km: float = 3.0,
    n_skills: int = 4,
    remote_frac: float = 0.1,
    multi_slot_frac: float = 0.2,
    travel_limit_frac: float = 0.2,
    own_limit_frac: float = 0.3,
    hours: int = 6,
    n_centres: int = len(CENTRES),
) -> tuple[RequestBatch, VolunteerPool]:
    """A seeded random batch and pool.

    ``clustered`` puts people around the first ``n_centres`` of ``CENTRES`` with normal
    spread ``spread_km`` (tight towns: heavy competition for the nearest volunteers);
    ``uniform`` spreads them over a 60 km box. Skills are drawn from the first
    ``n_skills`` codes; volunteers hold 1-2, requests ask for 0-2. Each volunteer has 1-3
    non-overlapping windows early on day 0 (``hours`` sets the scale); requests start in
    the first ``hours`` hours and last 30-90 minutes.
    """
    if layout not in ("clustered", "uniform"):
        raise ValueError(f"unknown layout {layout!r}")
    rng = np.random.default_rng(seed)

    def place(n: int) -> tuple[np.ndarray, np.ndarray]:
        if layout == "uniform":
            north_km = rng.uniform(-30, 30, n)
            east_km = rng.uniform(-30, 30, n)
            lat0, lon0 = QABQA
        else:
            weight = np.array([0.55, 0.15, 0.15, 0.15])[:n_centres]
            centre = rng.choice(n_centres, size=n, p=weight / weight.sum())
            north_km = rng.normal(0, spread_km, n)
            east_km = rng.normal(0, spread_km, n)
            lat0 = np.array([CENTRES[c][0] for c in centre])
            lon0 = np.array([CENTRES[c][1] for c in centre])
        lat = lat0 + north_km / KM_PER_DEG_LAT
        lon = lon0 + east_km / (KM_PER_DEG_LAT * np.cos(np.radians(lat)))
        return lat, lon

    owner: list[int] = []
    starts: list[int] = []
    ends: list[int] = []
    for v in range(n_volunteers):
        t = 0
        for _ in range(int(rng.integers(1, 4))):
            s = t + int(rng.integers(0, hours // 2 + 1)) * H
            e = s + int(rng.integers(1, hours // 2 + 2)) * H
            owner.append(v)
            starts.append(s)
            ends.append(e)
            t = e
    levels = np.zeros((n_volunteers, N_SKILLS), dtype=np.uint8)
    for v in range(n_volunteers):
        held = rng.choice(n_skills, size=min(int(rng.integers(1, 3)), n_skills), replace=False)
        levels[v, held] = rng.integers(1, 6, len(held))
    held_bits = (levels > 0).astype(np.uint64) << np.arange(N_SKILLS, dtype=np.uint64)
    vlat, vlon = place(n_volunteers)
    volunteers = VolunteerPool(
        ids=tuple(f"v{i}" for i in range(n_volunteers)),
        skill_mask=held_bits.sum(axis=1, dtype=np.uint64),
        levels=levels,
        lat=vlat,
        lon=vlon,
        max_travel_km=np.where(
            rng.random(n_volunteers) < travel_limit_frac, rng.uniform(2, 20, n_volunteers), 0.0
        ),
        rating=rng.uniform(1, 5, n_volunteers),
        rating_count=rng.integers(0, 12, n_volunteers).astype(np.int64),
        recent_hours=rng.uniform(0, 40, n_volunteers),
        window_owner=np.array(owner, dtype=np.int32),
        window_start=np.array(starts, dtype=np.int64),
        window_end=np.array(ends, dtype=np.int64),
    )
    need = np.zeros(n_requests, dtype=np.uint64)
    for r in range(n_requests):
        size = min(int(rng.integers(0, 3)), n_skills)
        for s in rng.choice(n_skills, size=size, replace=False).tolist():
            need[r] |= np.uint64(1 << s)
    start = rng.integers(0, 2 * hours, n_requests).astype(np.int64) * (H // 2)
    rlat, rlon = place(n_requests)
    requests = RequestBatch(
        ids=tuple(f"r{i}" for i in range(n_requests)),
        skill_mask=need,
        lat=rlat,
        lon=rlon,
        start=start,
        end=start + rng.integers(1, 4, n_requests).astype(np.int64) * (H // 2),
        urgency=rng.integers(1, 4, n_requests).astype(np.int32),
        slots=np.where(
            rng.random(n_requests) < multi_slot_frac, rng.integers(2, 4, n_requests), 1
        ).astype(np.int32),
        remote=rng.random(n_requests) < remote_frac,
        max_distance_km=np.where(
            rng.random(n_requests) < own_limit_frac, rng.uniform(1, 25, n_requests), 0.0
        ),
    )
    return requests, volunteers


# --- independent reference model ---------------------------------------------------------


def great_circle_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance by the Vincenty special case (atan2 form), not haversine."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dl = math.radians(lon2 - lon1)
    y = math.hypot(
        math.cos(p2) * math.sin(dl),
        math.cos(p1) * math.sin(p2) - math.sin(p1) * math.cos(p2) * math.cos(dl),
    )
    x = math.sin(p1) * math.sin(p2) + math.cos(p1) * math.cos(p2) * math.cos(dl)
    return EARTH_RADIUS_KM * math.atan2(y, x)


@dataclass(frozen=True)
class Pair:
    """A feasible (request, window) pair with its reference distance and cost."""

    request: int
    window: int
    volunteer: int
    km: float
    cost: float


def reference_cost(
    requests: RequestBatch, volunteers: VolunteerPool, policy: Policy, i: int, v: int, km: float
) -> float:
    """The pair cost straight from the formulas in ``scoring``'s docstring."""
    need = [s for s in range(N_SKILLS) if (int(requests.skill_mask[i]) >> s) & 1]
    if need:
        mean_level = sum(int(volunteers.levels[v, s]) for s in need) / len(need)
        skill = (5.0 - mean_level) / 4.0
    else:
        skill = 0.0
    count = int(volunteers.rating_count[v])
    shrunk = (float(volunteers.rating[v]) * count + 4.0 * 5.0) / (count + 5.0)
    rating = min(max((5.0 - shrunk) / 4.0, 0.0), 1.0)
    hours = max(float(volunteers.recent_hours[v]), 0.0)
    fairness = hours / (hours + 20.0)
    return (
        policy.distance_weight * km
        + policy.skill_weight * skill
        + policy.rating_weight * rating
        + policy.fairness_weight * fairness
    )


def reference_limit_km(
    requests: RequestBatch, volunteers: VolunteerPool, policy: Policy, i: int, v: int
) -> float:
    """min(request limit or default radius, volunteer travel limit if set, default radius)."""
    own = float(requests.max_distance_km[i])
    limit = min(own if own > 0 else policy.default_radius_km, policy.default_radius_km)
    travel = float(volunteers.max_travel_km[v])
    return min(limit, travel) if travel > 0 else limit


def reference_feasible(
    requests: RequestBatch,
    volunteers: VolunteerPool,
    policy: Policy,
    i: int,
    w: int,
    slack_km: float = 0.0,
) -> bool:
    """The hard constraints; ``slack_km`` widens the distance limit (for float noise)."""
    v = int(volunteers.window_owner[w])
    need = int(requests.skill_mask[i])
    if int(volunteers.skill_mask[v]) & need != need:
        return False
    if not (
        volunteers.window_start[w] <= requests.start[i]
        and volunteers.window_end[w] >= requests.end[i]
    ):
        return False
    if requests.remote[i]:
        return True
    km = great_circle_km(
        float(requests.lat[i]),
        float(requests.lon[i]),
        float(volunteers.lat[v]),
        float(volunteers.lon[v]),
    )
    return km <= reference_limit_km(requests, volunteers, policy, i, v) + slack_km


def reference_pairs(
    requests: RequestBatch, volunteers: VolunteerPool, policy: Policy
) -> dict[tuple[int, int], Pair]:
    """Every feasible (request, window) pair, by brute force over all of them."""
    out: dict[tuple[int, int], Pair] = {}
    for i in range(len(requests)):
        for w in range(volunteers.n_windows):
            if not reference_feasible(requests, volunteers, policy, i, w):
                continue
            v = int(volunteers.window_owner[w])
            km = 0.0
            if not requests.remote[i]:
                km = great_circle_km(
                    float(requests.lat[i]),
                    float(requests.lon[i]),
                    float(volunteers.lat[v]),
                    float(volunteers.lon[v]),
                )
            cost = reference_cost(requests, volunteers, policy, i, v, km)
            out[(i, w)] = Pair(i, w, v, km, cost)
    return out


def brute_force_objective(
    requests: RequestBatch, volunteers: VolunteerPool, policy: Policy
) -> tuple[int, float]:
    """(max value served, min total cost at that value) over every partial matching of
    slots to windows (each window once, each volunteer at most once per request), by
    depth-first enumeration. Exponential: for a handful of slots and windows only."""
    pairs = reference_pairs(requests, volunteers, policy)
    slot_request = [i for i in range(len(requests)) for _ in range(int(requests.slots[i]))]
    value = [policy.value_of(Urgency(int(u))) for u in requests.urgency.tolist()]
    options = [[p for (r, _), p in sorted(pairs.items()) if r == i] for i in slot_request]
    best = [0, 0.0]
    used_windows: set[int] = set()
    used_pairs: set[tuple[int, int]] = set()

    def visit(s: int, got: int, cost: float) -> None:
        if s == len(slot_request):
            if got > best[0] or (got == best[0] and cost < best[1]):
                best[0], best[1] = got, cost
            return
        visit(s + 1, got, cost)  # this slot left empty
        for p in options[s]:
            if p.window in used_windows or (p.request, p.volunteer) in used_pairs:
                continue
            used_windows.add(p.window)
            used_pairs.add((p.request, p.volunteer))
            visit(s + 1, got + value[p.request], cost + p.cost)
            used_windows.remove(p.window)
            used_pairs.remove((p.request, p.volunteer))

    visit(0, 0, 0.0)
    return int(best[0]), float(best[1])
