"""matcher.client: every typed method against a real server, the typed error, and the retry
policy against a server that answers UNAVAILABLE a chosen number of times."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator
from concurrent import futures
from dataclasses import dataclass, field
from typing import Any

import grpc
import pytest

from matcher.client import (
    KEEPALIVE_OPTIONS,
    MatcherCallError,
    MatcherClient,
    VolunteerFilter,
    backoff_delays,
)
from matcher.v1 import match_pb2, volunteers_pb2
from tests.support.net import free_port
from tests.support.service import TEST_SETTINGS, make_valid_request, serving
from tests.support.times import HOUR, T0, window


@pytest.fixture(scope="module")
def client() -> Iterator[MatcherClient]:
    """A client of a server of its own (a fresh in-memory registry)."""
    with serving(TEST_SETTINGS) as app, MatcherClient(f"127.0.0.1:{app.port}") as matcher:
        matcher.wait_until_ready()
        yield matcher


def test_match_inline(client: MatcherClient) -> None:
    request = make_valid_request()
    reply = client.match(request.requests, request.volunteers, policy=request.policy)
    assert [(a.request_id, a.volunteer_id) for a in reply.assignments] == [
        ("req-a", "vol-1"),
        ("req-b", "vol-2"),
    ]


def test_registry_methods_and_pool_match(client: MatcherClient) -> None:
    volunteers = make_valid_request().volunteers
    written = client.upsert_volunteers(
        [
            volunteers[0],
            volunteers_pb2.VolunteerUpsert(volunteer=volunteers[1], branch_id="b1"),
            volunteers_pb2.VolunteerUpsert(volunteer=volunteers[2], branch_id="b1", active=False),
        ]
    )
    assert [v.volunteer.id for v in written.volunteers] == ["vol-1", "vol-2", "vol-3"]
    assert client.get_volunteer("vol-2").branch_id == "b1"

    page = client.list_volunteers(page_size=1)
    assert (len(page.volunteers), page.total_size) == (1, 2)  # the inactive one is left out
    every = [v.volunteer.id for v in client.iter_volunteers(page_size=1)]
    assert every == ["vol-1", "vol-2"]
    branch = VolunteerFilter(branch_ids=["b1"], include_inactive=True)
    assert [v.volunteer.id for v in client.iter_volunteers(branch)] == ["vol-2", "vol-3"]

    updated = client.replace_availability("vol-2", [window(T0, T0 + HOUR)])
    assert len(updated.volunteer.availability) == 1
    assert client.get_registry_status().volunteers == 3

    request = make_valid_request()
    pooled = client.match(request.requests, pool=match_pb2.PoolSelector())
    assert pooled.stats.registry_version == client.get_registry_status().registry_version
    assert pooled.stats.volunteers == 2

    assert client.delete_volunteer("vol-3").volunteer.volunteer.id == "vol-3"
    with pytest.raises(MatcherCallError) as missing:
        client.get_volunteer("vol-3")
    assert missing.value.code == grpc.StatusCode.NOT_FOUND


def test_server_status(client: MatcherClient) -> None:
    status = client.get_server_status()
    assert status.store == "memory" and status.uptime_seconds >= 0


def test_invalid_input_raises_with_field_violations(client: MatcherClient) -> None:
    request = make_valid_request()
    request.requests[0].location.lat = 123.0
    with pytest.raises(MatcherCallError) as caught:
        client.match(request.requests, request.volunteers)
    error = caught.value
    assert error.code == grpc.StatusCode.INVALID_ARGUMENT
    assert [v.field for v in error.field_violations] == ["requests[0].location.lat"]
    assert str(error).startswith("INVALID_ARGUMENT: ")


def test_over_a_limit_raises_with_the_error_info(client: MatcherClient) -> None:
    request = make_valid_request()
    requests = [
        match_pb2.ServiceRequest(id=f"r{i}", remote=True, window=request.requests[1].window)
        for i in range(TEST_SETTINGS.max_requests + 1)
    ]
    with pytest.raises(MatcherCallError) as caught:
        client.match(requests, request.volunteers)
    assert caught.value.code == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert caught.value.reason == "LIMIT_EXCEEDED"
    assert caught.value.error_metadata["limit"] == "MATCHER_MAX_REQUESTS"


@dataclass
class FlakyServer:
    """Answers UNAVAILABLE (or ``code``) to the first ``failures`` calls of each method."""

    failures: int
    code: grpc.StatusCode = grpc.StatusCode.UNAVAILABLE
    attempts: dict[str, int] = field(default_factory=dict)
    metadata: list[dict[str, str]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _handler(self, name: str, reply: Any) -> Callable[[Any, grpc.ServicerContext], Any]:
        def handle(request: Any, context: grpc.ServicerContext) -> Any:
            with self._lock:
                self.attempts[name] = self.attempts.get(name, 0) + 1
                self.metadata.append(dict(context.invocation_metadata()))
                failing = self.attempts[name] <= self.failures
            if failing:
                context.abort(self.code, "try again")
            return reply

        return handle

    def start(self) -> tuple[grpc.Server, str]:
        def unary(name: str, request_type: Any, reply: Any) -> grpc.RpcMethodHandler:
            return grpc.unary_unary_rpc_method_handler(
                self._handler(name, reply),
                request_deserializer=request_type.FromString,
                response_serializer=type(reply).SerializeToString,
            )

        match = grpc.method_handlers_generic_handler(
            "matcher.v1.MatchService",
            {"Match": unary("Match", match_pb2.MatchRequest, match_pb2.MatchResponse())},
        )
        registry = grpc.method_handlers_generic_handler(
            "matcher.v1.VolunteerService",
            {
                "UpsertVolunteers": unary(
                    "UpsertVolunteers",
                    volunteers_pb2.UpsertVolunteersRequest,
                    volunteers_pb2.UpsertVolunteersResponse(),
                ),
                "DeleteVolunteer": unary(
                    "DeleteVolunteer",
                    volunteers_pb2.DeleteVolunteerRequest,
                    volunteers_pb2.DeleteVolunteerResponse(),
                ),
            },
        )
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        server.add_generic_rpc_handlers((match, registry))
        port = server.add_insecure_port("127.0.0.1:0")
        server.start()
        return server, f"127.0.0.1:{port}"


@pytest.fixture
def flaky(request: pytest.FixtureRequest) -> Iterator[tuple[FlakyServer, str]]:
    failures, code = getattr(request, "param", (2, grpc.StatusCode.UNAVAILABLE))
    state = FlakyServer(failures, code)
    server, target = state.start()
    try:
        yield state, target
    finally:
        server.stop(None).wait()


def test_unavailable_idempotent_calls_are_retried(flaky: tuple[FlakyServer, str]) -> None:
    state, target = flaky
    with MatcherClient(target, metadata=[("authorization", "Bearer t")]) as client:
        client.match([])
        client.upsert_volunteers([match_pb2.Volunteer(id="v")])
    assert state.attempts == {"Match": 3, "UpsertVolunteers": 3}
    assert all(m.get("authorization") == "Bearer t" for m in state.metadata)


def test_deletes_and_conditional_writes_are_not_retried(flaky: tuple[FlakyServer, str]) -> None:
    state, target = flaky
    conditional = volunteers_pb2.VolunteerUpsert(
        volunteer=match_pb2.Volunteer(id="v"), expected_version=1
    )
    with MatcherClient(target) as client:
        for call in (
            lambda: client.delete_volunteer("v"),
            lambda: client.upsert_volunteers([conditional]),
        ):
            with pytest.raises(MatcherCallError) as caught:
                call()
            assert caught.value.code == grpc.StatusCode.UNAVAILABLE
    assert state.attempts == {"DeleteVolunteer": 1, "UpsertVolunteers": 1}


@pytest.mark.parametrize("flaky", [(1, grpc.StatusCode.INTERNAL)], indirect=True)
def test_other_codes_are_not_retried(flaky: tuple[FlakyServer, str]) -> None:
    state, target = flaky
    with MatcherClient(target) as client, pytest.raises(MatcherCallError) as caught:
        client.match([])
    assert caught.value.code == grpc.StatusCode.INTERNAL
    assert state.attempts == {"Match": 1}


@pytest.mark.parametrize("flaky", [(100, grpc.StatusCode.UNAVAILABLE)], indirect=True)
def test_retries_stop_after_the_budget(flaky: tuple[FlakyServer, str]) -> None:
    state, target = flaky
    with MatcherClient(target, retries=2) as client, pytest.raises(MatcherCallError):
        client.match([])
    assert state.attempts == {"Match": 3}


@pytest.mark.parametrize("flaky", [(100, grpc.StatusCode.UNAVAILABLE)], indirect=True)
def test_retries_stay_within_the_deadline(flaky: tuple[FlakyServer, str]) -> None:
    state, target = flaky
    started = time.monotonic()
    client = MatcherClient(target, timeout=0.25, retries=10)
    with client, pytest.raises(MatcherCallError) as caught:
        client.match([])
    assert caught.value.code == grpc.StatusCode.UNAVAILABLE
    assert time.monotonic() - started < 1.0
    assert state.attempts["Match"] < 5


def test_an_unreachable_server_raises_unavailable() -> None:
    with MatcherClient(f"127.0.0.1:{free_port()}", timeout=2, retries=1) as client:
        with pytest.raises(MatcherCallError) as caught:
            client.get_registry_status()
        assert caught.value.code == grpc.StatusCode.UNAVAILABLE
        with pytest.raises(MatcherCallError, match="not reachable"):
            client.wait_until_ready(timeout=0.2)


def test_backoff_doubles_with_jitter_up_to_the_cap() -> None:
    delays = backoff_delays(7, random.Random(1))
    for delay, base in zip(delays, [0.1, 0.2, 0.4, 0.8, 1.6, 2.0, 2.0], strict=True):
        assert base * 0.8 <= delay <= base * 1.2


def test_keepalive_respects_the_servers_default_ping_policy() -> None:
    options = dict(KEEPALIVE_OPTIONS)
    assert options["grpc.keepalive_time_ms"] >= 300_000  # gRPC servers' default minimum
    assert options["grpc.keepalive_permit_without_calls"] == 0


@pytest.mark.parametrize("kwargs", [{"timeout": 0}, {"retries": -1}])
def test_bad_arguments_are_rejected(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="timeout"):
        MatcherClient("127.0.0.1:1", **kwargs)
