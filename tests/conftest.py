"""Shared fixtures: a real matcher server on a free port for the whole session, a channel to
it, a fresh small valid MatchRequest per test, and a ``redis-server`` of a test's own (for the
fault tests; skipped without the binary, except under ``CI=true``). The builders live in
tests/support/."""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest

from matcher.config import Settings
from matcher.v1 import match_pb2, match_pb2_grpc
from tests.support.private_redis import PrivateRedis, private_redis_server
from tests.support.service import (
    TEST_SETTINGS,
    RunningServer,
    channel_to,
    make_valid_request,
    serving,
)


@pytest.fixture(scope="session")
def test_settings() -> Settings:
    return TEST_SETTINGS


@pytest.fixture(scope="session")
def running_server(test_settings: Settings) -> Iterator[RunningServer]:
    """One server for the whole session (tests that stop a server start their own)."""
    with serving(test_settings) as app:
        yield RunningServer(app)


@pytest.fixture(scope="session")
def channel(running_server: RunningServer) -> Iterator[grpc.Channel]:
    with channel_to(running_server.app) as chan:
        grpc.channel_ready_future(chan).result(timeout=10)
        yield chan


@pytest.fixture(scope="session")
def match_stub(channel: grpc.Channel) -> match_pb2_grpc.MatchServiceStub:
    return match_pb2_grpc.MatchServiceStub(channel)  # type: ignore[no-untyped-call]


@pytest.fixture
def valid_request() -> match_pb2.MatchRequest:
    return make_valid_request()


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    """A Redis of this test's own (append-only file, fsync always), killed afterwards."""
    with private_redis_server() as server:
        yield server
