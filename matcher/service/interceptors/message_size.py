"""The request size limit, answered like every other limit: RESOURCE_EXHAUSTED naming
``MATCHER_MAX_MESSAGE_BYTES`` (``LimitExceededError`` through ``grpc_errors``).

gRPC itself refuses a message over its receive limit with RESOURCE_EXHAUSTED "Received message
larger than max (N vs. M)", which names no setting. So the server lets gRPC receive a little
more (``grpc_receive_limit``: the limit plus a quarter) and ``MessageLimitInterceptor`` checks
each request's real size before parsing it: an oversize request is never parsed and the call
ends with the project's error. A message beyond even that headroom is still refused by gRPC
first, with its own message (its bytes then count against the headroom figure). Responses
keep gRPC's exact send limit (``MATCHER_MAX_MESSAGE_BYTES``).

Only requests that arrive as one message (unary and server-streaming rpcs; the API has no
client-streaming ones) are checked here; others pass through unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import grpc
from grpc_status import rpc_status

from matcher.errors import LimitExceededError
from matcher.service.errors import to_status_proto
from matcher.service.interceptors.observe import (
    Behaviour,
    StreamBehaviour,
    _Interceptor,
    wrap_handler,
)

if TYPE_CHECKING:  # grpc's classes are generic in grpc-stubs only
    from matcher.service.interceptors.observe import Continuation, Handler

LIMIT_NAME = "MATCHER_MAX_MESSAGE_BYTES"
_INT32_MAX = 2**31 - 1


def grpc_receive_limit(limit: int) -> int:
    """gRPC's own receive limit for a configured ``limit``: a quarter more (at most int32)."""
    return min(limit + limit // 4, _INT32_MAX)


@dataclass(frozen=True)
class _Oversize:
    """Stands in for a request that was too large to parse."""

    size: int


class MessageLimitInterceptor(_Interceptor):
    """Ends a call whose request exceeds ``limit`` bytes with RESOURCE_EXHAUSTED naming
    ``MATCHER_MAX_MESSAGE_BYTES`` (ErrorInfo LIMIT_EXCEEDED with allowed / actual)."""

    def __init__(self, limit: int) -> None:
        self._limit = limit

    def intercept_service(
        self, continuation: Continuation, handler_call_details: grpc.HandlerCallDetails
    ) -> Handler | None:
        handler = continuation(handler_call_details)
        if handler is None or handler.request_streaming:
            return handler
        return wrap_handler(
            handler, self._unary, self._stream, self._checked(handler.request_deserializer)
        )

    def _checked(self, parse: Callable[[bytes], Any] | None) -> Callable[[bytes], Any]:
        def deserialize(data: bytes) -> Any:
            if len(data) > self._limit:
                return _Oversize(len(data))
            return parse(data) if parse is not None else data

        return deserialize

    def _unary(self, behaviour: Behaviour) -> Behaviour:
        def call(request: Any, context: grpc.ServicerContext) -> Any:
            self._refuse_oversize(request, context)
            return behaviour(request, context)

        return call

    def _stream(self, behaviour: StreamBehaviour) -> StreamBehaviour:
        def call(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
            self._refuse_oversize(request, context)
            yield from behaviour(request, context)

        return call

    def _refuse_oversize(self, request: Any, context: grpc.ServicerContext) -> None:
        if isinstance(request, _Oversize):
            error = LimitExceededError(LIMIT_NAME, self._limit, request.size, "request bytes")
            context.abort_with_status(rpc_status.to_status(to_status_proto(error)))
