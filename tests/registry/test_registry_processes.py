"""Two ``matcher serve`` processes on one Redis see each other's writes at once: a write
acknowledged by one is in the other's Get, List and pool Match; a volunteer deleted through
one is never assigned by the other."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2

from matcher.v1 import volunteers_pb2
from tests.support.registry import (
    REDIS_DB_URL,
    Registry,
    free_port,
    north_km,
    private_prefix,
    registry_over,
    request,
    shared_redis_or_skip,
    upsert,
    wait_until,
)

ROOT = Path(__file__).resolve().parents[2]
V = volunteers_pb2
pytestmark = [pytest.mark.redis, pytest.mark.slow]


class ServerProcess:
    """``python -m matcher.cli serve`` on a port of its own, over the shared Redis."""

    def __init__(self, prefix: str) -> None:
        self.port = free_port()
        env = {
            **os.environ,
            "MATCHER_PORT": str(self.port),
            "MATCHER_STORE": REDIS_DB_URL,
            "MATCHER_REDIS_PREFIX": prefix,
            "MATCHER_GRACE_SECONDS": "1",
            "MATCHER_HEALTH_INTERVAL_SECONDS": "0.2",
            "MATCHER_WORKERS": "2",
        }
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "matcher.cli", "serve"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )

    def stop(self) -> str:
        """SIGTERM, wait, and return what it logged."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            _, err = self.proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
        return err


def connect(server: ServerProcess, stack: list[grpc.Channel]) -> Registry:
    channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
    stack.append(channel)
    reg = registry_over(channel)

    def serving() -> bool:
        assert server.proc.poll() is None, "the server process exited"
        try:
            return reg.health_of() == health_pb2.HealthCheckResponse.SERVING
        except grpc.RpcError:
            return False

    wait_until(serving, 30, f"the server on port {server.port} to serve")
    return reg


@pytest.fixture
def two_servers() -> Iterator[tuple[Registry, Registry]]:
    client = shared_redis_or_skip()
    channels: list[grpc.Channel] = []
    servers: list[ServerProcess] = []
    try:
        with private_prefix(client) as prefix:
            servers = [ServerProcess(prefix), ServerProcess(prefix)]
            try:
                yield connect(servers[0], channels), connect(servers[1], channels)
            finally:
                for channel in channels:
                    channel.close()
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
