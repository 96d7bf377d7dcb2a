"""The shared Redis the integration tests use: where it is (``MATCHER_TEST_REDIS_URL``, by
default ``redis://127.0.0.1:6379``), which database each suite works in, a client that skips
the test without Redis (fails under ``CI=true``), a key prefix of the test's own, and
settings that put a server on the memory store or on such a prefix.

Every suite keeps its own database so suites run at the same time do not see each other's
keys; inside one, each test writes under a fresh prefix that is deleted afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from enum import IntEnum
from urllib.parse import urlsplit

import redis

from matcher.config import Settings
from tests.support.prerequisites import missing_prerequisite

#: The shared Redis, without a database number.
BASE_URL = os.environ.get("MATCHER_TEST_REDIS_URL", "redis://127.0.0.1:6379").rstrip("/")


class RedisDb(IntEnum):
    """The database each suite uses on the shared Redis."""

    LOAD = 9  # tests/load: the mixed load run
    FUZZ = 10  # tests/fuzz: the RPC fuzzer's Redis world
    SERVERS = 14  # registry, order and service tests against real servers
    STORE_CONTRACT = 15  # tests/contract: both stores against one contract


def redis_url(db: RedisDb) -> str:
    """The URL of database ``db`` on the shared Redis."""
    return f"{BASE_URL}/{int(db)}"


def redis_address() -> tuple[str, int]:
    """Host and port of the shared Redis (for a proxy in front of it)."""
    parts = urlsplit(BASE_URL)
    return parts.hostname or "127.0.0.1", parts.port or 6379


def redis_or_skip(url: str, timeout: float = 2.0) -> redis.Redis:
    """A client of the Redis ``url`` names, once it answers; the test skips (fails under
    CI=true, where Redis must run) when it does not."""
    client = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=2)
    try:
        client.ping()
    except (redis.ConnectionError, redis.TimeoutError) as exc:
        client.close()
        host, port = redis_address()
        missing_prerequisite(f"Redis at {host}:{port} is unreachable ({exc}); start redis-server")
    return client


def shared_redis_or_skip() -> redis.Redis:
    """A client of the servers' database (``RedisDb.SERVERS``); skips without Redis."""
    return redis_or_skip(redis_url(RedisDb.SERVERS))


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


def prefix_env(prefix: str) -> dict[str, str]:
    """The variables that put a ``matcher serve`` process on ``prefix`` of the servers'
    database (``RedisDb.SERVERS``)."""
    return {"MATCHER_STORE": redis_url(RedisDb.SERVERS), "MATCHER_REDIS_PREFIX": prefix}


@contextmanager
def on_private_prefix(settings: Settings) -> Iterator[Settings]:
    """``settings`` on ``RedisDb.SERVERS`` under a prefix of this test's own (skips without
    Redis); the prefix's keys are deleted afterwards."""
    client = shared_redis_or_skip()
    try:
        with private_prefix(client) as prefix:
            yield settings.with_overrides(store=redis_url(RedisDb.SERVERS), redis_prefix=prefix)
    finally:
        client.close()


@contextmanager
def on_store(kind: str, settings: Settings) -> Iterator[Settings]:
    """``settings`` as they are (``kind`` "memory") or on a private Redis prefix ("redis")."""
    if kind == "memory":
        yield settings
        return
    with on_private_prefix(settings) as redis_settings:
        yield redis_settings
