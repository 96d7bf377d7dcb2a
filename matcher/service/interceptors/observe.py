"""The observing interceptor, outermost in the chain: per rpc, one access-log line (method,
status code, duration and the counts a servicer adds with ``rpc_context.annotate``), the
Prometheus request counter and latency histogram, and (when tracing is on) a server span.

Nothing from the payload or the status details is logged: requests carry residents' and
volunteers' personal data (ids, places, times). Health checks log at DEBUG, so probes do
not flood the log.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import grpc

from matcher.observability.metrics import Metrics
from matcher.observability.tracing import Tracing
from matcher.service import rpc_context
from matcher.service.errors import call_code
from matcher.service.interceptors.handlers import (
    Behaviour,
    HandlerInterceptor,
    StreamBehaviour,
    wrap_handler,
)

if TYPE_CHECKING:
    from matcher.service.interceptors.handlers import Handler

logger = logging.getLogger(__name__)


class AccessLogInterceptor(HandlerInterceptor):
    """Logs ``rpc <method> <CODE> <ms> ms`` at INFO once each call ends, and feeds
    ``metrics`` and ``tracing`` when given."""

    def __init__(self, metrics: Metrics | None = None, tracing: Tracing | None = None) -> None:
        self._observer = _Observer(metrics, tracing or Tracing(None))

    def rewrite(self, method: str, handler: Handler) -> Handler:
        return wrap_handler(
            handler,
            lambda behaviour: self._observer.unary(method, behaviour),
            lambda behaviour: self._observer.stream(method, behaviour),
        )


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
