"""MATCHER_STORE read once (``matcher.store_url``) and the server's two stores opened from it
(``matcher.service.stores``): memory, redis://, rediss://, unix://, and the URLs refused."""

from __future__ import annotations

import pytest
import redis

from matcher.config import ConfigError, Settings
from matcher.orders.model import OrderState
from matcher.orders.store.memory import MemoryOrderStore
from matcher.registry.store.memory import MemoryStore
from matcher.service.stores import open_stores
from matcher.store_url import StoreURL, StoreURLError, connect_redis, parse_store_url
from tests.support.redis_db import on_private_prefix

PASSWORD = "s3cret-pw"


@pytest.mark.parametrize(
    ("url", "parsed", "description"),
    [
        ("memory", StoreURL(), "memory"),
        ("redis://cache", StoreURL("redis", "cache"), "redis://cache:6379/0"),
        (
            f"redis://:{PASSWORD}@10.0.0.5:6380/3",
            StoreURL("redis", "10.0.0.5", 6380, 3, password=PASSWORD),
            "redis://10.0.0.5:6380/3",
        ),
        ("redis://cache/?db=7", StoreURL("redis", "cache", db=7), "redis://cache:6379/7"),
        (
            f"rediss://matcher:{PASSWORD}@[::1]:6390/2",
            StoreURL("rediss", "::1", 6390, 2, username="matcher", password=PASSWORD),
            "rediss://[::1]:6390/2",
        ),
        (
            "unix:///run/redis/redis.sock?db=4",
            StoreURL("unix", db=4, socket_path="/run/redis/redis.sock"),
            "unix:///run/redis/redis.sock?db=4",
        ),
        (
            f"unix://:{PASSWORD}@/run/redis.sock",
            StoreURL("unix", socket_path="/run/redis.sock", password=PASSWORD),
            "unix:///run/redis.sock?db=0",
        ),
    ],
)
def test_store_urls_parse(url: str, parsed: StoreURL, description: str) -> None:
    location = parse_store_url(url)
    assert location == parsed
    assert location.description == description
    assert PASSWORD not in f"{location!r} {location.description} {location.address}"
    assert Settings(store=url).store == url  # the settings accept exactly what parses


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        (f"postgres://user:{PASSWORD}@db/x", "unsupported store scheme 'postgres'"),
        ("redis", ""),
        (f"redis://:{PASSWORD}@:6379/0", "the host is missing"),
        (f"redis://:{PASSWORD}@cache:port/0", "the port must be a number in [1, 65535]"),
        ("redis://cache:70000/0", "the port must be a number in [1, 65535]"),
        ("redis://cache/zero", "the database must be a number"),
        (f"redis://cache/0?password={PASSWORD}", "unsupported parameter 'password'"),
        ("unix://", "the socket path is missing"),
    ],
)
def test_bad_store_urls_are_config_errors_naming_the_variable(url: str, problem: str) -> None:
    with pytest.raises(StoreURLError) as parsed:
        parse_store_url(url)
    with pytest.raises(ConfigError) as configured:
        Settings.from_env({"MATCHER_STORE": url})
    for message in (str(parsed.value), str(configured.value)):
        assert message.startswith("MATCHER_STORE must be 'memory' or a URL redis://host:port/db")
        assert problem in message
        assert PASSWORD not in message


def test_the_redis_client_connects_where_the_url_says() -> None:
    tls = connect_redis(parse_store_url(f"rediss://matcher:{PASSWORD}@cache:6390/2"))
    socket = connect_redis(parse_store_url("unix:///run/redis.sock?db=4"), timeout=0.5)
    try:  # nothing is sent until the first command
        assert issubclass(tls.connection_pool.connection_class, redis.SSLConnection)
        kwargs = tls.connection_pool.connection_kwargs
        wanted = {"host": "cache", "port": 6390, "db": 2, "username": "matcher"}
        assert {name: kwargs[name] for name in wanted} == wanted
        assert kwargs["password"] == PASSWORD
        pool = socket.connection_pool
        assert issubclass(pool.connection_class, redis.UnixDomainSocketConnection)
        wanted = {"path": "/run/redis.sock", "db": 4, "socket_timeout": 0.5}
        assert {name: pool.connection_kwargs[name] for name in wanted} == wanted
    finally:
        tls.close()
        socket.close()


def test_memory_stores() -> None:
    stores = open_stores(Settings())
    assert isinstance(stores.registry, MemoryStore)
    assert isinstance(stores.orders, MemoryOrderStore)
    assert stores.in_memory and stores.description == "memory"
    stores.close()


@pytest.mark.redis
def test_redis_stores_share_one_connection_pool() -> None:
    with on_private_prefix(Settings()) as settings:
        stores = open_stores(settings)
        try:
            assert not stores.in_memory
            assert stores.connection is not None
            pool = stores.connection.connection_pool
            for store in (stores.registry, stores.orders):
                assert store._redis.connection_pool is pool  # type: ignore[union-attr]
                assert store.description == (
                    f"{parse_store_url(settings.store).description} prefix={settings.redis_prefix}"
                )
            assert stores.registry.version() == 0
            assert stores.orders.census()[OrderState.PENDING].count == 0
        finally:
            stores.close()
