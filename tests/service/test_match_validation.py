"""Bad input over a real channel: INVALID_ARGUMENT naming the exact field, RESOURCE_EXHAUSTED
naming the limit, and never INTERNAL, whatever is sent."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import cast

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_status import rpc_status
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from matcher.config import Settings
from matcher.v1 import match_pb2, match_pb2_grpc

Mutation = Callable[[match_pb2.MatchRequest], object]
NAN, INF = math.nan, math.inf


def call_error(stub: match_pb2_grpc.MatchServiceStub, msg: match_pb2.MatchRequest) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as caught:
        stub.Match(msg, timeout=30)
    return caught.value


def violations(err: grpc.RpcError) -> dict[str, str]:
    """The BadRequest field violations of a failed call, field -> description."""
    status = rpc_status.from_call(cast(grpc.Call, err))
    assert status is not None
    found: dict[str, str] = {}
    for detail in status.details:
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad_request = error_details_pb2.BadRequest()
            detail.Unpack(bad_request)
            found.update({v.field: v.description for v in bad_request.field_violations})
    return found


def error_info(err: grpc.RpcError) -> error_details_pb2.ErrorInfo:
    status = rpc_status.from_call(cast(grpc.Call, err))
    assert status is not None
    (detail,) = status.details
    info = error_details_pb2.ErrorInfo()
    assert detail.Unpack(info)
    return info


def _req(m: match_pb2.MatchRequest, i: int = 0) -> match_pb2.ServiceRequest:
    return m.requests[i]


def _vol(m: match_pb2.MatchRequest, i: int = 0) -> match_pb2.Volunteer:
    return m.volunteers[i]


CASES: list[tuple[str, Mutation, str, str]] = [
    # (case, mutation of the valid request, field named, words in the description)
    ("empty request id", lambda m: setattr(_req(m, 1), "id", ""), "requests[1].id", "empty"),
    ("long request id", lambda m: setattr(_req(m), "id", "r" * 129), "requests[0].id", "128"),
    (
        "duplicate request id",
        lambda m: setattr(_req(m, 1), "id", "req-a"),
        "requests[1].id",
        "duplicate of requests[0].id",
    ),
    ("empty volunteer id", lambda m: setattr(_vol(m), "id", ""), "volunteers[0].id", "empty"),
    (
        "duplicate volunteer id",
        lambda m: setattr(_vol(m, 2), "id", "vol-1"),
        "volunteers[2].id",
        "duplicate of volunteers[0].id",
    ),
    (
        "lat too big",
        lambda m: setattr(_req(m).location, "lat", 91.0),
        "requests[0].location.lat",
        "[-90, 90]",
    ),
    (
        "lat NaN",
        lambda m: setattr(_req(m).location, "lat", NAN),
        "requests[0].location.lat",
        "finite",
    ),
    (
        "lon inf",
        lambda m: setattr(_req(m).location, "lon", INF),
        "requests[0].location.lon",
        "finite",
    ),
    (
        "lon too small",
        lambda m: setattr(_req(m).location, "lon", -180.5),
        "requests[0].location.lon",
        "[-180, 180]",
    ),
    (
        "home lat NaN",
        lambda m: setattr(_vol(m).home, "lat", NAN),
        "volunteers[0].home.lat",
        "finite",
    ),
    (
        "home lon too big",
        lambda m: setattr(_vol(m, 2).home, "lon", 200.0),
        "volunteers[2].home.lon",
        "[-180, 180]",
    ),
    (
        "remote lat bad",
        lambda m: setattr(_req(m, 1).location, "lat", -95.0),
        "requests[1].location.lat",
        "[-90, 90]",
    ),
    (
        "missing location",
        lambda m: _req(m).ClearField("location"),
        "requests[0].location",
        "required",
    ),
    ("missing home", lambda m: _vol(m, 1).ClearField("home"), "volunteers[1].home", "required"),
    ("missing window", lambda m: _req(m).ClearField("window"), "requests[0].window", "required"),
    (
        "missing window end",
        lambda m: _req(m).window.ClearField("end"),
        "requests[0].window.end",
        "required",
    ),
    (
        "empty window",
        lambda m: _req(m).window.end.CopyFrom(_req(m).window.start),
        "requests[0].window.end",
        "after start",
    ),
    (
        "backwards window",
        lambda m: setattr(_req(m, 1).window.end, "seconds", 1_000),
        "requests[1].window.end",
        "after start",
    ),
    (
        "timestamp after year 9999",
        lambda m: setattr(_req(m).window.start, "seconds", 253_402_300_800),
        "requests[0].window.start",
        "valid Timestamp",
    ),
    (
        "timestamp before year 1",
        lambda m: setattr(_vol(m).availability[1].start, "seconds", -62_135_596_801),
        "volunteers[0].availability[1].start",
        "valid Timestamp",
    ),
    (
        "negative nanos",
        lambda m: setattr(_req(m).window.end, "nanos", -1),
        "requests[0].window.end",
        "valid Timestamp",
    ),
    (
        "too many nanos",
        lambda m: setattr(_vol(m, 1).availability[0].end, "nanos", 1_000_000_000),
        "volunteers[1].availability[0].end",
        "valid Timestamp",
    ),
    (
        "backwards availability",
        lambda m: setattr(_vol(m, 2).availability[0].end, "seconds", 0),
        "volunteers[2].availability[0].end",
        "after start",
    ),
    (
        "availability without start",
        lambda m: _vol(m).availability[1].ClearField("start"),
        "volunteers[0].availability[1].start",
        "required",
    ),
    (
        "overlapping availability",
        lambda m: setattr(
            _vol(m).availability[1].start, "seconds", _vol(m).availability[0].end.seconds - 1
        ),
        "volunteers[0].availability[1]",
        "overlaps availability[0]",
    ),
    ("unknown urgency", lambda m: setattr(_req(m), "urgency", 7), "requests[0].urgency", "Urgency"),
    (
        "negative urgency",
        lambda m: setattr(_req(m, 1), "urgency", -1),
        "requests[1].urgency",
        "Urgency",
    ),
    (
        "negative max distance",
        lambda m: setattr(_req(m), "max_distance_km", -1.0),
        "requests[0].max_distance_km",
        ">= 0",
    ),
    (
        "NaN max distance",
        lambda m: setattr(_req(m), "max_distance_km", NAN),
        "requests[0].max_distance_km",
        "finite",
    ),
    (
        "inf max distance",
        lambda m: setattr(_req(m), "max_distance_km", INF),
        "requests[0].max_distance_km",
        "finite",
    ),
    (
        "inf travel",
        lambda m: setattr(_vol(m), "max_travel_km", INF),
        "volunteers[0].max_travel_km",
        "finite",
    ),
    (
        "negative travel",
        lambda m: setattr(_vol(m, 2), "max_travel_km", -3.0),
        "volunteers[2].max_travel_km",
        ">= 0",
    ),
    ("rating above 5", lambda m: setattr(_vol(m), "rating", 5.5), "volunteers[0].rating", "[1, 5]"),
    (
        "rating below 1 when rated",
        lambda m: setattr(_vol(m), "rating", 0.5),
        "volunteers[0].rating",
        "[1, 5]",
    ),
    ("rating NaN", lambda m: setattr(_vol(m, 1), "rating", NAN), "volunteers[1].rating", "[1, 5]"),
    (
        "negative rating",
        lambda m: setattr(_vol(m, 1), "rating", -1.0),
        "volunteers[1].rating",
        "[1, 5]",
    ),
    (
        "negative hours",
        lambda m: setattr(_vol(m), "recent_hours", -0.5),
        "volunteers[0].recent_hours",
        ">= 0",
    ),
    (
        "inf hours",
        lambda m: setattr(_vol(m), "recent_hours", INF),
        "volunteers[0].recent_hours",
        "finite",
    ),
    (
        "unknown required skill",
        lambda m: _req(m).required_skills.append("juggling"),
        "requests[0].required_skills[1]",
        "unknown skill code 'juggling'",
    ),
    (
        "unknown volunteer skill",
        lambda m: setattr(_vol(m).skills[1], "code", "Elderly_Care"),
        "volunteers[0].skills[1].code",
        "unknown skill code",
    ),
    (
        "duplicate volunteer skill",
        lambda m: _vol(m).skills.add(code="cleaning", level=2),
        "volunteers[0].skills[2].code",
        "duplicate of skills[1]",
    ),
    (
        "skill level 6",
        lambda m: setattr(_vol(m, 2).skills[0], "level", 6),
        "volunteers[2].skills[0].level",
        "[0, 5]",
    ),
    (
        "negative weight",
        lambda m: setattr(m.policy, "distance_weight", -1.0),
        "policy.distance_weight",
        "[0, 1e+06]",
    ),
    (
        "NaN weight",
        lambda m: setattr(m.policy, "skill_weight", NAN),
        "policy.skill_weight",
        "finite",
    ),
    (
        "inf weight",
        lambda m: setattr(m.policy, "rating_weight", INF),
        "policy.rating_weight",
        "finite",
    ),
    (
        "huge weight",
        lambda m: setattr(m.policy, "fairness_weight", 1e300),
        "policy.fairness_weight",
        "1e+06",
    ),
    (
        "zero radius",
        lambda m: setattr(m.policy, "default_radius_km", 0.0),
        "policy.default_radius_km",
        "> 0",
    ),
    (
        "radius over 500",
        lambda m: setattr(m.policy, "default_radius_km", 500.1),
        "policy.default_radius_km",
        "500",
    ),
    (
        "NaN radius",
        lambda m: setattr(m.policy, "default_radius_km", NAN),
        "policy.default_radius_km",
        "> 0",
    ),
    (
        "zero routine value",
        lambda m: setattr(m.policy, "routine_value", 0),
        "policy.routine_value",
        "[1, 1000000]",
    ),
    (
        "huge urgent value",
        lambda m: setattr(m.policy, "urgent_value", 1_000_001),
        "policy.urgent_value",
        "[1, 1000000]",
    ),
    (
        "zero difficult value",
        lambda m: setattr(m.policy, "difficult_value", 0),
        "policy.difficult_value",
        "[1, 1000000]",
    ),
]


@pytest.mark.parametrize(
    ("mutate", "field", "words"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_invalid_field_is_named(
    match_stub: match_pb2_grpc.MatchServiceStub,
    valid_request: match_pb2.MatchRequest,
    mutate: Mutation,
    field: str,
    words: str,
) -> None:
    mutate(valid_request)
    err = call_error(match_stub, valid_request)
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    found = violations(err)
    assert field in found, found
    assert words in found[field]
    assert len(found) == 1, found


def test_the_valid_request_is_valid(
    match_stub: match_pb2_grpc.MatchServiceStub, valid_request: match_pb2.MatchRequest
) -> None:
    response = match_stub.Match(valid_request, timeout=30)
    assert response.stats.requests == 2


def test_every_violation_is_reported_at_once(
    match_stub: match_pb2_grpc.MatchServiceStub, valid_request: match_pb2.MatchRequest
) -> None:
    for case in ("lat too big", "missing home", "unknown urgency", "zero radius"):
        mutate = next(c[1] for c in CASES if c[0] == case)
        mutate(valid_request)
    found = violations(call_error(match_stub, valid_request))
    assert set(found) == {
        "requests[0].location.lat",
        "volunteers[1].home",
        "requests[0].urgency",
        "policy.default_radius_km",
    }


def _limit_cases(limits: Settings) -> list[tuple[str, match_pb2.MatchRequest, int]]:
    many_requests = [match_pb2.ServiceRequest(id=f"r{i}") for i in range(limits.max_requests + 1)]
    many_volunteers = [match_pb2.Volunteer(id=f"v{i}") for i in range(limits.max_volunteers + 1)]
    big = [match_pb2.ServiceRequest(id="big", volunteers_needed=limits.max_slots + 1)]
    busy = match_pb2.Volunteer(
        id="busy",
        availability=[
            match_pb2.TimeWindow(start={"seconds": 10 * k}, end={"seconds": 10 * k + 5})
            for k in range(limits.max_windows_per_volunteer + 1)
        ],
    )
    return [
        (
            "MATCHER_MAX_REQUESTS",
            match_pb2.MatchRequest(requests=many_requests),
            limits.max_requests,
        ),
        (
            "MATCHER_MAX_VOLUNTEERS",
            match_pb2.MatchRequest(volunteers=many_volunteers),
            limits.max_volunteers,
        ),
        ("MATCHER_MAX_SLOTS", match_pb2.MatchRequest(requests=big), limits.max_slots),
        (
            "MATCHER_MAX_WINDOWS_PER_VOLUNTEER",
            match_pb2.MatchRequest(volunteers=[busy]),
            limits.max_windows_per_volunteer,
        ),
    ]


@pytest.mark.parametrize("which", [0, 1, 2, 3], ids=["requests", "volunteers", "slots", "windows"])
def test_batch_limits_are_resource_exhausted(
    match_stub: match_pb2_grpc.MatchServiceStub, test_settings: Settings, which: int
) -> None:
    limit, msg, allowed = _limit_cases(test_settings)[which]
    err = call_error(match_stub, msg)  # the items are invalid too: limits are checked first
    assert err.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert limit in (err.details() or "")
    info = error_info(err)
    assert info.reason == "LIMIT_EXCEEDED"
    assert info.metadata["limit"] == limit
    assert info.metadata["allowed"] == str(allowed)
    assert int(info.metadata["actual"]) > allowed


# --- fuzz: random, mostly malformed requests never reach INTERNAL -------------------------------

_floats = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=-200, max_value=200),
    st.sampled_from([0.0, 1.0, 5.0, 36.27, 100.62, -0.0]),
)
_seconds = st.one_of(
    st.integers(1_655_280_000, 1_655_380_000),
    st.integers(-(2**63), 2**63 - 1),
    st.sampled_from([0, 253_402_300_799, 253_402_300_800, -62_135_596_800]),
)
_instant = st.builds(
    lambda s, n: {"seconds": s, "nanos": n},
    _seconds,
    st.one_of(st.just(0), st.integers(-(2**31), 2**31 - 1)),
)
_window = st.builds(match_pb2.TimeWindow, start=_instant, end=_instant)
_ids = st.one_of(st.sampled_from(["a", "b", "c", ""]), st.text(max_size=140))
_codes = st.one_of(
    st.sampled_from(["elderly_care", "tutoring", "live_stream"]), st.text(max_size=8)
)
_point = st.builds(match_pb2.GeoPoint, lat=_floats, lon=_floats)
_u32 = st.one_of(st.integers(0, 7), st.integers(0, 2**32 - 1))

_requests = st.builds(
    match_pb2.ServiceRequest,
    id=_ids,
    required_skills=st.lists(_codes, max_size=3),
    location=st.one_of(st.none(), _point),
    window=st.one_of(st.none(), _window),
    urgency=st.integers(-(2**31), 2**31 - 1),
    volunteers_needed=_u32,
    remote=st.booleans(),
    max_distance_km=_floats,
)
_volunteers = st.builds(
    match_pb2.Volunteer,
    id=_ids,
    skills=st.lists(st.builds(match_pb2.Skill, code=_codes, level=_u32), max_size=3),
    home=st.one_of(st.none(), _point),
    availability=st.lists(_window, max_size=6),
    max_travel_km=_floats,
    rating=_floats,
    rating_count=_u32,
    recent_hours=_floats,
)
_policies = st.one_of(
    st.none(),
    st.builds(
        match_pb2.ScoringPolicy,
        distance_weight=_floats,
        skill_weight=st.one_of(st.none(), _floats),
        default_radius_km=st.one_of(st.none(), _floats),
        routine_value=st.one_of(st.none(), _u32),
    ),
)
_match_requests = st.builds(
    match_pb2.MatchRequest,
    requests=st.lists(_requests, max_size=5),
    volunteers=st.lists(_volunteers, max_size=5),
    policy=_policies,
)


@hypothesis_settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(msg=_match_requests)
def test_random_requests_never_fail_internally(
    match_stub: match_pb2_grpc.MatchServiceStub, channel: grpc.Channel, msg: match_pb2.MatchRequest
) -> None:
    try:
        match_stub.Match(msg, timeout=30)
    except grpc.RpcError as err:
        assert err.code() in (
            grpc.StatusCode.INVALID_ARGUMENT,
            grpc.StatusCode.RESOURCE_EXHAUSTED,
        ), err.details()
    health = health_pb2_grpc.HealthStub(channel)
    reply = health.Check(health_pb2.HealthCheckRequest(), timeout=10)
    assert reply.status == health_pb2.HealthCheckResponse.SERVING


# --- fuzz: random valid requests always succeed --------------------------------------------------

_DAY = 1_655_251_200  # 2022-06-15 00:00 UTC
_SKILLS = ["elderly_care", "tutoring", "live_stream", "cleaning"]


@st.composite
def _valid_match_requests(draw: st.DrawFn) -> match_pb2.MatchRequest:
    """Valid but otherwise arbitrary batches: extreme weights, values, radii and ratings."""
    lat = st.floats(36.0, 36.6)
    lon = st.floats(100.3, 100.9)
    msg = match_pb2.MatchRequest()
    for i in range(draw(st.integers(1, 6))):  # an empty batch is INVALID_ARGUMENT
        start = _DAY + draw(st.integers(0, 20)) * 3600
        msg.requests.add(
            id=f"r{i}",
            required_skills=draw(st.lists(st.sampled_from(_SKILLS), max_size=2, unique=True)),
            location=match_pb2.GeoPoint(lat=draw(lat), lon=draw(lon)),
            window={"start": {"seconds": start}, "end": {"seconds": start + 3600}},
            urgency=draw(st.integers(0, 3)),
            volunteers_needed=draw(st.integers(0, 3)),
            remote=draw(st.booleans()),
            max_distance_km=draw(st.sampled_from([0.0, 0.001, 5.0, 1e300])),
        )
    for i in range(draw(st.integers(0, 8))):
        v = msg.volunteers.add(id=f"v{i}", home=match_pb2.GeoPoint(lat=draw(lat), lon=draw(lon)))
        for code in draw(st.lists(st.sampled_from(_SKILLS), max_size=3, unique=True)):
            v.skills.add(code=code, level=draw(st.integers(0, 5)))
        hour = 0
        for _ in range(draw(st.integers(0, 4))):
            hour += draw(st.integers(0, 4))
            length = draw(st.integers(1, 8))
            v.availability.add(
                start={"seconds": _DAY + hour * 3600},
                end={"seconds": _DAY + (hour + length) * 3600},
            )
            hour += length
        count = draw(st.integers(0, 3))
        v.rating_count = count
        v.rating = draw(st.floats(1, 5)) if count else 0.0
        v.max_travel_km = draw(st.sampled_from([0.0, 0.5, 10.0, 1e300]))
        v.recent_hours = draw(st.sampled_from([0.0, 3.5, 1e300]))
    if draw(st.booleans()):
        msg.policy.distance_weight = draw(st.sampled_from([0.0, 1.0, 1e6]))
        msg.policy.fairness_weight = draw(st.sampled_from([0.0, 1e6]))
        msg.policy.default_radius_km = draw(st.sampled_from([1e-9, 15.0, 500.0]))
        msg.policy.urgent_value = draw(st.sampled_from([1, 1_000_000]))
        msg.policy.routine_value = draw(st.sampled_from([1, 1_000_000]))
    return msg


@hypothesis_settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(msg=_valid_match_requests())
def test_random_valid_requests_succeed(
    match_stub: match_pb2_grpc.MatchServiceStub, msg: match_pb2.MatchRequest
) -> None:
    response = match_stub.Match(msg, timeout=30)
    assert response.stats.requests == len(msg.requests)
    ids = {r.id for r in msg.requests}
    assert all(a.request_id in ids for a in response.assignments)
    assert response.stats.assigned_slots == len(response.assignments)
