"""The server's two stores, opened together from ``MATCHER_STORE``.

The registry (``VolunteerStore``) and the order lifecycle (``OrderStore``) live where the
setting says (``matcher.store_url``): both in this process's memory, or both in one Redis under
the same key prefix, sharing one client and its connection pool, so that servers sharing a
Redis share volunteers, orders, holds and the ledger. ``server.create_server`` opens them and
closes them once the server has stopped.

On Redis they also share a second client for reads and health probes, whose timeout is
``MATCHER_STORE_READ_TIMEOUT_SECONDS`` (writes keep the first client's 2 s), and one data-set
marker (``matcher.registry.store.data_set``), so that both notice a Redis that lost its data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from matcher.config import Settings
from matcher.orders.store.base import OrderStore
from matcher.orders.store.memory import MemoryOrderStore
from matcher.orders.store.redis import RedisOrderStore
from matcher.registry.store.base import VolunteerStore
from matcher.registry.store.data_set import DataSetMarker
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
    #: The client of reads and health probes, with the shorter read timeout.
    read_connection: redis.Redis | None = field(default=None, repr=False)

    @property
    def in_memory(self) -> bool:
        """Whether the stores live in this process (and are lost when it ends)."""
        return self.connection is None

    def close(self) -> None:
        """Close both stores and the connections they share."""
        self.registry.close()
        self.orders.close()
        for connection in (self.connection, self.read_connection):
            if connection is not None:
                connection.close()


def open_stores(settings: Settings) -> Stores:
    """The stores ``settings.store`` names, Redis keys starting ``settings.redis_prefix``.

    Nothing is sent to Redis yet: an unreachable Redis shows in health (``StoreProbe``), not
    here.
    """
    location = parse_store_url(settings.store)
    if location.in_memory:
        return Stores(MemoryStore(), MemoryOrderStore(), location.description)
    connection = connect_redis(location)
    reads = connect_redis(location, timeout=settings.store_read_timeout_seconds)
    prefix = settings.redis_prefix
    try:
        marker = DataSetMarker(reads, prefix)
        registry = RedisStore(connection, prefix, reads=reads, marker=marker)
        orders = RedisOrderStore(connection, prefix, reads=reads, marker=marker)
    except BaseException:
        connection.close()
        reads.close()
        raise
    return Stores(registry, orders, location.description, connection, reads)
