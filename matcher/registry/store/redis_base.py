"""``RedisClientStore``: what both Redis stores (volunteers, orders) share.

The client they are handed, or open from a ``MATCHER_STORE`` URL (and then own and close);
where it points, for descriptions and error messages (never with a password); the health
probe; and Redis replies read as text. Connection failures become ``StoreUnavailableError``
in ``redis_errors``.
"""

from __future__ import annotations

import redis

from matcher.registry.store.redis_errors import translate_redis_errors
from matcher.store_url import StoreURL, connect_redis, parse_store_url, redis_location


def reply_text(value: bytes | str) -> str:
    """One item of a Redis reply as text (a client may or may not decode replies)."""
    return value.decode() if isinstance(value, bytes) else value


class RedisClientStore:
    """A store on one Redis client (``self._redis``), with keys starting ``prefix``."""

    def __init__(self, client_or_url: redis.Redis | str, prefix: str, *, timeout: float) -> None:
        self._owns_client = isinstance(client_or_url, str)
        if isinstance(client_or_url, str):
            client_or_url = connect_redis(parse_store_url(client_or_url), timeout=timeout)
        self._redis = client_or_url
        self._prefix = prefix
        self.location: StoreURL = redis_location(client_or_url)

    @property
    def description(self) -> str:
        """Where the store lives, for logs; never contains a password."""
        return f"{self.location.description} prefix={self._prefix}"

    @property
    def redis_where(self) -> str:
        """``Redis at host:port`` (for error messages)."""
        return f"Redis at {self.location.address}"

    @translate_redis_errors
    def ping(self) -> None:
        self._redis.ping()

    def close(self) -> None:
        """Close the connections, if this store opened them (a client passed in stays open)."""
        if self._owns_client:
            self._redis.close()
