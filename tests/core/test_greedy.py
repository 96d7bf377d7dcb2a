"""Tests of the greedy nearest-available dispatcher: tables of solved cases and properties."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matcher.core.greedy import dispatch_order, greedy_match, request_limits_km
from matcher.core.model import MatchResult, Policy, Reason, RequestBatch, Urgency, VolunteerPool
from matcher.core.scoring import haversine_km
from matcher.core.skills import N_SKILLS, SKILL_BIT, skill_mask
from matcher.tools.synthetic import gonghe_day
from tests.support.core import QABQA, H

LAT0, LON0 = QABQA
KM_LAT = 1 / 111.195  # degrees of latitude per km
R, U, D = Urgency.ROUTINE, Urgency.URGENT, Urgency.DIFFICULT


@dataclass(frozen=True)
class Vol:
    """A volunteer ``km`` north of Qabqa; windows in hours of the day."""

    km: float
    skills: tuple[str, ...] = ("cleaning",)
    windows: tuple[tuple[int, int], ...] = ((8, 12),)
    travel_km: float = 0.0
    level: int = 3


@dataclass(frozen=True)
class Req:
    """A request ``km`` north of Qabqa over ``hours``."""

    km: float = 0.0
    skills: tuple[str, ...] = ("cleaning",)
    hours: tuple[int, int] = (9, 10)
    urgency: Urgency = R
    slots: int = 1
    remote: bool = False
    max_km: float = 0.0


def make_pool(vols: list[Vol]) -> VolunteerPool:
    levels = np.zeros((len(vols), N_SKILLS), dtype=np.uint8)
    for v, vol in enumerate(vols):
        for code in vol.skills:
            levels[v, SKILL_BIT[code]] = vol.level
    owner = [v for v, vol in enumerate(vols) for _ in vol.windows]
    hours = [w for vol in vols for w in vol.windows]
    n = len(vols)
    return VolunteerPool(
        ids=tuple(f"vol-{v:06d}" for v in range(n)),
        skill_mask=np.array([skill_mask(v.skills) for v in vols], dtype=np.uint64),
        levels=levels,
        lat=np.array([LAT0 + v.km * KM_LAT for v in vols], dtype=np.float64),
        lon=np.full(n, LON0),
        max_travel_km=np.array([v.travel_km for v in vols], dtype=np.float64),
        rating=np.full(n, 4.5),
        rating_count=np.full(n, 3, dtype=np.int64),
        recent_hours=np.full(n, 4.0),
        window_owner=np.array(owner, dtype=np.int32),
        window_start=np.array([a * H for a, _ in hours], dtype=np.int64),
        window_end=np.array([b * H for _, b in hours], dtype=np.int64),
    )


def make_batch(reqs: list[Req]) -> RequestBatch:
    n = len(reqs)
    return RequestBatch(
        ids=tuple(f"req-{i:06d}" for i in range(n)),
        skill_mask=np.array([skill_mask(r.skills) for r in reqs], dtype=np.uint64),
        lat=np.array([LAT0 + r.km * KM_LAT for r in reqs], dtype=np.float64),
        lon=np.full(n, LON0),
        start=np.array([r.hours[0] * H for r in reqs], dtype=np.int64),
        end=np.array([r.hours[1] * H for r in reqs], dtype=np.int64),
        urgency=np.array([r.urgency for r in reqs], dtype=np.int32),
        slots=np.array([r.slots for r in reqs], dtype=np.int32),
        remote=np.array([r.remote for r in reqs], dtype=np.bool_),
        max_distance_km=np.array([r.max_km for r in reqs], dtype=np.float64),
    )


# name, volunteers, requests, expected (request, slot, volunteer), expected (request, reason)
CASES = [
    ("nearest wins", [Vol(5), Vol(1), Vol(2)], [Req()], [(0, 0, 1)], []),
    (
        "skills all held",
        [Vol(1), Vol(3, ("cleaning", "tutoring"))],
        [Req(skills=("cleaning", "tutoring"))],
        [(0, 0, 1)],
        [],
    ),
    ("no skill asked: anyone", [Vol(2), Vol(1, ("tutoring",))], [Req(skills=())], [(0, 0, 1)], []),
    ("no one has the skill", [Vol(1)], [Req(skills=("calligraphy",))], [], [(0, Reason.NO_SKILL)]),
    ("beyond policy radius", [Vol(16)], [Req()], [], [(0, Reason.OUT_OF_RANGE)]),
    ("request limit", [Vol(4), Vol(2.5)], [Req(max_km=3)], [(0, 0, 1)], []),
    ("request limit capped by radius", [Vol(16)], [Req(max_km=40)], [], [(0, Reason.OUT_OF_RANGE)]),
    ("volunteer travel limit", [Vol(1.5, travel_km=1), Vol(3)], [Req()], [(0, 0, 1)], []),
    ("remote ignores distance", [Vol(400)], [Req(remote=True, km=0)], [(0, 0, 0)], []),
    (
        "window must contain",
        [Vol(1, windows=((9, 10),)), Vol(2, windows=((13, 17),))],
        [Req(hours=(9, 11))],
        [],
        [(0, Reason.NOT_AVAILABLE)],
    ),
    ("exact window fits", [Vol(1, windows=((9, 10),))], [Req(hours=(9, 10))], [(0, 0, 0)], []),
    ("urgent first", [Vol(1)], [Req(), Req(urgency=U)], [(1, 0, 0)], [(0, Reason.OUTCOMPETED)]),
    (
        "difficult before routine",
        [Vol(1)],
        [Req(), Req(urgency=D, slots=2)],
        [(1, 0, 0)],
        [(0, Reason.OUTCOMPETED), (1, Reason.NO_SKILL)],
    ),
    (
        "batch order within a tier",
        [Vol(3)],
        [Req(km=2), Req(km=3)],
        [(0, 0, 0)],
        [(1, Reason.OUTCOMPETED)],
    ),
    (
        "each window once",
        [Vol(1)],
        [Req(), Req(hours=(10, 11))],
        [(0, 0, 0)],
        [(1, Reason.OUTCOMPETED)],
    ),
    (
        "two windows, two orders",
        [Vol(1, windows=((8, 12), (13, 17)))],
        [Req(), Req(hours=(14, 15))],
        [(0, 0, 0), (1, 0, 0)],
        [],
    ),
    (
        "greedy takes the nearest, not the best",
        [Vol(1), Vol(2)],
        [Req(urgency=U), Req(km=0.5, max_km=0.6)],
        [(0, 0, 0)],
        [(1, Reason.OUTCOMPETED)],
    ),
    (
        "slots nearest first, distinct",
        [Vol(3), Vol(1), Vol(2)],
        [Req(urgency=D, slots=2)],
        [(0, 0, 1), (0, 1, 2)],
        [],
    ),
    (
        "partly served: too few skilled",
        [Vol(1)],
        [Req(slots=3)],
        [(0, 0, 0)],
        [(0, Reason.NO_SKILL)],
    ),
    (
        "partly served: too few in range",
        [Vol(1), Vol(20)],
        [Req(slots=2)],
        [(0, 0, 0)],
        [(0, Reason.OUT_OF_RANGE)],
    ),
    (
        "partly served: too few free then",
        [Vol(1), Vol(2, windows=((13, 17),))],
        [Req(slots=2)],
        [(0, 0, 0)],
        [(0, Reason.NOT_AVAILABLE)],
    ),
    ("empty pool", [], [Req()], [], [(0, Reason.NO_SKILL)]),
    ("empty batch", [Vol(1)], [], [], []),
]


@pytest.mark.parametrize(
    ("vols", "reqs", "assigned", "unserved"),
    [pytest.param(v, r, a, u, id=name) for name, v, r, a, u in CASES],
)
def test_solved_cases(
    vols: list[Vol],
    reqs: list[Req],
    assigned: list[tuple[int, int, int]],
    unserved: list[tuple[int, Reason]],
) -> None:
    requests, pool = make_batch(reqs), make_pool(vols)
    result = greedy_match(requests, pool, Policy())
    got = list(
        zip(result.request.tolist(), result.slot.tolist(), result.volunteer.tolist(), strict=True)
    )
    assert got == assigned
    reasons = list(
        zip(result.unserved_request.tolist(), result.unserved_reason.tolist(), strict=True)
    )
    assert reasons == [(i, int(r)) for i, r in unserved]
    check_feasible(requests, pool, Policy(), result)


def test_dispatch_order_urgent_difficult_routine_stable() -> None:
    batch = make_batch([Req(urgency=u) for u in (R, D, U, R, U, D)])
    assert dispatch_order(batch).tolist() == [2, 4, 1, 5, 0, 3]


def test_costs_values_and_stats_filled() -> None:
    requests = make_batch([Req(urgency=U), Req(urgency=D, slots=2, hours=(10, 11))])
    pool = make_pool([Vol(2), Vol(4, level=5), Vol(6, windows=((9, 12),))])
    policy = Policy(distance_weight=2.0)
    result = greedy_match(requests, pool, policy)
    assert result.cost_terms.shape == (3, 4)
    assert np.allclose(result.cost_terms[:, 0], 2.0 * result.distance_km)
    assert result.cost_terms[1, 1] == pytest.approx(0.0)  # level 5: no skill cost
    assert result.distance_km[0] == pytest.approx(2.0, rel=1e-3)
    assert result.value_served == policy.urgent_value + 2 * policy.difficult_value
    assert result.total_cost == pytest.approx(float(result.cost.sum()))
    assert result.stats.rounds == 1 and result.stats.candidate_pairs == 3 + 2
    assert result.stats.total_ms >= result.stats.solve_ms >= 0


def check_feasible(
    requests: RequestBatch, pool: VolunteerPool, policy: Policy, result: MatchResult
) -> None:
    """Every assignment meets the hard constraints, capacity holds, and the result adds up."""
    i, v, w = result.request, result.volunteer, result.window
    assert np.array_equal(pool.window_owner[w], v)
    assert np.all((pool.skill_mask[v] & requests.skill_mask[i]) == requests.skill_mask[i])
    assert np.all(pool.window_start[w] <= requests.start[i])
    assert np.all(pool.window_end[w] >= requests.end[i])
    km = haversine_km(pool.lat[v], pool.lon[v], requests.lat[i], requests.lon[i])
    limit = request_limits_km(requests, policy)[i]
    limit = np.minimum(limit, np.where(pool.max_travel_km[v] > 0, pool.max_travel_km[v], np.inf))
    on_site = ~requests.remote[i]
    assert np.all(km[on_site] <= limit[on_site] + 1e-9)
    assert np.allclose(result.distance_km, np.where(on_site, km, 0.0))
    assert len(np.unique(w)) == len(w), "a window used twice"
    assert len({(a, b) for a, b in zip(i.tolist(), v.tolist(), strict=True)}) == len(i), (
        "volunteer twice"
    )
    assert np.all(np.diff(i * 1000 + result.slot) > 0), "not ordered by request, slot"
    filled = np.bincount(i, minlength=len(requests))
    assert np.all(filled <= requests.slots)
    assert np.array_equal(
        result.slot, np.concatenate([np.arange(n) for n in filled] + [np.zeros(0, np.int64)])
    )
    short = np.flatnonzero(filled < requests.slots)
    assert np.array_equal(result.unserved_request, short)
    assert np.array_equal(result.unserved_slots, requests.slots[short] - filled[short])
    assert result.value_served == int(policy.values(requests.urgency[i]).sum())


def check_maximal(
    requests: RequestBatch, pool: VolunteerPool, policy: Policy, result: MatchResult
) -> None:
    """No short request has a feasible window left free (greedy never skips one)."""
    free = np.ones(pool.n_windows, dtype=bool)
    free[result.window] = False
    limits = request_limits_km(requests, policy)
    travel = np.where(pool.max_travel_km > 0, pool.max_travel_km, np.inf)
    for i in result.unserved_request.tolist():
        owner = pool.window_owner
        ok = free & ((pool.skill_mask[owner] & requests.skill_mask[i]) == requests.skill_mask[i])
        ok &= (pool.window_start <= requests.start[i]) & (pool.window_end >= requests.end[i])
        if not requests.remote[i]:
            km = haversine_km(pool.lat[owner], pool.lon[owner], requests.lat[i], requests.lon[i])
            ok &= km <= np.minimum(limits[i], travel[owner])
        taken = set(result.volunteer[result.request == i].tolist())
        assert set(owner[ok].tolist()) <= taken, f"request {i} left a feasible window free"


SKILLS = ("cleaning", "tutoring", "calligraphy")
vols_st = st.builds(
    Vol,
    km=st.floats(-20, 20),
    skills=st.lists(st.sampled_from(SKILLS), max_size=2, unique=True).map(tuple),
    windows=st.sampled_from([((8, 12),), ((13, 17),), ((8, 10), (10, 12)), ((9, 11), (14, 18))]),
    travel_km=st.sampled_from([0.0, 0.0, 3.0, 10.0]),
    level=st.integers(1, 5),
)
reqs_st = st.builds(
    Req,
    km=st.floats(-20, 20),
    skills=st.lists(st.sampled_from(SKILLS), max_size=2, unique=True).map(tuple),
    hours=st.sampled_from([(8, 9), (9, 11), (10, 12), (11, 13), (14, 15), (15, 17)]),
    urgency=st.sampled_from([R, U, D]),
    slots=st.integers(1, 3),
    remote=st.booleans(),
    max_km=st.sampled_from([0.0, 0.0, 2.0, 8.0]),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(vols_st, max_size=10), st.lists(reqs_st, max_size=8), st.floats(1, 30))
def test_property_feasible_capacity_and_maximal(
    vols: list[Vol], reqs: list[Req], radius: float
) -> None:
    requests, pool, policy = make_batch(reqs), make_pool(vols), Policy(default_radius_km=radius)
    result = greedy_match(requests, pool, policy)
    check_feasible(requests, pool, policy, result)
    check_maximal(requests, pool, policy, result)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 150), st.integers(0, 400))
def test_property_on_synthetic_days(seed: int, n_requests: int, n_volunteers: int) -> None:
    requests, pool = gonghe_day(seed, n_requests, n_volunteers)
    result = greedy_match(requests, pool, Policy())
    check_feasible(requests, pool, Policy(), result)
    check_maximal(requests, pool, Policy(), result)
