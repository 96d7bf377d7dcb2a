"""Redis going away and coming back: a private ``redis-server`` (append-only file, fsync on
every write) is stopped under a running matcher and started again from the same directory.

While it is down, calls that need it fail with UNAVAILABLE and a clear message, health turns
NOT_SERVING for matcher.v1.VolunteerService (MatchService stays SERVING: inline Matches need
no store), and the server stays up. Once it is back everything recovers by itself and no
acknowledged write is lost, after a clean stop (SIGTERM) or a crash (SIGKILL).
"""

from __future__ import annotations

import signal
from collections.abc import Iterator

import grpc
import pytest
from grpc_health.v1 import health_pb2

from matcher.config import Settings
from matcher.v1 import match_pb2, volunteers_pb2
from tests.support.net import wait_until
from tests.support.private_redis import PrivateRedis
from tests.support.registry import (
    Registry,
    north_km,
    request,
    rpc_error,
    running_registry,
    upsert,
)
from tests.support.service import make_valid_request

V = volunteers_pb2
SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
pytestmark = [pytest.mark.redis, pytest.mark.slow]


@pytest.fixture
def registry(private_redis: PrivateRedis) -> Iterator[Registry]:
    settings = Settings(
        port=0,
        workers=4,
        store=private_redis.url,
        health_interval_seconds=0.2,
        grace_seconds=0.5,
    )
    with running_registry(settings) as reg:
        yield reg


def get(reg: Registry, vid: str) -> volunteers_pb2.RegisteredVolunteer:
    return reg.volunteers.GetVolunteer(
        V.GetVolunteerRequest(volunteer_id=vid), timeout=10
    ).volunteer


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"])
def test_redis_down_then_back(private_redis: PrivateRedis, registry: Registry, sig: int) -> None:
    assert registry.upsert(upsert("vol-1", at=north_km(1)), upsert("vol-2", at=north_km(4)))
    assert registry.upsert(upsert("vol-1", at=north_km(1), recent_hours=7.0)) == [2]
    assert registry.assigned(request("r1")) == {"r1": "vol-1"}
    assert registry.health_of() == SERVING

    private_redis.stop(sig)
    for call in (
        lambda: get(registry, "vol-1"),
        lambda: registry.upsert(upsert("vol-3")),
        lambda: registry.assigned(request("r1")),
    ):
        err = rpc_error(call)
        assert err.code() == grpc.StatusCode.UNAVAILABLE
        assert f"Redis at 127.0.0.1:{private_redis.port}" in (err.details() or "")
        assert "unreachable" in (err.details() or "")
    wait_until(lambda: registry.health_of() == NOT_SERVING, 5, "VolunteerService NOT_SERVING")
    assert registry.health_of("matcher.v1.MatchService") == SERVING
    inline = registry.match.Match(make_valid_request(), timeout=10)  # needs no store
    assert len(inline.assignments) == 2
    status = registry.volunteers.GetRegistryStatus(V.GetRegistryStatusRequest(), timeout=10)
    assert not status.store_reachable and status.volunteers == 2  # the last view

    private_redis.start()
    wait_until(lambda: registry.health_of() == SERVING, 10, "VolunteerService SERVING again")
    stored = get(registry, "vol-1")
    assert (stored.version, stored.volunteer.recent_hours) == (2, 7.0)
    assert registry.assigned(request("r1")) == {"r1": "vol-1"}
    assert registry.upsert(upsert("vol-3")) == [1]
    listed = registry.volunteers.ListVolunteers(V.ListVolunteersRequest(), timeout=10)
    assert [v.volunteer.id for v in listed.volunteers] == ["vol-1", "vol-2", "vol-3"]


def test_the_server_starts_while_redis_is_down(private_redis: PrivateRedis) -> None:
    private_redis.stop()
    settings = Settings(port=0, store=private_redis.url, health_interval_seconds=0.2)
    with running_registry(settings) as reg:
        assert reg.health_of() == NOT_SERVING
        assert reg.health_of("matcher.v1.MatchService") == SERVING
        pool_match = match_pb2.MatchRequest(requests=[request("r1")], pool=match_pb2.PoolSelector())
        err = rpc_error(lambda: reg.match.Match(pool_match, timeout=10))
        assert err.code() == grpc.StatusCode.UNAVAILABLE
        private_redis.start()
        wait_until(lambda: reg.health_of() == SERVING, 10, "VolunteerService SERVING")
        assert reg.upsert(upsert("vol-1")) == [1]
        assert reg.assigned(request("r1")) == {"r1": "vol-1"}
