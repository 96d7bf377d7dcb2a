"""The access interceptor, inside the observing one: before any servicer runs it checks, in
this order,

1. the deadline: a call whose deadline has already passed (it waited for a worker thread)
   is answered DEADLINE_EXCEEDED and never started;
2. the key: ``authorization: Bearer <token>`` metadata naming a configured key, else
   UNAUTHENTICATED (open mode: no key needed, the caller is ``principal.OPEN``);
3. the role: the key's role may call the method (``roles.PERMISSIONS``), else
   PERMISSION_DENIED naming both;
4. the rate: the key's token bucket (open mode: the peer address's) has a token, else
   RESOURCE_EXHAUSTED naming ``MATCHER_RATE_LIMIT_PER_SECOND``.

Health checks and reflection pass unchecked. The caller becomes ``principal.current()`` for
the servicer, and the key id and role go on the access-log line (the access-log interceptor
is installed outside this one, so it logs the final code). The token itself is never logged
nor kept.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import grpc

from matcher.access import principal as principals
from matcher.access.keys import KeyRing, load_key_ring
from matcher.access.principal import Principal
from matcher.access.rate_limit import RateLimiter
from matcher.access.roles import is_open, may_call
from matcher.config import Settings
from matcher.errors import (
    AuthenticationError,
    DeadlineExceededError,
    PermissionDeniedError,
)
from matcher.service import rpc_context
from matcher.service.interceptors.handlers import HandlerInterceptor, guard_handler

if TYPE_CHECKING:
    from matcher.service.interceptors.handlers import Handler

logger = logging.getLogger(__name__)

AUTHORIZATION = "authorization"
_SCHEME = "bearer "
_LOOPBACK_NAMES = ("localhost", "ip6-localhost")


def access_interceptor(settings: Settings) -> AccessInterceptor:
    """The interceptor ``settings`` configure: keys loaded (``ConfigError`` if malformed),
    rate limits set, and the mode announced in the log."""
    keys = load_key_ring(settings)
    announce_mode(keys, settings.host)
    limiter = RateLimiter(settings.rate_limit_per_second, settings.rate_limit_burst)
    return AccessInterceptor(keys, limiter)


def announce_mode(keys: KeyRing, host: str) -> None:
    """Log the access mode: a WARNING when open, an ERROR banner when open on an address
    other machines can reach."""
    if not keys.open:
        logger.info("access control on: %d API key(s)", len(keys))
        return
    if is_loopback(host):
        logger.warning(
            "access control OFF (development mode): no API keys configured, every call is "
            "allowed; set MATCHER_API_KEYS_FILE or MATCHER_API_KEYS"
        )
        return
    logger.error(
        "\n%s\nACCESS CONTROL IS OFF on %s, an address other machines can reach: anyone who "
        "can connect may read residents' orders and change the registry. Configure API keys "
        "(MATCHER_API_KEYS_FILE or MATCHER_API_KEYS) or bind MATCHER_HOST=127.0.0.1.\n%s",
        "!" * 78,
        host,
        "!" * 78,
    )


def is_loopback(host: str) -> bool:
    """Whether ``host`` is a loopback address or name (127.0.0.0/8, ::1, localhost)."""
    name = host.strip("[]").lower()
    if name in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


class AccessInterceptor(HandlerInterceptor):
    """Deadline, authentication, permission and rate limit of every guarded call."""

    def __init__(self, keys: KeyRing, limiter: RateLimiter) -> None:
        self._keys = keys
        self._limiter = limiter

    def rewrite(self, method: str, handler: Handler) -> Handler:
        if is_open(method):
            return handler
        return guard_handler(handler, lambda _request, context: self.admit(method, context))

    def admit(self, method: str, context: grpc.ServicerContext) -> Principal:
        """The checks above; the admitted caller becomes the current principal."""
        principals.enter(principals.OPEN)
        remaining = context.time_remaining()
        if remaining is not None and remaining <= 0:
            raise DeadlineExceededError(f"the deadline of {method} passed before it started")
        if self._keys.open:
            self._limiter.take(f"peer {_peer_host(context.peer())}")
            return principals.OPEN
        key = self._keys.find(_bearer_token(context.invocation_metadata()))
        if key is None:
            raise AuthenticationError(
                "unknown API key: send a configured key as 'authorization: Bearer <token>'"
            )
        caller = Principal(key.key_id, key.role, key.volunteer_id)
        principals.enter(caller)
        rpc_context.annotate(key=key.key_id, role=key.role.value)
        if not may_call(key.role, method):
            raise PermissionDeniedError(f"role {key.role.value} may not call {method}")
        self._limiter.take(f"API key {key.key_id}", key.rate_per_second)
        return caller


def _bearer_token(metadata: Sequence[tuple[str, Any]] | None) -> str:
    """The token of the ``authorization: Bearer <token>`` entry; AuthenticationError if the
    entry is missing or not a bearer credential."""
    values = [v for k, v in metadata or () if k == AUTHORIZATION]
    if not values:
        raise AuthenticationError("missing API key: send 'authorization: Bearer <token>' metadata")
    value = values[0] if isinstance(values[0], str) else values[0].decode("latin-1")
    if not value[: len(_SCHEME)].lower() == _SCHEME or not value[len(_SCHEME) :].strip():
        raise AuthenticationError("malformed authorization metadata: expected 'Bearer <token>'")
    return value[len(_SCHEME) :].strip()


def _peer_host(peer: str) -> str:
    """``ipv4:10.0.0.7:5123`` -> ``10.0.0.7``; ``ipv6:[::1]:5123`` -> ``[::1]``."""
    kind, _, address = peer.partition(":")
    if kind in ("ipv4", "ipv6"):
        return address.rpartition(":")[0] or address
    return peer
