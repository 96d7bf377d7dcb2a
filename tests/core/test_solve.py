"""Tests of ``solve_match``: a table of solved cases (re-run with rows permuted), property
tests against the hard constraints and an exhaustive brute force, and a seeded
differential test against the dense reference ``dense_match``."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import event, given, settings, target
from hypothesis import strategies as st

from matcher.core.dense import dense_match
from matcher.core.model import MatchResult, Policy, Reason, RequestBatch, Urgency, VolunteerPool
from matcher.core.pool_index import PoolIndex
from matcher.core.solve import INITIAL_K, solve_match
from tests.support.core import (
    ReqSpec,
    VolSpec,
    assigned_ids,
    batch,
    brute_force_objective,
    great_circle_km,
    north,
    pool,
    random_instance,
    reference_cost,
    reference_feasible,
    reference_limit_km,
    reference_pairs,
    req,
    unserved_ids,
    vol,
)

R, U, D = Urgency.ROUTINE, Urgency.URGENT, Urgency.DIFFICULT
NO_SKILL, OUT_OF_RANGE = Reason.NO_SKILL, Reason.OUT_OF_RANGE
NOT_AVAILABLE, OUTCOMPETED = Reason.NOT_AVAILABLE, Reason.OUTCOMPETED
DISTANCE_ONLY = Policy(skill_weight=0.0, rating_weight=0.0, fairness_weight=0.0)


def solve(
    reqs: list[ReqSpec], vols: list[VolSpec], policy: Policy
) -> tuple[RequestBatch, VolunteerPool, MatchResult]:
    requests, volunteers = batch(reqs), pool(vols)
    return requests, volunteers, solve_match(requests, PoolIndex.build(volunteers), policy)


def check_valid(
    requests: RequestBatch, volunteers: VolunteerPool, policy: Policy, result: MatchResult
) -> None:
    """Every assignment meets the hard constraints (checked by the reference model), each
    window is used once, no request gets more than its slots or one volunteer twice, the
    rows are ordered, and the costs, values and unserved rows add up."""
    i, v, w = result.request, result.volunteer, result.window
    n = len(i)
    assert len(result.slot) == len(v) == len(w) == len(result.distance_km) == n
    assert result.cost_terms.shape == (n, 4)
    assert np.array_equal(volunteers.window_owner[w], v)
    for a, b, km, terms in zip(
        i.tolist(), w.tolist(), result.distance_km.tolist(), result.cost_terms, strict=True
    ):
        assert reference_feasible(requests, volunteers, policy, a, b, slack_km=1e-6), (a, b)
        owner = int(volunteers.window_owner[b])
        cost = reference_cost(requests, volunteers, policy, a, owner, km)
        assert float(terms.sum()) == pytest.approx(cost, abs=1e-9)
        assert terms[0] == pytest.approx(policy.distance_weight * km, abs=1e-9)
        if requests.remote[a]:
            assert km == 0.0
        else:
            assert km <= reference_limit_km(requests, volunteers, policy, a, owner) + 1e-6
    assert len(np.unique(w)) == n, "a window used twice"
    assert len(set(zip(i.tolist(), v.tolist(), strict=True))) == n, "a volunteer twice"
    assert np.all(np.diff(i * 10_000 + result.slot) > 0), "not ordered by request, slot"
    filled = np.bincount(i, minlength=len(requests))
    assert np.all(filled <= requests.slots)
    slots = [np.arange(k) for k in filled.tolist()]
    assert np.array_equal(result.slot, np.concatenate([*slots, np.zeros(0, np.int64)]))
    short = np.flatnonzero(filled < requests.slots)
    assert np.array_equal(result.unserved_request, short)
    assert np.array_equal(result.unserved_slots, requests.slots[short] - filled[short])
    assert set(result.unserved_reason.tolist()) <= {int(r) for r in Reason}
    assert result.value_served == int(policy.values(requests.urgency[i]).sum())
    assert result.total_cost == pytest.approx(float(result.cost_terms.sum()))


def expected_reasons(
    requests: RequestBatch, volunteers: VolunteerPool, policy: Policy, result: MatchResult
) -> dict[int, Reason]:
    """The reason of each unserved request, from the reference model: OUTCOMPETED when more
    volunteers could serve it than it got, else the first constraint leaving too few:
    skills, then range (not for remote requests), then time."""
    pairs = reference_pairs(requests, volunteers, policy)
    filled = np.bincount(result.request, minlength=len(requests))
    out: dict[int, Reason] = {}
    for i in result.unserved_request.tolist():
        got = int(filled[i])
        feasible = {p.volunteer for (r, _), p in pairs.items() if r == i}
        need = int(requests.skill_mask[i])
        skilled = [
            v for v in range(len(volunteers)) if int(volunteers.skill_mask[v]) & need == need
        ]
        in_range = [
            v
            for v in skilled
            if km_between(requests, volunteers, i, v)
            <= reference_limit_km(requests, volunteers, policy, i, v)
        ]
        if len(feasible) > got:
            out[i] = OUTCOMPETED
        elif len(skilled) <= got:
            out[i] = NO_SKILL
        elif not requests.remote[i] and len(in_range) <= got:
            out[i] = OUT_OF_RANGE
        else:
            out[i] = NOT_AVAILABLE
    return out


def km_between(requests: RequestBatch, volunteers: VolunteerPool, i: int, v: int) -> float:
    return great_circle_km(
        float(requests.lat[i]),
        float(requests.lon[i]),
        float(volunteers.lat[v]),
        float(volunteers.lon[v]),
    )


# --- a table of solved cases -------------------------------------------------------------

# name, volunteers, requests, expected (request id, volunteer id) pairs, expected unserved
# {request id: (unserved slots, reason)}, policy. Every optimum here is unique.
Unserved = dict[str, tuple[int, Reason]]
Case = tuple[str, list[VolSpec], list[ReqSpec], list[tuple[str, str]], Unserved, Policy]
P = Policy()
CASES: list[Case] = [
    (
        "nearest wins",
        [vol("a", at=north(5)), vol("b", at=north(1)), vol("c", at=north(2))],
        [req("r")],
        [("r", "b")],
        {},
        P,
    ),
    (
        "every required skill held",
        [vol("a", at=north(1)), vol("b", {"cleaning": 3, "tutoring": 3}, at=north(3))],
        [req("r", ["cleaning", "tutoring"])],
        [("r", "b")],
        {},
        P,
    ),
    (
        "no skill asked: anyone, nearest",
        [vol("a", at=north(2)), vol("b", {"tutoring": 3}, at=north(1))],
        [req("r", [])],
        [("r", "b")],
        {},
        P,
    ),
    (
        "skill missing",
        [vol("a", at=north(1))],
        [req("r", ["calligraphy"])],
        [],
        {"r": (1, NO_SKILL)},
        P,
    ),
    (
        "beyond the policy radius",
        [vol("a", at=north(16))],
        [req("r")],
        [],
        {"r": (1, OUT_OF_RANGE)},
        P,
    ),
    (
        "request limit binds before cost",
        [vol("a", {"cleaning": 1}, at=north(2)), vol("b", {"cleaning": 5}, at=north(2.9))],
        [req("r", max_km=2.5)],
        [("r", "a")],
        {},
        P,
    ),
    (
        "request limit above the radius is capped",
        [vol("a", at=north(16))],
        [req("r", max_km=40)],
        [],
        {"r": (1, OUT_OF_RANGE)},
        P,
    ),
    (
        "volunteer travel limit respected",
        [vol("a", at=north(1.5), travel_km=1), vol("b", at=north(3))],
        [req("r")],
        [("r", "b")],
        {},
        P,
    ),
    (
        "travel limit alone: out of range",
        [vol("a", at=north(1.5), travel_km=1)],
        [req("r")],
        [],
        {"r": (1, OUT_OF_RANGE)},
        P,
    ),
    (
        "window not contained",
        [vol("a", at=north(1), windows=[(9, 10)]), vol("b", at=north(2), windows=[(13, 17)])],
        [req("r", window=(9, 11))],
        [],
        {"r": (1, NOT_AVAILABLE)},
        P,
    ),
    (
        "range reported before time",
        [vol("a", {"calligraphy": 3}, at=north(30), windows=[(13, 17)]), vol("b", at=north(1))],
        [req("r", ["calligraphy"])],
        [],
        {"r": (1, OUT_OF_RANGE)},
        P,
    ),
    (
        "exact window fits",
        [vol("a", at=north(1), windows=[(9, 10)])],
        [req("r", window=(9, 10))],
        [("r", "a")],
        {},
        P,
    ),
    (
        "urgent beats routine when one volunteer",
        [vol("a", at=north(1))],
        [req("r1", at=north(0)), req("r2", at=north(8), urgency=U)],
        [("r2", "a")],
        {"r1": (1, OUTCOMPETED)},
        P,
    ),
    (
        "urgent, then difficult, then routine",
        [vol("a", at=north(0))],
        [
            req("r1", at=north(0.5)),
            req("r2", at=north(5), urgency=D),
            req("r3", at=north(10), urgency=U),
        ],
        [("r3", "a")],
        {"r1": (1, OUTCOMPETED), "r2": (1, OUTCOMPETED)},
        P,
    ),
    (
        "two volunteers serve the two most valuable, at least distance",
        [vol("a", at=north(1)), vol("b", at=north(-1))],
        [
            req("r1", at=north(0.2)),
            req("r2", at=north(6), urgency=D),
            req("r3", at=north(-6), urgency=U),
        ],
        [("r2", "a"), ("r3", "b")],
        {"r1": (1, OUTCOMPETED)},
        P,
    ),
    (
        "value first, not nearest first",
        [vol("a", at=north(1)), vol("b", at=north(2))],
        [req("r1", at=north(0), urgency=U), req("r2", at=north(0.9), max_km=0.5)],
        [("r1", "b"), ("r2", "a")],
        {},
        P,
    ),
    (
        "distance-only policy minimises total distance",
        [vol("a", at=north(1)), vol("b", at=north(-2))],
        [req("r1", at=north(0)), req("r2", at=north(2))],
        [("r1", "b"), ("r2", "a")],
        {},
        DISTANCE_ONLY,
    ),
    (
        "one window serves one order",
        [vol("a", at=north(1))],
        [req("r1", at=north(0), window=(9, 10)), req("r2", at=north(3), window=(10, 11))],
        [("r1", "a")],
        {"r2": (1, OUTCOMPETED)},
        P,
    ),
    (
        "two windows serve two orders",
        [vol("a", at=north(1), windows=[(8, 12), (13, 17)])],
        [req("r1", window=(9, 10)), req("r2", window=(14, 15))],
        [("r1", "a"), ("r2", "a")],
        {},
        P,
    ),
    (
        "multi-slot: distinct volunteers, the cheapest",
        [vol("a", at=north(3)), vol("b", at=north(1)), vol("c", at=north(2))],
        [req("r", urgency=D, slots=2)],
        [("r", "b"), ("r", "c")],
        {},
        P,
    ),
    (
        "multi-slot: one volunteer's two windows fill one slot",
        [vol("a", at=north(1), windows=[(8, 12), (13, 17)])],
        [req("r", slots=2)],
        [("r", "a")],
        {"r": (1, NO_SKILL)},
        P,
    ),
    (
        "multi-slot: partly served, too few in range",
        [vol("a", at=north(1)), vol("b", at=north(20))],
        [req("r", slots=2)],
        [("r", "a")],
        {"r": (1, OUT_OF_RANGE)},
        P,
    ),
    (
        "multi-slot: partly served, too few free then",
        [vol("a", at=north(1)), vol("b", at=north(2), windows=[(13, 17)])],
        [req("r", slots=3)],
        [("r", "a")],
        {"r": (2, NOT_AVAILABLE)},
        P,
    ),
    (
        "remote ignores distance",
        [vol("a", at=north(400))],
        [req("r", remote=True)],
        [("r", "a")],
        {},
        P,
    ),
    (
        "remote ignores the travel and request limits",
        [vol("a", at=north(50), travel_km=1)],
        [req("r", remote=True, max_km=2)],
        [("r", "a")],
        {},
        P,
    ),
    (
        "remote takes the cheapest, however far",
        [
            vol("a", at=north(0), rating=1, rating_count=20),
            vol("b", at=north(300), rating=5, rating_count=20),
        ],
        [req("r", remote=True)],
        [("r", "b")],
        {},
        P,
    ),
    (
        "skill level outweighs a kilometre",
        [vol("a", {"cleaning": 1}, at=north(1)), vol("b", {"cleaning": 5}, at=north(2))],
        [req("r")],
        [("r", "b")],
        {},
        P,
    ),
    (
        "many good ratings beat one",
        [
            vol("a", at=north(1), rating=5, rating_count=1),
            vol("b", at=north(1.1), rating=5, rating_count=40),
        ],
        [req("r")],
        [("r", "b")],
        {},
        P,
    ),
    (
        "fairness spreads the work",
        [vol("a", at=north(1), hours=40), vol("b", at=north(1.3))],
        [req("r")],
        [("r", "b")],
        {},
        P,
    ),
    ("empty pool", [], [req("r")], [], {"r": (1, NO_SKILL)}, P),
    ("empty batch", [vol("a")], [], [], {}, P),
]


def permutations(n: int, seed: int) -> list[list[int]]:
    """Identity, reversed and one seeded shuffle of ``range(n)``."""
    shuffled = np.random.default_rng(seed).permutation(n).tolist()
    return [list(range(n)), list(range(n))[::-1], shuffled]


@pytest.mark.parametrize("order", range(3), ids=["as given", "reversed", "shuffled"])
@pytest.mark.parametrize(
    ("vols", "reqs", "assigned", "unserved", "policy"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_solved_cases(
    order: int,
    vols: list[VolSpec],
    reqs: list[ReqSpec],
    assigned: list[tuple[str, str]],
    unserved: Unserved,
    policy: Policy,
) -> None:
    reqs = [reqs[k] for k in permutations(len(reqs), 1)[order]]
    vols = [vols[k] for k in permutations(len(vols), 2)[order]]
    requests, volunteers, result = solve(reqs, vols, policy)
    assert assigned_ids(requests, volunteers, result) == sorted(assigned)
    assert unserved_ids(requests, result) == {k: (n, int(r)) for k, (n, r) in unserved.items()}
    check_valid(requests, volunteers, policy, result)
    dense = dense_match(requests, PoolIndex.build(volunteers), policy)
    assert result.value_served == dense.value_served
    assert result.total_cost == pytest.approx(dense.total_cost, abs=1e-9)


def test_costs_values_and_distances_filled() -> None:
    vols = [vol("a", at=north(2)), vol("b", {"cleaning": 5}, at=north(4), windows=[(9, 12)])]
    reqs = [req("r1", urgency=U), req("r2", at=north(4), urgency=D, slots=2, window=(10, 11))]
    policy = Policy(distance_weight=2.0)
    requests, volunteers, result = solve(reqs, vols, policy)
    assert assigned_ids(requests, volunteers, result) == [("r1", "a"), ("r2", "b")]
    assert unserved_ids(requests, result) == {"r2": (1, int(OUTCOMPETED))}
    assert result.distance_km.tolist() == pytest.approx([2.0, 0.0], abs=1e-6)
    # r1-a: 2 x 2 km, level 3 (2 x 0.5), unrated (2 x 0.25), no hours; r2-b: level 5, 0 km
    assert result.cost_terms[0].tolist() == pytest.approx([4.0, 1.0, 0.5, 0.0], abs=1e-6)
    assert result.cost_terms[1].tolist() == pytest.approx([0.0, 0.0, 0.5, 0.0], abs=1e-6)
    assert result.cost.tolist() == pytest.approx([5.5, 0.5], abs=1e-6)
    assert result.value_served == policy.urgent_value + policy.difficult_value
    assert result.total_cost == pytest.approx(6.0, abs=1e-5)
    assert result.stats.rounds >= 1 and result.stats.candidate_pairs >= 2
    assert result.stats.total_ms >= result.stats.solve_ms >= 0


def test_optimal_however_many_unservable_requests() -> None:
    """The pruning certificate must not loosen with the batch size. The cheapest volunteer
    for ``target`` is one metre further than ``INITIAL_K`` others (but has no recent hours),
    so it is left out of the first round; 1,000 requests nobody can serve only inflate the big-M
    "unserved" weights, which must not let the solver stop at a worse pair."""
    vols = [vol(f"near{k}", {"cleaning": 5}, hours=0.04) for k in range(INITIAL_K)]
    vols.append(vol("best", {"cleaning": 5}, at=north(0.001)))
    reqs = [req("target", urgency=U)]
    reqs += [req(f"rare{k}", ["calligraphy"]) for k in range(1000)]
    requests, volunteers, result = solve(reqs, vols, P)
    # near: 0 km + 2 x 0.25 (unrated) + 0.04 / 20.04 (hours); best: 0.001 km + 2 x 0.25
    assert assigned_ids(requests, volunteers, result) == [("target", "best")]
    assert result.total_cost == pytest.approx(0.501, abs=1e-9)
    assert set(result.unserved_reason.tolist()) == {int(NO_SKILL)}


def test_deterministic() -> None:
    requests, volunteers = random_instance(7, 120, 600, spread_km=1.0)
    index = PoolIndex.build(volunteers)
    first = solve_match(requests, index, Policy())
    again = solve_match(requests, index, Policy())  # trees now cached
    fresh = solve_match(requests, PoolIndex.build(volunteers), Policy())
    assert len(first.request) > 0 and len(first.unserved_request) > 0
    for other in (again, fresh):
        for name in (
            "request",
            "slot",
            "volunteer",
            "window",
            "distance_km",
            "cost_terms",
            "unserved_request",
            "unserved_slots",
            "unserved_reason",
        ):
            assert np.array_equal(getattr(first, name), getattr(other, name)), name
        assert other.value_served == first.value_served
        assert other.stats.rounds == first.stats.rounds
        assert other.stats.candidate_pairs == first.stats.candidate_pairs


# --- properties on tiny instances: valid, optimal (brute force), reasons ------------------

SKILLS = ("cleaning", "tutoring", "calligraphy")
VOL_WINDOWS = [
    ((8, 12),),
    ((13, 17),),
    ((8, 10), (10, 12)),
    ((9, 11), (14, 18)),
    ((7, 20),),
    ((8.5, 9.5), (12, 13)),
    ((7, 20),),
]
REQ_WINDOWS = [(8, 9), (9, 10), (9, 11), (10, 12), (11, 13), (14, 15), (15, 17), (8.5, 9.5)]
place = st.tuples(st.floats(-8, 8), st.floats(-8, 8)).map(lambda p: north(*p))
vol_kwargs = st.fixed_dictionaries(
    {
        "skills": st.dictionaries(
            st.sampled_from(SKILLS), st.integers(1, 5), min_size=1, max_size=3
        ),
        "at": place,
        "windows": st.sampled_from(VOL_WINDOWS),
        "travel_km": st.sampled_from([0.0, 0.0, 3.0, 10.0]),
        "rating": st.floats(0, 5),
        "rating_count": st.integers(0, 20),
        "hours": st.floats(0, 40),
    }
)
req_kwargs = st.fixed_dictionaries(
    {
        "skills": st.sampled_from(
            [[], ["cleaning"], ["tutoring"], ["cleaning", "tutoring"], ["calligraphy"]]
        ),
        "at": place,
        "window": st.sampled_from(REQ_WINDOWS),
        "urgency": st.sampled_from([R, U, D]),
        "slots": st.integers(1, 3),
        "remote": st.sampled_from([False, False, False, True]),
        "max_km": st.sampled_from([0.0, 0.0, 3.0, 8.0, 40.0]),
    }
)
policies = st.builds(
    Policy,
    distance_weight=st.sampled_from([0.0, 0.5, 1.0, 3.0]),
    skill_weight=st.sampled_from([0.0, 2.0]),
    rating_weight=st.sampled_from([0.0, 2.0]),
    fairness_weight=st.sampled_from([0.0, 1.0]),
    default_radius_km=st.sampled_from([5.0, 15.0, 30.0]),
    routine_value=st.sampled_from([1, 10]),
    urgent_value=st.sampled_from([1, 100]),
    difficult_value=st.sampled_from([1, 30]),
)


def tiny(
    req_specs: list[dict[str, Any]],
    vol_specs: list[dict[str, Any]],
    max_slots: int,
    max_windows: int,
) -> tuple[list[ReqSpec], list[VolSpec]]:
    """Build specs, keeping requests while the slots fit and volunteers while windows fit."""
    reqs: list[ReqSpec] = []
    for k, kw in enumerate(req_specs):
        if sum(r.slots for r in reqs) + kw["slots"] <= max_slots:
            reqs.append(req(f"r{k}", **kw))
    vols: list[VolSpec] = []
    for k, kw in enumerate(vol_specs):
        if sum(len(v.windows) for v in vols) + len(kw["windows"]) <= max_windows:
            vols.append(vol(f"v{k}", **kw))
    return reqs, vols


@settings(max_examples=60, deadline=None)
@given(
    st.lists(req_kwargs, min_size=1, max_size=4),
    st.lists(vol_kwargs, min_size=1, max_size=5),
    policies,
)
def test_property_equals_brute_force(
    req_specs: list[dict[str, Any]], vol_specs: list[dict[str, Any]], policy: Policy
) -> None:
    reqs, vols = tiny(req_specs, vol_specs, max_slots=5, max_windows=6)
    requests, volunteers, result = solve(reqs, vols, policy)
    check_valid(requests, volunteers, policy, result)
    value, cost = brute_force_objective(requests, volunteers, policy)
    event(f"slots filled: {len(result.request)} of {int(requests.slots.sum())}")
    target(float(len(result.request)), label="slots filled")
    assert result.value_served == value
    assert result.total_cost == pytest.approx(cost, rel=1e-9, abs=1e-9)


def test_seeded_tiny_instances_equal_brute_force() -> None:
    """Brute force on 300 seeded tiny instances in one town (many with competition)."""
    filled = []
    for seed in range(300):
        rng = np.random.default_rng(seed)
        requests, volunteers = random_instance(
            seed,
            int(rng.integers(1, 5)),
            int(rng.integers(2, 5)),
            spread_km=3.0,
            n_centres=1,
            n_skills=2,
            hours=4,
            multi_slot_frac=0.3,
        )
        if requests.slots.sum() > 5 or volunteers.n_windows > 6:
            continue
        policy = Policy(distance_weight=float(rng.choice([0.0, 0.3, 1.0, 3.0])))
        result = solve_match(requests, PoolIndex.build(volunteers), policy)
        check_valid(requests, volunteers, policy, result)
        value, cost = brute_force_objective(requests, volunteers, policy)
        assert result.value_served == value, seed
        assert result.total_cost == pytest.approx(cost, rel=1e-9, abs=1e-9), seed
        filled.append(len(result.request))
    assert len(filled) >= 100 and max(filled) >= 3


@settings(max_examples=60, deadline=None)
@given(
    st.lists(req_kwargs, min_size=1, max_size=8),
    st.lists(vol_kwargs, min_size=1, max_size=10),
    policies,
)
def test_property_reasons_and_infeasible_exactly_when_no_feasible_pair(
    req_specs: list[dict[str, Any]], vol_specs: list[dict[str, Any]], policy: Policy
) -> None:
    reqs, vols = tiny(req_specs, vol_specs, max_slots=12, max_windows=16)
    requests, volunteers, result = solve(reqs, vols, policy)
    check_valid(requests, volunteers, policy, result)
    pairs = reference_pairs(requests, volunteers, policy)
    for reason in sorted(set(result.unserved_reason.tolist())):
        event(f"reason: {Reason(reason).name}")
    reasons = dict(
        zip(result.unserved_request.tolist(), result.unserved_reason.tolist(), strict=True)
    )
    for i in range(len(requests)):
        has_pair = any(r == i for r, _ in pairs)
        if requests.slots[i] == 1:
            # unserved with a non-OUTCOMPETED reason iff the request has no feasible pair
            assert (i in reasons and reasons[i] != OUTCOMPETED) == (not has_pair), i
    assert reasons == {
        i: int(r) for i, r in expected_reasons(requests, volunteers, policy, result).items()
    }
    dense = dense_match(requests, PoolIndex.build(volunteers), policy)
    assert result.value_served == dense.value_served
    assert result.total_cost == pytest.approx(dense.total_cost, rel=1e-9, abs=1e-9)


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_requests=st.integers(0, 60),
    n_volunteers=st.integers(0, 200),
    layout=st.sampled_from(["clustered", "uniform"]),
    spread_km=st.sampled_from([0.3, 2.0, 6.0]),
    policy=policies,
)
def test_property_random_instances_valid_and_equal_to_dense(
    seed: int,
    n_requests: int,
    n_volunteers: int,
    layout: str,
    spread_km: float,
    policy: Policy,
) -> None:
    requests, volunteers = random_instance(
        seed, n_requests, n_volunteers, layout=layout, spread_km=spread_km
    )
    index = PoolIndex.build(volunteers)
    result = solve_match(requests, index, policy)
    check_valid(requests, volunteers, policy, result)
    dense = dense_match(requests, index, policy)
    assert result.value_served == dense.value_served
    assert result.total_cost == pytest.approx(dense.total_cost, rel=1e-9, abs=1e-6)


# --- seeded differential test against the dense reference --------------------------------

# seed, requests, volunteers, layout, spread km, policy
DIFFERENTIAL = [
    (11, 150, 1000, "clustered", 0.5, Policy()),
    (12, 250, 2000, "clustered", 1.0, Policy(distance_weight=0.2)),
    (13, 400, 3000, "clustered", 0.3, Policy()),
    (14, 300, 2000, "clustered", 2.0, Policy(distance_weight=3.0, default_radius_km=25.0)),
    (15, 300, 1500, "uniform", 0.0, Policy()),
]


def test_differential_against_dense() -> None:
    rounds: list[int] = []
    unserved = 0
    for seed, n_req, n_vol, layout, spread, policy in DIFFERENTIAL:
        requests, volunteers = random_instance(seed, n_req, n_vol, layout=layout, spread_km=spread)
        index = PoolIndex.build(volunteers)
        result = solve_match(requests, index, policy)
        dense = dense_match(requests, index, policy)
        assert result.value_served == dense.value_served, seed
        assert result.total_cost == pytest.approx(dense.total_cost, rel=1e-6), seed
        assert len(result.request) > 0, seed
        rounds.append(result.stats.rounds)
        unserved += len(result.unserved_request)
    assert max(rounds) > 1, f"no instance needed more than one pruning round: {rounds}"
    assert unserved > 0, "no competition left any request unserved"
