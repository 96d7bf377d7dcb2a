"""Builders shared by the registry tests: readable volunteers and requests around Qabqa, a
real server over one store (memory or a private Redis key prefix), error readers, and the
helpers that find free ports and wait for conditions."""

from __future__ import annotations

import os
import socket
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import cast

import grpc
import pytest
import redis
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_status import rpc_status

from matcher.config import Settings
from matcher.service.server import MatcherServer, create_server
from matcher.v1 import match_pb2, match_pb2_grpc, volunteers_pb2, volunteers_pb2_grpc

#: 2022-06-15 08:00 UTC, the morning of the test day.
T0 = 1_655_280_000
HOUR = 3600
QABQA = (36.27, 100.62)
#: The database the registry tests use on the shared Redis (contract tests use 15).
REDIS_DB_URL = "redis://127.0.0.1:6379/14"
VOLUNTEER_SERVICE = "matcher.v1.VolunteerService"


def window(start: int, end: int) -> match_pb2.TimeWindow:
    return match_pb2.TimeWindow(start={"seconds": start}, end={"seconds": end})


def upsert(
    vid: str,
    *,
    at: tuple[float, float] = QABQA,
    skills: Sequence[str] = ("elderly_care",),
    hours: tuple[int, int] = (0, 8),
    branch: str = "",
    teams: Sequence[str] = (),
    active: bool | None = None,
    expected_version: int | None = None,
    recent_hours: float = 0.0,
) -> volunteers_pb2.VolunteerUpsert:
    """One volunteer to write: home ``at``, free from T0 + hours[0] h to T0 + hours[1] h."""
    entry = volunteers_pb2.VolunteerUpsert(
        volunteer=match_pb2.Volunteer(
            id=vid,
            skills=[match_pb2.Skill(code=code, level=4) for code in skills],
            home=match_pb2.GeoPoint(lat=at[0], lon=at[1]),
            availability=[window(T0 + hours[0] * HOUR, T0 + hours[1] * HOUR)],
            recent_hours=recent_hours,
        ),
        branch_id=branch,
        team_ids=teams,
    )
    if active is not None:
        entry.active = active
    if expected_version is not None:
        entry.expected_version = expected_version
    return entry


def request(
    rid: str, *, at: tuple[float, float] = QABQA, skills: Sequence[str] = ("elderly_care",)
) -> match_pb2.ServiceRequest:
    """A routine request at ``at`` from T0 + 1 h to T0 + 2 h."""
    return match_pb2.ServiceRequest(
        id=rid,
        required_skills=skills,
        location=match_pb2.GeoPoint(lat=at[0], lon=at[1]),
        window=window(T0 + HOUR, T0 + 2 * HOUR),
    )


def north_km(km: float) -> tuple[float, float]:
    """A point ``km`` north of Qabqa."""
    return (QABQA[0] + km / 111.19, QABQA[1])


def violations(err: grpc.RpcError) -> dict[str, str]:
    """The BadRequest field violations of a failed call, field -> description."""
    status = rpc_status.from_call(cast(grpc.Call, err))
    assert status is not None
    found: dict[str, str] = {}
    for detail in status.details:
        bad_request = error_details_pb2.BadRequest()
        if detail.Unpack(bad_request):
            found.update({v.field: v.description for v in bad_request.field_violations})
    return found


def rpc_error(call: Callable[[], object]) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as caught:
        call()
    return caught.value


@dataclass
class Registry:
    """A running server and stubs to it (``app`` is None for a server in another process)."""

    app: MatcherServer | None
    channel: grpc.Channel
    volunteers: volunteers_pb2_grpc.VolunteerServiceStub
    match: match_pb2_grpc.MatchServiceStub
    health: health_pb2_grpc.HealthStub

    def upsert(self, *entries: volunteers_pb2.VolunteerUpsert) -> list[int]:
        """Write ``entries``; returns their stored versions."""
        reply = self.volunteers.UpsertVolunteers(
            volunteers_pb2.UpsertVolunteersRequest(volunteers=entries), timeout=10
        )
        return [v.version for v in reply.volunteers]

    def assigned(self, *requests: match_pb2.ServiceRequest, **pool: object) -> dict[str, str]:
        """Match ``requests`` against the pool (selector fields as keywords): request -> vol."""
        reply = self.match.Match(
            match_pb2.MatchRequest(requests=requests, pool=match_pb2.PoolSelector(**pool)),
            timeout=30,
        )
        return {a.request_id: a.volunteer_id for a in reply.assignments}

    def health_of(self, service: str = VOLUNTEER_SERVICE) -> int:
        reply = self.health.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
        return int(reply.status)


def registry_over(channel: grpc.Channel, app: MatcherServer | None = None) -> Registry:
    """Stubs of every service over ``channel``."""
    return Registry(
        app,
        channel,
        volunteers_pb2_grpc.VolunteerServiceStub(channel),  # type: ignore[no-untyped-call]
        match_pb2_grpc.MatchServiceStub(channel),  # type: ignore[no-untyped-call]
        health_pb2_grpc.HealthStub(channel),
    )


@contextmanager
def running_registry(settings: Settings) -> Iterator[Registry]:
    """A started server for ``settings`` and a channel to it; stopped afterwards."""
    app = create_server(settings)
    app.start()
    try:
        with grpc.insecure_channel(f"127.0.0.1:{app.port}") as channel:
            yield registry_over(channel, app)
    finally:
        app.stop()


def shared_redis_or_skip() -> redis.Redis:
    """A client of the registry tests' database; skips (fails under CI=true) without Redis."""
    return redis_or_skip(REDIS_DB_URL)


def redis_or_skip(url: str, timeout: float = 2.0) -> redis.Redis:
    """A client of the Redis ``url`` names, once it answers; the test skips (fails under
    CI=true, where Redis must run) when it does not."""
    client = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=2)
    try:
        client.ping()
    except (redis.ConnectionError, redis.TimeoutError) as exc:
        client.close()
        reason = f"Redis at 127.0.0.1:6379 is unreachable ({exc}); start redis-server"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return client


@contextmanager
def private_prefix(client: redis.Redis) -> Iterator[str]:
    """A key prefix of this test's own; its keys are deleted afterwards."""
    prefix = f"test-{uuid.uuid4().hex}"
    try:
        yield prefix
    finally:
        keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
        for start in range(0, len(keys), 1000):
            client.delete(*keys[start : start + 1000])


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll ``condition`` every 50 ms; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(0.05)
