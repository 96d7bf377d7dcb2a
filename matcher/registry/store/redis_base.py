"""``RedisClientStore``: what both Redis stores (volunteers, orders) share.

The client they are handed, or open from a ``MATCHER_STORE`` URL (and then own and close);
where it points, for descriptions and error messages (never with a password); the health
probe; and Redis replies read as text. Connection failures become ``StoreUnavailableError``
in ``redis_errors``.

Two clients, two timeouts: writes (the Lua scripts registered with ``_write_script``) go
through ``_redis`` and wait its socket timeout (2 s), because a write that timed out may have
been applied. Reads go through ``_reads`` and the probe through ``ping``, on the read client
when one is given (``MATCHER_STORE_READ_TIMEOUT_SECONDS``, 0.5 s by default), so that a
frozen Redis fails them fast; without one they share ``_redis``.

With a ``DataSetMarker`` (``data_set``; the server's stores share one), ``ping`` also
verifies the marker, ``_reads`` refuses while the data set is known to be lost, and every
write script first checks inside Redis that the marker is still the one remembered
(``GuardedScript``). Without one (tools, tests of the stores alone) nothing is checked.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import redis
from redis.exceptions import ResponseError

from matcher.errors import StoreUnavailableError
from matcher.registry.store.data_set import DataSetMarker, Marker
from matcher.registry.store.redis_errors import translate_redis_errors
from matcher.store_url import StoreURL, connect_redis, parse_store_url, redis_location

#: The error a guarded script answers when the marker is not the one remembered.
_GUARD_ERROR = "MATCHER_DATA_SET_CHANGED"


def reply_text(value: bytes | str) -> str:
    """One item of a Redis reply as text (a client may or may not decode replies)."""
    return value.decode() if isinstance(value, bytes) else value


def lua_string(text: str) -> str:
    """``text`` as a Lua string literal (every byte escaped, so any text is safe)."""
    return '"' + "".join(f"\\{b:03d}" for b in text.encode()) + '"'


class GuardedScript:
    """A write script that writes only while the data set is the one ``marker`` remembers.

    Called like a ``redis`` ``Script`` (``keys=``, ``args=``). The check is a prologue run
    inside the same script: ``GET`` of the marker (a key not in ``KEYS``: fine on one Redis)
    compared with the remembered text, so it is atomic with the write. A refusal re-reads
    the marker: if an operator accepted a new data set meanwhile, the write is sent once more
    under it; otherwise ``DataSetLostError``.
    """

    def __init__(self, client: redis.Redis, text: str, marker: DataSetMarker | None) -> None:
        self._client = client
        self._text = text
        self._marker = marker
        self._plain = client.register_script(text)
        self._guarded: dict[str, Any] = {}  # remembered marker text -> its guarded Script

    def __call__(self, keys: Sequence[str] = (), args: Iterable[str | int | float] = ()) -> Any:
        if self._marker is None:
            return self._plain(keys=keys, args=args)
        args = list(args)
        for _ in range(2):
            script = self._under(self._marker.ensure())
            try:
                return script(keys=keys, args=args)
            except ResponseError as error:
                if not str(error).startswith(_GUARD_ERROR):
                    raise
            self._marker.verify()  # raises DataSetLostError unless a new marker was accepted
        raise StoreUnavailableError("the data-set marker kept changing during a write; try again")

    def _under(self, marker: Marker) -> Any:
        script = self._guarded.get(marker.text)
        if script is None:
            assert self._marker is not None
            prologue = (
                f"if redis.call('GET', {lua_string(self._marker.key)}) ~= "
                f"{lua_string(marker.text)} then "
                f"return redis.error_reply('{_GUARD_ERROR}') end\n"
            )
            script = self._client.register_script(prologue + self._text)
            self._guarded = {marker.text: script}  # only the current one is kept
        return script


class RedisClientStore:
    """A store on one Redis client (``self._redis``), with keys starting ``prefix``."""

    def __init__(
        self,
        client_or_url: redis.Redis | str,
        prefix: str,
        *,
        timeout: float,
        reads: redis.Redis | None = None,
        marker: DataSetMarker | None = None,
    ) -> None:
        self._owns_client = isinstance(client_or_url, str)
        if isinstance(client_or_url, str):
            client_or_url = connect_redis(parse_store_url(client_or_url), timeout=timeout)
        self._redis = client_or_url
        self._read_client = reads if reads is not None else client_or_url
        self._marker = marker
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

    @property
    def _reads(self) -> redis.Redis:
        """The client for reads; ``DataSetLostError`` while the data set is known to be
        lost (checked without a round trip)."""
        if self._marker is not None:
            self._marker.check()
        return self._read_client

    def _write_script(self, text: str) -> GuardedScript:
        """A write script on ``_redis``, guarded by the data-set marker (if any)."""
        return GuardedScript(self._redis, text, self._marker)

    @translate_redis_errors
    def ping(self) -> None:
        self._read_client.ping()
        if self._marker is not None:
            self._marker.verify()

    def close(self) -> None:
        """Close the connections, if this store opened them (a client passed in stays open)."""
        if self._owns_client:
            self._redis.close()
