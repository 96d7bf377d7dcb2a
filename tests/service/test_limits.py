"""Every configured limit over a real channel: RESOURCE_EXHAUSTED, the message and the
google.rpc.ErrorInfo (LIMIT_EXCEEDED) naming the MATCHER_* variable, and nothing written.
Page sizes are not limits: the protos promise that more than 1000 is served as 1000."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import grpc
import pytest

from matcher.client import MatcherCallError
from matcher.config import Settings
from matcher.service.interceptors.message_size import grpc_receive_limit
from matcher.service.server import MatcherServer
from matcher.v1 import (
    match_pb2,
    match_pb2_grpc,
    orders_pb2,
    orders_pb2_grpc,
    timebank_pb2,
    timebank_pb2_grpc,
    volunteers_pb2,
    volunteers_pb2_grpc,
)
from tests.support.service import channel_to, serving
from tests.support.times import window

LIMITS = Settings(
    port=0,
    workers=2,
    metrics_port=-1,
    max_requests=20,
    max_volunteers=10,
    max_slots=30,
    max_windows_per_volunteer=3,
    max_message_bytes=65_536,
    dispatch_window_seconds=0,
)
KNOWN_ID = "vol-known"
KNOWN_WINDOWS = [window(1_000, 2_000)]


@pytest.fixture(scope="module")
def app() -> Iterator[MatcherServer]:
    with serving(LIMITS) as server:
        yield server


@pytest.fixture(scope="module")
def channel(app: MatcherServer) -> Iterator[grpc.Channel]:
    options = [("grpc.max_send_message_length", 4 * LIMITS.max_message_bytes)]
    with channel_to(app, options=options) as chan:
        registry = volunteers_pb2_grpc.VolunteerServiceStub(chan)  # type: ignore[no-untyped-call]
        known = _volunteer(KNOWN_ID, windows=1)
        registry.UpsertVolunteers(
            volunteers_pb2.UpsertVolunteersRequest(
                volunteers=[volunteers_pb2.VolunteerUpsert(volunteer=known)]
            ),
            timeout=10,
        )
        yield chan


def _volunteer(ident: str, windows: int) -> match_pb2.Volunteer:
    return match_pb2.Volunteer(
        id=ident,
        home=match_pb2.GeoPoint(lat=36.27, lon=100.62),
        availability=[window(1_000 + 100 * k, 1_050 + 100 * k) for k in range(windows)],
    )


def _upsert(*volunteers: match_pb2.Volunteer) -> volunteers_pb2.UpsertVolunteersRequest:
    return volunteers_pb2.UpsertVolunteersRequest(
        volunteers=[volunteers_pb2.VolunteerUpsert(volunteer=v) for v in volunteers]
    )


def _wide_upsert(prefix: str, teams: int) -> volunteers_pb2.UpsertVolunteersRequest:
    """Ten volunteers with ``teams`` 64-character team ids each (about 660 bytes a team)."""
    msg = _upsert(*(_volunteer(f"{prefix}{i}", 3) for i in range(10)))
    for entry in msg.volunteers:
        entry.team_ids.extend(f"{k:03d}".rjust(64, "t") for k in range(teams))
    return msg


def _request(ident: str, needed: int = 1) -> match_pb2.ServiceRequest:
    return match_pb2.ServiceRequest(id=ident, volunteers_needed=needed)


def _sized_match(size: int) -> match_pb2.MatchRequest:
    """A MatchRequest of exactly ``size`` bytes (one request with a long id)."""
    msg = match_pb2.MatchRequest(requests=[_request("")])
    msg.requests[0].id = "x" * (size - msg.ByteSize())
    while msg.ByteSize() > size:  # the length prefixes grew
        msg.requests[0].id = msg.requests[0].id[:-1]
    assert msg.ByteSize() == size
    return msg


Send = Callable[[grpc.Channel], Any]


def _match(msg: match_pb2.MatchRequest) -> Send:
    return lambda chan: match_pb2_grpc.MatchServiceStub(chan).Match(msg, timeout=10)  # type: ignore[no-untyped-call]


def _registry(method: str, msg: Any) -> Send:
    def send(chan: grpc.Channel) -> Any:
        stub = volunteers_pb2_grpc.VolunteerServiceStub(chan)  # type: ignore[no-untyped-call]
        return getattr(stub, method)(msg, timeout=10)

    return send


many = LIMITS.max_windows_per_volunteer + 1
#: (case, send, the variable named, allowed, actual)
CASES: list[tuple[str, Send, str, int, int]] = [
    (
        "Match requests",
        _match(match_pb2.MatchRequest(requests=[_request(f"r{i}") for i in range(21)])),
        "MATCHER_MAX_REQUESTS",
        20,
        21,
    ),
    (
        "Match inline volunteers",
        _match(match_pb2.MatchRequest(volunteers=[_volunteer(f"v{i}", 1) for i in range(11)])),
        "MATCHER_MAX_VOLUNTEERS",
        10,
        11,
    ),
    (
        "Match slots",
        _match(match_pb2.MatchRequest(requests=[_request("a", 20), _request("b", 11)])),
        "MATCHER_MAX_SLOTS",
        30,
        31,
    ),
    (
        "Match windows of a volunteer",
        _match(match_pb2.MatchRequest(volunteers=[_volunteer("v", many)])),
        "MATCHER_MAX_WINDOWS_PER_VOLUNTEER",
        3,
        4,
    ),
    (
        "UpsertVolunteers batch",
        _registry("UpsertVolunteers", _upsert(*(_volunteer(f"new{i}", 1) for i in range(11)))),
        "MATCHER_MAX_VOLUNTEERS",
        10,
        11,
    ),
    (
        "UpsertVolunteers windows of a volunteer",
        _registry("UpsertVolunteers", _upsert(_volunteer("new", 1), _volunteer("busy", many))),
        "MATCHER_MAX_WINDOWS_PER_VOLUNTEER",
        3,
        4,
    ),
    (
        "ReplaceAvailability windows",
        _registry(
            "ReplaceAvailability",
            volunteers_pb2.ReplaceAvailabilityRequest(
                volunteer_id=KNOWN_ID, availability=_volunteer("", many).availability
            ),
        ),
        "MATCHER_MAX_WINDOWS_PER_VOLUNTEER",
        3,
        4,
    ),
    (
        "request bytes",
        _match(_sized_match(LIMITS.max_message_bytes + 1)),
        "MATCHER_MAX_MESSAGE_BYTES",
        65_536,
        65_537,
    ),
    (
        "request bytes, upsert",
        _registry("UpsertVolunteers", _wide_upsert("heavy", 100)),
        "MATCHER_MAX_MESSAGE_BYTES",
        65_536,
        _wide_upsert("heavy", 100).ByteSize(),
    ),
]


def _registry_state(chan: grpc.Channel) -> tuple[int, int, list[Any]]:
    stub = volunteers_pb2_grpc.VolunteerServiceStub(chan)  # type: ignore[no-untyped-call]
    status = stub.GetRegistryStatus(volunteers_pb2.GetRegistryStatusRequest(), timeout=10)
    page = stub.ListVolunteers(
        volunteers_pb2.ListVolunteersRequest(include_inactive=True), timeout=10
    )
    known = stub.GetVolunteer(volunteers_pb2.GetVolunteerRequest(volunteer_id=KNOWN_ID))
    return status.registry_version, page.total_size, list(known.volunteer.volunteer.availability)


@pytest.mark.parametrize(
    ("send", "limit", "allowed", "actual"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_limit_is_resource_exhausted_naming_the_variable(
    channel: grpc.Channel, send: Send, limit: str, allowed: int, actual: int
) -> None:
    before = _registry_state(channel)
    with pytest.raises(grpc.RpcError) as caught:
        send(channel)
    error = MatcherCallError.from_rpc_error(caught.value)
    assert error.code == grpc.StatusCode.RESOURCE_EXHAUSTED, error.message
    assert f"{limit}={allowed}" in error.message
    assert error.reason == "LIMIT_EXCEEDED"
    assert error.error_metadata["limit"] == limit
    assert error.error_metadata["allowed"] == str(allowed)
    assert error.error_metadata["actual"] == str(actual)
    assert _registry_state(channel) == before  # nothing written


def test_a_request_at_the_byte_limit_is_read(channel: grpc.Channel) -> None:
    """Exactly MATCHER_MAX_MESSAGE_BYTES is allowed: the request is parsed (its 65 kB id is
    then an invalid field, not a size problem)."""
    with pytest.raises(grpc.RpcError) as caught:
        _match(_sized_match(LIMITS.max_message_bytes))(channel)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_a_request_beyond_the_headroom_gets_grpcs_own_answer(channel: grpc.Channel) -> None:
    """Past the headroom gRPC refuses the message before the service sees it: still
    RESOURCE_EXHAUSTED, with gRPC's message giving the sizes."""
    ceiling = grpc_receive_limit(LIMITS.max_message_bytes)
    with pytest.raises(grpc.RpcError) as caught:
        _match(_sized_match(ceiling + 1))(channel)
    assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert f"({ceiling + 1} vs. {ceiling})" in (caught.value.details() or "")


def test_a_response_over_the_byte_limit_is_resource_exhausted(channel: grpc.Channel) -> None:
    """gRPC's send limit is the configured one; a smaller page_size is the way out."""
    stub = volunteers_pb2_grpc.VolunteerServiceStub(channel)  # type: ignore[no-untyped-call]
    written = [_wide_upsert(f"wide{batch}-", 40) for batch in range(3)]  # ~27 kB each
    for upserts in written:
        stub.UpsertVolunteers(upserts, timeout=10)
    try:
        with pytest.raises(grpc.RpcError) as caught:
            stub.ListVolunteers(volunteers_pb2.ListVolunteersRequest(page_size=1000), timeout=10)
        assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert f"vs. {LIMITS.max_message_bytes})" in (caught.value.details() or "")
        page = stub.ListVolunteers(volunteers_pb2.ListVolunteersRequest(page_size=5), timeout=10)
        assert len(page.volunteers) == 5
    finally:
        for upserts in written:
            for entry in upserts.volunteers:
                request = volunteers_pb2.DeleteVolunteerRequest(volunteer_id=entry.volunteer.id)
                stub.DeleteVolunteer(request, timeout=10)


@pytest.mark.parametrize("size", [1001, 50_000, 2**32 - 1])
def test_page_sizes_over_the_maximum_are_served_as_the_maximum(
    channel: grpc.Channel, size: int
) -> None:
    registry = volunteers_pb2_grpc.VolunteerServiceStub(channel)  # type: ignore[no-untyped-call]
    page = registry.ListVolunteers(volunteers_pb2.ListVolunteersRequest(page_size=size))
    assert page.total_size >= 1
    orders = orders_pb2_grpc.OrderServiceStub(channel)  # type: ignore[no-untyped-call]
    assert orders.ListOrders(orders_pb2.ListOrdersRequest(page_size=size)).total_size == 0
    bank = timebank_pb2_grpc.TimeBankServiceStub(channel)  # type: ignore[no-untyped-call]
    statement = bank.GetStatement(
        timebank_pb2.GetStatementRequest(volunteer_id=KNOWN_ID, page_size=size)
    )
    assert statement.total_size == 0
