"""The one server interceptor: per rpc, one access-log line (method, status code, duration
and the counts a servicer adds with ``rpc_context.annotate``), the Prometheus request
counter and latency histogram, and (when tracing is on) a server span.

Nothing from the payload or the status details is logged: requests carry residents' and
volunteers' personal data (ids, places, times). Health checks log at DEBUG, so probes do
not flood the log.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import grpc

from matcher.observability.metrics import Metrics
from matcher.observability.tracing import Tracing
from matcher.service import rpc_context
from matcher.service.errors import call_code

logger = logging.getLogger(__name__)

if TYPE_CHECKING:  # grpc's classes are generic in grpc-stubs only
    Handler = grpc.RpcMethodHandler[Any, Any]
    Continuation = Callable[[grpc.HandlerCallDetails], Handler | None]
    _Interceptor = grpc.ServerInterceptor[Any, Any]
else:
    _Interceptor = grpc.ServerInterceptor


class AccessLogInterceptor(_Interceptor):
    """Logs ``rpc <method> <CODE> <ms> ms`` at INFO once each call ends, and feeds
    ``metrics`` and ``tracing`` when given."""

    def __init__(self, metrics: Metrics | None = None, tracing: Tracing | None = None) -> None:
        self._observer = _Observer(metrics, tracing or Tracing(None))

    def intercept_service(
        self, continuation: Continuation, handler_call_details: grpc.HandlerCallDetails
    ) -> Handler | None:
        handler = continuation(handler_call_details)
        if handler is None:
            return None
        method = handler_call_details.method
        return wrap_handler(
            handler,
            lambda behaviour: self._observer.unary(method, behaviour),
            lambda behaviour: self._observer.stream(method, behaviour),
        )


def wrap_handler(
    handler: Handler,
    unary: Callable[[Behaviour], Behaviour],
    stream: Callable[[StreamBehaviour], StreamBehaviour],
    request_deserializer: Callable[[bytes], Any] | None = None,
) -> Handler:
    """``handler`` with its behaviour wrapped: by ``unary`` if it returns one response, by
    ``stream`` if it yields several (shared by the server's interceptors); and with
    ``request_deserializer`` instead of its own, if given."""
    kinds = {
        "request_deserializer": request_deserializer or handler.request_deserializer,
        "response_serializer": handler.response_serializer,
    }
    if handler.unary_unary is not None:
        return grpc.unary_unary_rpc_method_handler(unary(handler.unary_unary), **kinds)
    if handler.unary_stream is not None:
        return grpc.unary_stream_rpc_method_handler(stream(handler.unary_stream), **kinds)
    if handler.stream_unary is not None:
        return grpc.stream_unary_rpc_method_handler(unary(handler.stream_unary), **kinds)
    assert handler.stream_stream is not None
    return grpc.stream_stream_rpc_method_handler(stream(handler.stream_stream), **kinds)


Behaviour = Callable[[Any, grpc.ServicerContext], Any]
StreamBehaviour = Callable[[Any, grpc.ServicerContext], Iterator[Any]]


class _Observer:
    """Wraps behaviours so each call is logged, counted, timed and traced."""

    def __init__(self, metrics: Metrics | None, tracing: Tracing) -> None:
        self._metrics = metrics
        self._tracing = tracing

    def unary(self, method: str, behaviour: Behaviour) -> Behaviour:
        """Wrap a behaviour returning one response."""

        def call(request: Any, context: grpc.ServicerContext) -> Any:
            fields = rpc_context.open_call()
            started = time.perf_counter()
            failed = True
            with self._tracing.rpc_span(method, context.invocation_metadata()):
                try:
                    response = behaviour(request, context)
                    failed = False
                    return response
                finally:
                    self._done(method, context, started, failed, fields)

        return call

    def stream(self, method: str, behaviour: StreamBehaviour) -> StreamBehaviour:
        """Wrap a behaviour yielding responses; the call ends when the stream does."""

        def call(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
            fields = rpc_context.open_call()
            started = time.perf_counter()
            failed = True
            with self._tracing.rpc_span(method, context.invocation_metadata()):
                try:
                    yield from behaviour(request, context)
                    failed = False
                finally:
                    self._done(method, context, started, failed, fields)

        return call

    def _done(
        self,
        method: str,
        context: grpc.ServicerContext,
        started: float,
        failed: bool,
        fields: dict[str, object],
    ) -> None:
        elapsed = time.perf_counter() - started
        code = call_code(context)
        if code is None:
            code = grpc.StatusCode.UNKNOWN if failed else grpc.StatusCode.OK
        name = code.name if isinstance(code, grpc.StatusCode) else str(code)
        if self._metrics is not None:
            self._metrics.observe_rpc(method, name, elapsed)
        level = logging.DEBUG if method.startswith(_HEALTH_PREFIX) else logging.INFO
        if logger.isEnabledFor(level):
            log_fields = {"method": method, "code": name, "ms": round(elapsed * 1000, 1), **fields}
            logger.log(
                level,
                "rpc %s %s %.1f ms",
                method,
                name,
                elapsed * 1000,
                extra={"fields": log_fields, "shown": _SHOWN},
            )


_HEALTH_PREFIX = "/grpc.health.v1.Health/"
_SHOWN = ("method", "code", "ms")  # already in the message text
