"""Fixtures of the fault tests: a private ``redis-server`` per test (skipped without the
binary, except under ``CI=true``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.private_redis import PrivateRedis, private_redis_server


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    """A Redis of this test's own (append-only file, fsync always), killed afterwards."""
    with private_redis_server() as server:
        yield server
