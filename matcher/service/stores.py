"""The server's two stores, opened together from ``MATCHER_STORE``.

The registry (``VolunteerStore``) and the order lifecycle (``OrderStore``) live where the
setting says (``matcher.store_url``): both in this process's memory, or both in one Redis under
the same key prefix, sharing one client and its connection pool, so that servers sharing a
Redis share volunteers, orders, holds and the ledger. ``server.create_server`` opens them and
closes them once the server has stopped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from matcher.config import Settings
from matcher.orders.store.base import OrderStore
from matcher.orders.store.memory import MemoryOrderStore
from matcher.orders.store.redis import RedisOrderStore
from matcher.registry.store.base import VolunteerStore
from matcher.registry.store.memory import MemoryStore
from matcher.registry.store.redis import RedisStore
from matcher.store_url import connect_redis, parse_store_url

if TYPE_CHECKING:
    import redis


@dataclass(frozen=True)
class Stores:
    """The registry store and the order store of one server, and the one Redis client they
    share (None in memory)."""

    registry: VolunteerStore
    orders: OrderStore
    description: str  # where they live, never with a password (``StoreURL.description``)
    connection: redis.Redis | None = field(default=None, repr=False)

    @property
    def in_memory(self) -> bool:
        """Whether the stores live in this process (and are lost when it ends)."""
        return self.connection is None

    def close(self) -> None:
        """Close both stores and the connection they share."""
        self.registry.close()
        self.orders.close()
        if self.connection is not None:
            self.connection.close()


def open_stores(settings: Settings) -> Stores:
    """The stores ``settings.store`` names, Redis keys starting ``settings.redis_prefix``.

    Nothing is sent to Redis yet: an unreachable Redis shows in health (``StoreProbe``), not
    here.
    """
    location = parse_store_url(settings.store)
    if location.in_memory:
        return Stores(MemoryStore(), MemoryOrderStore(), location.description)
    connection = connect_redis(location)
    prefix = settings.redis_prefix
    try:
        registry = RedisStore(connection, prefix)
        orders = RedisOrderStore(connection, prefix)
    except BaseException:
        connection.close()
        raise
    return Stores(registry, orders, location.description, connection)
