"""``MATCHER_STORE`` read once: which store, where it is, how to say so without the password,
and the Redis client it names.

``parse_store_url`` reads one of

=========================================================== =================================
``memory``                                                  the embedded store (lost on exit)
``redis://[[user]:password@]host[:port][/db]``              Redis over TCP (port 6379, db 0)
``rediss://[[user]:password@]host[:port][/db]``             the same over TLS
``unix://[[user]:password@]/path/to/redis.sock[?db=N]``     Redis over a unix socket
=========================================================== =================================

into a ``StoreURL`` (``db`` may also come as ``?db=N`` on the TCP forms; no other query
parameter is accepted). Anything else is a ``StoreURLError`` naming ``MATCHER_STORE``; no
message ever shows the password. ``StoreURL.description`` is what logs and StatusService show.

Every parse of the setting goes through here: ``Settings`` checks it at start-up, the server
opens its stores from it (``matcher.service.stores``), and the Redis stores handed a URL
instead of a client connect with ``connect_redis``. Importing this module does not import
``redis``: settings are read by processes that never open a store (the gateway, the CLI).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import SplitResult, parse_qsl, unquote, urlsplit

if TYPE_CHECKING:
    import redis

VARIABLE = "MATCHER_STORE"
MEMORY_STORE = "memory"
REDIS_SCHEMES = ("redis", "rediss", "unix")
DEFAULT_PORT = 6379
_MAX_DB = 65_535
_EXPECTED = (
    "must be 'memory' or a URL redis://host:port/db (rediss:// for TLS, "
    "unix:///path/to/redis.sock?db=N for a unix socket)"
)


class StoreURLError(ValueError):
    """``MATCHER_STORE`` is not a store URL; the message names the variable, never the
    password."""

    def __init__(self, problem: str = "") -> None:
        super().__init__(f"{VARIABLE} {_EXPECTED}{': ' + problem if problem else ''}")


@dataclass(frozen=True)
class StoreURL:
    """A parsed ``MATCHER_STORE``: ``scheme`` is ``memory``, ``redis``, ``rediss`` or ``unix``."""

    scheme: str = MEMORY_STORE
    host: str = ""
    port: int = DEFAULT_PORT
    db: int = 0
    socket_path: str = ""  # unix:// only
    username: str = field(default="", repr=False)
    password: str = field(default="", repr=False)

    @property
    def in_memory(self) -> bool:
        """Whether this is the embedded store."""
        return self.scheme == MEMORY_STORE

    @property
    def address(self) -> str:
        """Where Redis listens: ``host:port`` (``[v6]:port``) or ``unix:/path``."""
        if self.in_memory:
            return MEMORY_STORE
        if self.scheme == "unix":
            return f"unix:{self.socket_path}"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def description(self) -> str:
        """The URL without user or password: ``memory``, ``redis://host:6379/0``,
        ``unix:///run/redis.sock?db=0``."""
        if self.in_memory:
            return MEMORY_STORE
        if self.scheme == "unix":
            return f"unix://{self.socket_path}?db={self.db}"
        return f"{self.scheme}://{self.address}/{self.db}"


def parse_store_url(url: str) -> StoreURL:
    """``url`` read as the table in the module docstring says; ``StoreURLError`` otherwise."""
    if url == MEMORY_STORE:
        return StoreURL()
    scheme, separator, _ = url.partition("://")
    if separator == "":
        raise StoreURLError()
    if scheme not in REDIS_SCHEMES:
        raise StoreURLError(f"unsupported store scheme {scheme!r}")
    parts = urlsplit(url)
    if parts.fragment:
        raise StoreURLError("a '#' has no meaning in it")
    user, password = unquote(parts.username or ""), unquote(parts.password or "")
    if scheme == "unix":
        path = unquote(parts.path)
        if not path:
            raise StoreURLError("the socket path is missing")
        return StoreURL(scheme, "", DEFAULT_PORT, _db(parts, ""), path, user, password)
    if not parts.hostname:
        raise StoreURLError("the host is missing")
    port, db = _port(parts), _db(parts, parts.path[1:])
    return StoreURL(scheme, parts.hostname, port, db, "", user, password)


def _port(parts: SplitResult) -> int:
    try:
        port = parts.port
    except ValueError:  # not a number, or out of range
        port = 0
    if port is None:
        return DEFAULT_PORT
    if not 1 <= port <= 65_535:
        raise StoreURLError("the port must be a number in [1, 65535]")
    return port


def _db(parts: SplitResult, in_path: str) -> int:
    """The database number: from the path (TCP forms) or ``?db=N``; 0 when neither."""
    query = parse_qsl(parts.query, keep_blank_values=True)
    unknown = sorted({name for name, _ in query} - {"db"})
    if unknown:
        raise StoreURLError(f"unsupported parameter {unknown[0]!r} (only db is read)")
    text = dict(query).get("db", in_path) or "0"
    if not (text.isdigit() and int(text) <= _MAX_DB):
        raise StoreURLError(f"the database must be a number in [0, {_MAX_DB}]")
    return int(text)


def connect_redis(location: StoreURL, *, timeout: float = 2.0) -> redis.Redis:
    """A client (with its own connection pool) for the Redis ``location`` names.

    Socket timeouts of ``timeout`` seconds and a health check every 10 s, so the client
    reconnects by itself when Redis comes back. Only failures to connect or send are
    retried, three times within about half a second; a timeout surfaces at once, because a
    write that timed out may have been applied and sending it again is not always harmless.
    """
    import redis
    from redis.backoff import ExponentialWithJitterBackoff
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.retry import Retry

    if location.in_memory:
        raise ValueError("the memory store has no Redis to connect to")
    return redis.Redis(
        host=location.host or "localhost",
        port=location.port,
        db=location.db,
        unix_socket_path=location.socket_path or None,
        ssl=location.scheme == "rediss",
        username=location.username or None,
        password=location.password or None,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        health_check_interval=10,
        retry=Retry(
            ExponentialWithJitterBackoff(base=0.02, cap=0.25),
            retries=3,
            supported_errors=(RedisConnectionError,),
        ),
    )


def redis_location(client: redis.Redis) -> StoreURL:
    """Where ``client`` connects, as a ``StoreURL`` without login (for a store handed a
    client rather than a URL)."""
    import redis

    pool = client.connection_pool
    kwargs = pool.connection_kwargs
    db = int(kwargs.get("db") or 0)
    if "path" in kwargs:
        return StoreURL("unix", db=db, socket_path=str(kwargs["path"]))
    scheme = "rediss" if issubclass(pool.connection_class, redis.SSLConnection) else "redis"
    host = str(kwargs.get("host") or "localhost")
    return StoreURL(scheme, host, int(kwargs.get("port") or DEFAULT_PORT), db)
