"""Conversion between protobuf and domain types: round trips, defaults and the result."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from matcher.config import Settings
from matcher.core.model import MatchResult, Policy, Reason, RequestBatch, SolveStats, Urgency
from matcher.core.skills import SKILL_BIT
from matcher.errors import LimitExceededError, ValidationError
from matcher.service.convert import (
    MAX_VIOLATIONS,
    match_request_to_domain,
    match_result_to_proto,
    pool_to_proto,
    requests_to_proto,
)
from matcher.tools.synthetic import gonghe_day, uniform_day
from matcher.v1 import match_pb2


def assert_same_columns(expected: object, actual: object) -> None:
    """Every field equal, arrays with the same dtype."""
    assert dataclasses.is_dataclass(expected) and dataclasses.is_dataclass(actual)
    for f in dataclasses.fields(expected):
        want, got = getattr(expected, f.name), getattr(actual, f.name)
        if isinstance(want, np.ndarray):
            assert got.dtype == want.dtype, f.name
            np.testing.assert_array_equal(got, want, err_msg=f.name)
        else:
            assert got == want, f.name


def through_the_wire(msg: match_pb2.MatchRequest) -> match_pb2.MatchRequest:
    return match_pb2.MatchRequest.FromString(msg.SerializeToString())


@pytest.mark.parametrize("generate", [gonghe_day, uniform_day])
@pytest.mark.parametrize("seed", [1, 2])
def test_round_trip_gives_equal_arrays(generate: object, seed: int) -> None:
    requests, pool = generate(seed, 60, 400)  # type: ignore[operator]
    msg = match_pb2.MatchRequest(
        requests=requests_to_proto(requests), volunteers=pool_to_proto(pool)
    )
    got_requests, got_pool, policy = match_request_to_domain(through_the_wire(msg))
    assert_same_columns(requests, got_requests)
    assert_same_columns(pool, got_pool)
    assert policy == Policy()


def test_windows_of_a_volunteer_stay_with_their_owner() -> None:
    _, pool = gonghe_day(3, 1, 50)
    shuffled = np.random.default_rng(0).permutation(pool.n_windows)
    pool = dataclasses.replace(
        pool,
        window_owner=pool.window_owner[shuffled],
        window_start=pool.window_start[shuffled],
        window_end=pool.window_end[shuffled],
    )
    volunteers = pool_to_proto(pool)
    for v, msg in enumerate(volunteers):
        mine = np.flatnonzero(pool.window_owner == v)
        assert [w.start.seconds for w in msg.availability] == pool.window_start[mine].tolist()


def test_an_empty_batch_is_refused_naming_requests() -> None:
    with pytest.raises(ValidationError) as refused:
        match_request_to_domain(match_pb2.MatchRequest())
    assert [v.field for v in refused.value.violations] == ["requests"]
    assert "at least one request" in refused.value.violations[0].description


def test_defaults_apply(valid_request: match_pb2.MatchRequest) -> None:
    msg = valid_request
    msg.ClearField("policy")
    msg.requests[0].urgency = match_pb2.URGENCY_UNSPECIFIED
    msg.requests[0].volunteers_needed = 0
    msg.volunteers[0].skills[0].level = 0
    msg.volunteers[1].rating = 0
    msg.volunteers[1].rating_count = 0
    requests, pool, policy = match_request_to_domain(msg)
    assert requests.urgency[0] == Urgency.ROUTINE
    assert requests.slots[0] == 1
    assert pool.levels[0, SKILL_BIT["elderly_care"]] == 3
    assert policy == Policy()
    # the remote request has no location: it reads as (0, 0) and is not an error
    assert requests.remote[1] and (requests.lat[1], requests.lon[1]) == (0.0, 0.0)


def test_absent_policy_fields_keep_their_defaults(valid_request: match_pb2.MatchRequest) -> None:
    valid_request.policy.Clear()
    valid_request.policy.urgent_value = 500
    valid_request.policy.default_radius_km = 30.0
    _, _, policy = match_request_to_domain(valid_request)
    assert policy == Policy(urgent_value=500, default_radius_km=30.0)


def test_a_zero_policy_weight_is_kept(valid_request: match_pb2.MatchRequest) -> None:
    valid_request.policy.fairness_weight = 0.0
    _, _, policy = match_request_to_domain(valid_request)
    assert policy.fairness_weight == 0.0


def test_skills_and_masks(valid_request: match_pb2.MatchRequest) -> None:
    requests, pool, _ = match_request_to_domain(valid_request)
    care, clean = SKILL_BIT["elderly_care"], SKILL_BIT["cleaning"]
    assert int(requests.skill_mask[0]) == 1 << care
    assert int(pool.skill_mask[0]) == (1 << care) | (1 << clean)
    assert pool.levels[0, care] == 4 and pool.levels[0, clean] == 3
    assert pool.window_owner.tolist() == [0, 0, 1, 2]


def test_nanos_are_dropped(valid_request: match_pb2.MatchRequest) -> None:
    start = valid_request.requests[0].window.start
    start.nanos = 999_999_999
    requests, _, _ = match_request_to_domain(valid_request)
    assert requests.start[0] == start.seconds


def test_violations_are_capped(valid_request: match_pb2.MatchRequest) -> None:
    many = [match_pb2.ServiceRequest(id="", remote=True) for _ in range(2 * MAX_VIOLATIONS)]
    valid_request.requests.extend(many)
    with pytest.raises(ValidationError) as caught:
        match_request_to_domain(valid_request, Settings(max_requests=1000, max_slots=1000))
    assert len(caught.value.violations) == MAX_VIOLATIONS
    assert caught.value.truncated


def test_limits_are_checked_first() -> None:
    msg = match_pb2.MatchRequest(requests=[match_pb2.ServiceRequest(volunteers_needed=9)])
    with pytest.raises(LimitExceededError) as caught:
        match_request_to_domain(msg, Settings(max_slots=8))
    assert (caught.value.limit, caught.value.allowed, caught.value.actual) == (
        "MATCHER_MAX_SLOTS",
        8,
        9,
    )


def _result(requests: RequestBatch) -> MatchResult:
    terms = np.array([[1.5, 0.5, 0.25, 0.125], [3.0, 0.0, 0.5, 0.0]])
    return MatchResult(
        request=np.array([0, 0]),
        slot=np.array([0, 1]),
        volunteer=np.array([2, 0]),
        window=np.array([3, 0]),
        distance_km=np.array([1.5, 3.0]),
        cost_terms=terms,
        unserved_request=np.array([0, 1]),
        unserved_slots=np.array([1, 1]),
        unserved_reason=np.array([Reason.OUTCOMPETED, Reason.NO_SKILL], dtype=np.int32),
        value_served=200,
        stats=SolveStats(candidate_pairs=7, rounds=2, total_ms=1.5, solve_ms=0.5),
    )


def test_result_to_proto(valid_request: match_pb2.MatchRequest) -> None:
    valid_request.requests[0].volunteers_needed = 3
    requests, pool, _ = match_request_to_domain(valid_request)
    response = match_result_to_proto(_result(requests), requests, pool)
    first, second = response.assignments
    assert (first.request_id, first.volunteer_id, first.slot) == ("req-a", "vol-3", 0)
    assert (second.request_id, second.volunteer_id, second.slot) == ("req-a", "vol-1", 1)
    assert first.score == pytest.approx(2.375)
    assert first.breakdown.fairness == 0.125 and first.distance_km == 1.5
    assert first.volunteer_window.start.seconds == pool.window_start[3]
    assert second.volunteer_window.end.seconds == pool.window_end[0]
    partly, none = response.unassigned
    assert (partly.request_id, partly.unfilled_slots) == ("req-a", 1)
    assert partly.reason == match_pb2.Unassigned.REASON_OUTCOMPETED
    assert partly.detail.startswith("Request 1 of 3 slots unfilled: feasible volunteers exist")
    assert none.reason == match_pb2.Unassigned.REASON_NO_SKILL
    assert none.detail.startswith("Request unserved: no volunteer")
    stats = response.stats
    assert (stats.requests, stats.volunteers, stats.slots, stats.assigned_slots) == (2, 3, 4, 2)
    assert stats.fully_served_requests == 0
    assert stats.value_served == 200 and stats.total_cost == pytest.approx(5.875)
    assert stats.total_distance_km == 4.5
    assert (stats.candidate_pairs, stats.rounds, stats.total_ms) == (7, 2, 1.5)


def test_every_reason_has_a_detail(valid_request: match_pb2.MatchRequest) -> None:
    requests, pool, _ = match_request_to_domain(valid_request)
    for reason in Reason:
        result = dataclasses.replace(
            _result(requests),
            unserved_request=np.array([1]),
            unserved_slots=np.array([1]),
            unserved_reason=np.array([reason], dtype=np.int32),
        )
        (entry,) = match_result_to_proto(result, requests, pool).unassigned
        assert entry.reason == int(reason) and entry.detail.endswith(".")
