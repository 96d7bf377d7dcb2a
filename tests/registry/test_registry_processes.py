"""Two ``matcher serve`` processes on one Redis see each other's writes at once: a write
acknowledged by one is in the other's Get, List and pool Match; a volunteer deleted through
one is never assigned by the other."""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest

from matcher.v1 import volunteers_pb2
from tests.support.redis_db import prefix_env, private_prefix, shared_redis_or_skip
from tests.support.registry import Registry, north_km, registry_over, request, upsert
from tests.support.server_process import ServerProcess

V = volunteers_pb2
pytestmark = [pytest.mark.redis, pytest.mark.slow]


def serve_process(prefix: str) -> ServerProcess:
    """``python -m matcher.cli serve`` on a port of its own, over the shared Redis."""
    return ServerProcess(
        {
            **prefix_env(prefix),
            "MATCHER_GRACE_SECONDS": "1",
            "MATCHER_HEALTH_INTERVAL_SECONDS": "0.2",
            "MATCHER_WORKERS": "2",
        }
    )


@pytest.fixture
def two_servers() -> Iterator[tuple[Registry, Registry]]:
    client = shared_redis_or_skip()
    try:
        with private_prefix(client) as prefix:
            servers = [serve_process(prefix), serve_process(prefix)]
            try:
                for server in servers:
                    server.start()
                with (
                    grpc.insecure_channel(servers[0].target) as one,
                    grpc.insecure_channel(servers[1].target) as two,
                ):
                    yield registry_over(one), registry_over(two)
            finally:
                logs = [server.stop() for server in servers]
            for log in logs:
                assert "Traceback" not in log
    finally:
        client.close()


def test_a_write_through_one_server_is_seen_by_the_other(
    two_servers: tuple[Registry, Registry],
) -> None:
    a, b = two_servers
    a.upsert(upsert("near", at=north_km(1), branch="grid-1"), upsert("far", at=north_km(6)))
    got = b.volunteers.GetVolunteer(V.GetVolunteerRequest(volunteer_id="near"), timeout=10)
    assert got.volunteer.branch_id == "grid-1"
    listed = b.volunteers.ListVolunteers(V.ListVolunteersRequest(), timeout=10)
    assert [v.volunteer.id for v in listed.volunteers] == ["far", "near"]
    assert b.assigned(request("r1")) == {"r1": "near"}
    a.upsert(upsert("near", at=north_km(1), hours=(6, 8), branch="grid-1"))
    assert b.assigned(request("r1")) == {"r1": "far"}
    b.upsert(upsert("near", at=north_km(1), branch="grid-1"))
    assert a.assigned(request("r1")) == {"r1": "near"}


def test_a_delete_through_one_server_is_never_assigned_by_the_other(
    two_servers: tuple[Registry, Registry],
) -> None:
    a, b = two_servers
    a.upsert(*(upsert(f"vol-{k}", at=north_km(k)) for k in range(5)))
    deleted: set[str] = set()
    for turn in range(5):
        writer, matcher = (a, b) if turn % 2 == 0 else (b, a)
        winner = matcher.assigned(request("r1"))["r1"]
        assert winner not in deleted
        writer.volunteers.DeleteVolunteer(V.DeleteVolunteerRequest(volunteer_id=winner), timeout=10)
        deleted.add(winner)
        assert winner not in matcher.assigned(request("r1")).values()
    assert b.assigned(request("r1")) == {} == a.assigned(request("r1"))
    status_a = a.volunteers.GetRegistryStatus(V.GetRegistryStatusRequest(), timeout=10)
    status_b = b.volunteers.GetRegistryStatus(V.GetRegistryStatusRequest(), timeout=10)
    assert status_a.registry_version == status_b.registry_version
    assert status_a.volunteers == status_b.volunteers == 0
