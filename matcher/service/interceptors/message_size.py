"""The message-size interceptor, fourth in the chain: the request size limit, answered like
every other limit, RESOURCE_EXHAUSTED naming ``MATCHER_MAX_MESSAGE_BYTES``
(``LimitExceededError`` through ``matcher.service.errors``).

gRPC itself refuses a message over its receive limit with RESOURCE_EXHAUSTED "Received message
larger than max (N vs. M)", which names no setting. So the server lets gRPC receive a little
more (``grpc_receive_limit``: the limit plus a quarter) and ``MessageLimitInterceptor`` checks
each request's real size before parsing it: an oversize request is never parsed and the call
ends with the project's error. A message beyond even that headroom is still refused by gRPC
first, with its own message (its bytes then count against the headroom figure). Responses
keep gRPC's exact send limit (``MATCHER_MAX_MESSAGE_BYTES``).

The deserializer it wraps is the decode interceptor's (innermost), which cannot raise: bytes
within the limit that do not parse are refused there, after this check.

Only requests that arrive as one message (unary and server-streaming rpcs; the API has no
client-streaming ones) are checked here; others pass through unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import grpc

from matcher.errors import LimitExceededError
from matcher.service.interceptors.handlers import HandlerInterceptor, guard_handler

if TYPE_CHECKING:
    from matcher.service.interceptors.handlers import Handler

LIMIT_NAME = "MATCHER_MAX_MESSAGE_BYTES"
_INT32_MAX = 2**31 - 1


def grpc_receive_limit(limit: int) -> int:
    """gRPC's own receive limit for a configured ``limit``: a quarter more (at most int32)."""
    return min(limit + limit // 4, _INT32_MAX)


@dataclass(frozen=True)
class _Oversize:
    """Stands in for a request that was too large to parse."""

    size: int


class MessageLimitInterceptor(HandlerInterceptor):
    """Ends a call whose request exceeds ``limit`` bytes with RESOURCE_EXHAUSTED naming
    ``MATCHER_MAX_MESSAGE_BYTES`` (ErrorInfo LIMIT_EXCEEDED with allowed / actual)."""

    def __init__(self, limit: int) -> None:
        self._limit = limit

    def rewrite(self, method: str, handler: Handler) -> Handler:
        if handler.request_streaming:
            return handler
        return guard_handler(
            handler, self._refuse_oversize, self._checked(handler.request_deserializer)
        )

    def _checked(self, parse: Callable[[bytes], Any] | None) -> Callable[[bytes], Any]:
        def deserialize(data: bytes) -> Any:
            if len(data) > self._limit:
                return _Oversize(len(data))
            return parse(data) if parse is not None else data

        return deserialize

    def _refuse_oversize(self, request: Any, context: grpc.ServicerContext) -> None:
        if isinstance(request, _Oversize):
            raise LimitExceededError(LIMIT_NAME, self._limit, request.size, "request bytes")
