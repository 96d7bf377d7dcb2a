"""Server interceptor that logs one line per rpc: method, status code and duration.

Nothing from the payload or the status details is logged: requests carry residents' and
volunteers' personal data (ids, places, times).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import grpc

from matcher.grpc_errors import call_code

logger = logging.getLogger(__name__)

if TYPE_CHECKING:  # grpc's classes are generic in grpc-stubs only
    Handler = grpc.RpcMethodHandler[Any, Any]
    Continuation = Callable[[grpc.HandlerCallDetails], Handler | None]
    _Interceptor = grpc.ServerInterceptor[Any, Any]
else:
    _Interceptor = grpc.ServerInterceptor


class AccessLogInterceptor(_Interceptor):
    """Logs ``rpc <method> <CODE> <ms> ms`` at INFO once each call ends."""

    def intercept_service(
        self, continuation: Continuation, handler_call_details: grpc.HandlerCallDetails
    ) -> Handler | None:
        handler = continuation(handler_call_details)
        if handler is None:
            return None
        method = handler_call_details.method
        if handler.unary_unary is not None:
            return grpc.unary_unary_rpc_method_handler(
                _timed(method, handler.unary_unary),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        if handler.unary_stream is not None:
            return grpc.unary_stream_rpc_method_handler(
                _timed_stream(method, handler.unary_stream),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        if handler.stream_unary is not None:
            return grpc.stream_unary_rpc_method_handler(
                _timed(method, handler.stream_unary),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        assert handler.stream_stream is not None
        return grpc.stream_stream_rpc_method_handler(
            _timed_stream(method, handler.stream_stream),
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )


Behaviour = Callable[[Any, grpc.ServicerContext], Any]
StreamBehaviour = Callable[[Any, grpc.ServicerContext], Iterator[Any]]


def _timed(method: str, behaviour: Behaviour) -> Behaviour:
    """Wrap a behaviour returning one response."""

    def call(request: Any, context: grpc.ServicerContext) -> Any:
        started = time.perf_counter()
        failed = True
        try:
            response = behaviour(request, context)
            failed = False
            return response
        finally:
            _log(method, context, started, failed)

    return call


def _timed_stream(method: str, behaviour: StreamBehaviour) -> StreamBehaviour:
    """Wrap a behaviour yielding responses; the call ends when the stream does."""

    def call(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
        started = time.perf_counter()
        failed = True
        try:
            yield from behaviour(request, context)
            failed = False
        finally:
            _log(method, context, started, failed)

    return call


def _log(method: str, context: grpc.ServicerContext, started: float, failed: bool) -> None:
    elapsed_ms = (time.perf_counter() - started) * 1000
    code = call_code(context)
    if code is None:
        code = grpc.StatusCode.UNKNOWN if failed else grpc.StatusCode.OK
    name = code.name if isinstance(code, grpc.StatusCode) else str(code)
    logger.info("rpc %s %s %.1f ms", method, name, elapsed_ms)
