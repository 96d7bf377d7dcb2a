"""Tests of ``matcher.core.candidates``: candidate pairs are feasible, exhaustive requests
get every feasible pair, and the lower bound on left-out pairs is valid, checked against
every feasible pair found by brute force on small random instances."""

from __future__ import annotations

import functools

import numpy as np
import pytest

from matcher.core.candidates import Candidates, SolveContext, find_nearest, find_within
from matcher.core.model import Policy, RequestBatch, VolunteerPool
from matcher.core.pool_index import PoolIndex
from tests.support.core import (
    Pair,
    batch,
    north,
    pool,
    random_instance,
    reference_feasible,
    reference_pairs,
    req,
    vol,
)

# Boundary pairs (within this many km of a distance limit) may go either way between the
# core's haversine and the reference's formula; they are excluded from "must include".
EDGE_KM = 1e-6
COST_TOL = 1e-9

# seed, requests, volunteers, layout, spread km, remote fraction, hours (window scale)
INSTANCES = [
    (1, 40, 150, "clustered", 1.0, 0.1, 6),
    (2, 40, 150, "clustered", 4.0, 0.3, 6),
    (3, 30, 200, "uniform", 0.0, 0.1, 6),
    (4, 30, 120, "clustered", 2.0, 0.5, 48),  # long windows: many time buckets each
]
POLICIES = {
    "default": Policy(),
    "distance only": Policy(skill_weight=0.0, rating_weight=0.0, fairness_weight=0.0),
    "no distance weight": Policy(distance_weight=0.0),
    "heavy distance, wide radius": Policy(distance_weight=3.0, default_radius_km=30.0),
}


@functools.cache
def instance(
    which: int, policy_name: str
) -> tuple[RequestBatch, VolunteerPool, Policy, dict[tuple[int, int], Pair]]:
    seed, n_req, n_vol, layout, spread, remote, hours = INSTANCES[which]
    requests, volunteers = random_instance(
        seed, n_req, n_vol, layout=layout, spread_km=spread, remote_frac=remote, hours=hours
    )
    policy = POLICIES[policy_name]
    return requests, volunteers, policy, reference_pairs(requests, volunteers, policy)


def pairs_of(cands: Candidates) -> set[tuple[int, int]]:
    return set(zip(cands.request.tolist(), cands.window.tolist(), strict=True))


def check_candidates(
    requests: RequestBatch,
    volunteers: VolunteerPool,
    policy: Policy,
    ref: dict[tuple[int, int], Pair],
    rows: np.ndarray,
    cands: Candidates,
) -> None:
    """Candidates are feasible, unique and for ``rows``; every feasible pair left out of a
    row costs at least its lower bound, and none is left out of an exhaustive row."""
    assert sorted(cands.rows.tolist()) == sorted(rows.tolist())
    assert len(cands.exhaustive) == len(cands.lower_bound) == len(rows)
    got = pairs_of(cands)
    assert len(got) == len(cands.request), "a pair listed twice"
    assert set(cands.request.tolist()) <= set(rows.tolist())
    for i, w, km in zip(
        cands.request.tolist(), cands.window.tolist(), cands.distance_km.tolist(), strict=True
    ):
        assert reference_feasible(requests, volunteers, policy, i, w, slack_km=EDGE_KM), (i, w)
        expected_km = ref[(i, w)].km if (i, w) in ref else km
        assert km == pytest.approx(expected_km, abs=1e-6)
    for i, exhaustive, lower in zip(
        cands.rows.tolist(), cands.exhaustive.tolist(), cands.lower_bound.tolist(), strict=True
    ):
        left_out = [
            p
            for (r, w), p in ref.items()
            if r == i
            and (r, w) not in got
            and reference_feasible(requests, volunteers, policy, r, w, slack_km=-EDGE_KM)
        ]
        if exhaustive:
            assert left_out == [], f"exhaustive request {i} misses {left_out}"
        for p in left_out:
            assert p.cost >= lower - COST_TOL, (i, p, lower)


@pytest.mark.parametrize("policy_name", list(POLICIES))
@pytest.mark.parametrize("which", range(len(INSTANCES)))
@pytest.mark.parametrize("k", [2, 7, 32])
def test_find_nearest_bound_is_valid(k: int, which: int, policy_name: str) -> None:
    requests, volunteers, policy, ref = instance(which, policy_name)
    ctx = SolveContext(requests, PoolIndex.build(volunteers), policy)
    rows = np.arange(len(requests), dtype=np.int64)
    cands = find_nearest(ctx, rows, k)
    check_candidates(requests, volunteers, policy, ref, rows, cands)
    if k == 2:
        assert not cands.exhaustive.all(), "no pruning: the bound went untested"
    got = pairs_of(cands)
    for i in rows.tolist():
        mine = [ref[p] for p in got if p[0] == i]
        left = [p for key, p in ref.items() if key[0] == i and key not in got]
        assert len(mine) <= k
        if not mine or not left:
            continue
        if requests.remote[i]:  # the k cheapest feasible pairs
            assert max(p.cost for p in mine) <= min(p.cost for p in left) + COST_TOL
        else:  # the k nearest windows, filtered: nothing left out is nearer
            assert max(p.km for p in mine) <= min(p.km for p in left) + EDGE_KM


@pytest.mark.parametrize("policy_name", list(POLICIES))
@pytest.mark.parametrize("which", range(len(INSTANCES)))
def test_find_within_includes_every_pair_below_max_cost(which: int, policy_name: str) -> None:
    requests, volunteers, policy, ref = instance(which, policy_name)
    ctx = SolveContext(requests, PoolIndex.build(volunteers), policy)
    rng = np.random.default_rng(which)
    rows = np.flatnonzero(rng.random(len(requests)) < 0.7).astype(np.int64)
    max_cost = ctx.static_min + rng.uniform(0.0, 12.0, len(rows))
    max_cost[rng.random(len(rows)) < 0.2] = np.inf
    remote_k = np.full(len(requests), 3, dtype=np.int64)
    cands = find_within(ctx, rows, max_cost, remote_k)
    check_candidates(requests, volunteers, policy, ref, rows, cands)
    got = pairs_of(cands)
    limit = dict(zip(rows.tolist(), max_cost.tolist(), strict=True))
    for i in rows.tolist():  # a remote row keeps its remote_k cheapest (all when max_cost = inf)
        if requests.remote[i]:
            feasible = sum(1 for (r, _) in ref if r == i)
            kept = sum(1 for (r, _) in got if r == i)
            assert kept == (feasible if limit[i] == np.inf else min(3, feasible))
    for (i, w), p in ref.items():
        near = i in limit and not requests.remote[i]
        below = near and p.cost < limit[i] - COST_TOL
        if below and reference_feasible(requests, volunteers, policy, i, w, slack_km=-EDGE_KM):
            assert (i, w) in got, (i, w, p, limit[i])
    exhaustive = dict(zip(cands.rows.tolist(), cands.exhaustive.tolist(), strict=True))
    assert all(exhaustive[i] for i, m in limit.items() if m == np.inf)


def test_find_nearest_on_an_empty_row_set() -> None:
    requests, volunteers, policy, _ = instance(0, "default")
    ctx = SolveContext(requests, PoolIndex.build(volunteers), policy)
    cands = find_nearest(ctx, np.zeros(0, dtype=np.int64), 8)
    assert len(cands.request) == len(cands.rows) == 0


def test_find_nearest_exhaustive_when_the_tree_is_small() -> None:
    requests = batch([req("r")])
    volunteers = pool([vol("a", at=north(1)), vol("b", at=north(2)), vol("c", at=north(30))])
    ctx = SolveContext(requests, PoolIndex.build(volunteers), Policy())
    cands = find_nearest(ctx, np.array([0], dtype=np.int64), 8)
    assert sorted(cands.window.tolist()) == [0, 1]  # c is beyond the 15 km radius
    assert cands.exhaustive.tolist() == [True]


def test_find_nearest_with_k_1() -> None:
    """k = 1: the single nearest window; the others cost at least 1 km + static_min."""
    requests = batch([req("r")])
    volunteers = pool([vol("a", at=north(2)), vol("b", at=north(1)), vol("c", at=north(3))])
    ctx = SolveContext(requests, PoolIndex.build(volunteers), Policy())
    cands = find_nearest(ctx, np.array([0], dtype=np.int64), 1)
    assert cands.window.tolist() == [1]
    assert cands.exhaustive.tolist() == [False]
    assert cands.lower_bound[0] == pytest.approx(1.0 + ctx.static_min, abs=1e-6)
