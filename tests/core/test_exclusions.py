"""Excluded (request, volunteer) pairs in the core: never assigned, and the optimum with them
equals the dense reference with the same pairs forbidden."""

from __future__ import annotations

import numpy as np
import pytest

from matcher.core.dense import dense_match
from matcher.core.exclusions import ExcludedPairs
from matcher.core.model import Policy
from matcher.core.pool_index import PoolIndex
from matcher.core.solve import solve_match
from tests.support.core import batch, north, pool, random_instance, req, vol


def test_an_excluded_pair_is_never_used_and_the_next_best_is() -> None:
    requests = batch([req("r0", at=north(0))])
    volunteers = pool([vol("near", at=north(0.5)), vol("far", at=north(3))])
    index = PoolIndex.build(volunteers)
    assert volunteers.ids[int(solve_match(requests, index, Policy()).volunteer[0])] == "near"
    excluded = ExcludedPairs.build([(0, 0)], len(volunteers))
    result = solve_match(requests, index, Policy(), excluded=excluded)
    assert [volunteers.ids[v] for v in result.volunteer.tolist()] == ["far"]


def test_excluding_the_only_volunteer_leaves_the_request_unserved() -> None:
    requests = batch([req("r0", at=north(0)), req("r1", at=north(0))])
    volunteers = pool([vol("only", at=north(0))])
    excluded = ExcludedPairs.build([(0, 0)], 1)
    result = solve_match(requests, PoolIndex.build(volunteers), Policy(), excluded=excluded)
    assert result.request.tolist() == [1]
    assert result.unserved_request.tolist() == [0]


def test_out_of_range_pairs_are_ignored() -> None:
    excluded = ExcludedPairs.build([(0, 5), (-1, 0), (2, 1)], 3)
    assert len(excluded) == 1
    assert excluded.allowed(np.array([2, 2]), np.array([1, 0])).tolist() == [False, True]


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_equals_the_dense_reference_with_the_same_pairs_forbidden(seed: int) -> None:
    requests, volunteers = random_instance(seed, 60, 250, spread_km=1.5)
    index = PoolIndex.build(volunteers)
    plain = solve_match(requests, index, Policy())
    rng = np.random.default_rng(seed)
    # Forbid most of the pairs the plain optimum used, and some random ones.
    chosen = list(zip(plain.request.tolist(), plain.volunteer.tolist(), strict=True))
    keep = rng.random(len(chosen)) < 0.7
    pairs = [p for p, k in zip(chosen, keep.tolist(), strict=True) if k]
    rows, cols = rng.integers(0, 60, 200).tolist(), rng.integers(0, 250, 200).tolist()
    pairs += list(zip(rows, cols, strict=True))
    excluded = ExcludedPairs.build(pairs, len(volunteers))
    result = solve_match(requests, index, Policy(), excluded=excluded)
    dense = dense_match(requests, index, Policy(), excluded)
    used = set(zip(result.request.tolist(), result.volunteer.tolist(), strict=True))
    assert not used & set(pairs)
    assert result.value_served == dense.value_served
    assert result.total_cost == pytest.approx(dense.total_cost, rel=1e-6)


@pytest.mark.parametrize("seed", [5, 6])
def test_allowed_equals_set_membership(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n_volunteers = 300
    rows, cols = rng.integers(0, 50, 400).tolist(), rng.integers(0, 300, 400).tolist()
    pairs = set(zip(rows, cols, strict=True))
    excluded = ExcludedPairs.build(pairs, n_volunteers)
    request, volunteer = rng.integers(0, 60, 5000), rng.integers(0, 300, 5000)
    asked = zip(request.tolist(), volunteer.tolist(), strict=True)
    expected = [(r, v) not in pairs for r, v in asked]
    assert excluded.allowed(request, volunteer).tolist() == expected
    assert ExcludedPairs.build([], n_volunteers).allowed(request, volunteer).all()
