"""OpenTelemetry tracing: off by default; ``MATCHER_TRACING=console`` prints spans,
``MATCHER_TRACING=otlp`` exports them over OTLP/HTTP to ``MATCHER_OTLP_ENDPOINT``.

One span per rpc (opened by the interceptor, continuing the caller's W3C ``traceparent``
when the metadata carries one, as the HTTP gateway's does), and for Match one child span
per core phase. The core is pure and never sees the tracer: phase spans are written after
the solve from its measured phase times, laid end to end (rounds interleave the phases;
each span's length is that phase's total).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.propagate import extract
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
    SpanExporter,
)

from matcher.core.model import SolveStats

MODES = ("off", "console", "otlp")


class Tracing:
    """A tracer for the server, or a no-op when tracing is off."""

    def __init__(self, provider: TracerProvider | None) -> None:
        self._provider = provider
        self._tracer = provider.get_tracer("matcher") if provider else None

    @property
    def enabled(self) -> bool:
        return self._tracer is not None

    @contextmanager
    def rpc_span(self, method: str, metadata: Sequence[tuple[str, Any]] | None) -> Iterator[None]:
        """A server span for one rpc, child of the caller's trace context if any."""
        if self._tracer is None:
            yield
            return
        carrier: Mapping[str, str] = {k: v for k, v in (metadata or ()) if isinstance(v, str)}
        parent = extract(carrier)
        token = otel_context.attach(parent)
        try:
            with self._tracer.start_as_current_span(
                method, kind=trace.SpanKind.SERVER, attributes={"rpc.system": "grpc"}
            ) as span:
                yield
                span.set_attribute("rpc.method", method)
        finally:
            otel_context.detach(token)

    def record_phases(self, stats: SolveStats, **attributes: int) -> None:
        """Child spans of the current span for the core's phases (see module docstring)."""
        if self._tracer is None:
            return
        end = time.time_ns()
        start = end - int(stats.total_ms * 1e6)
        with self._tracer.start_as_current_span("match.solve", start_time=start) as span:
            for key, value in attributes.items():
                span.set_attribute(f"match.{key}", value)
            span.set_attribute("match.rounds", stats.rounds)
            span.set_attribute("match.candidate_pairs", stats.candidate_pairs)
            cursor = start
            for phase, ms in (
                ("candidates", stats.candidates_ms),
                ("scoring", stats.scoring_ms),
                ("solve", stats.solve_ms),
            ):
                length = int(ms * 1e6)
                child = self._tracer.start_span(f"match.{phase}", start_time=cursor)
                child.end(end_time=cursor + length)
                cursor += length
            span.end(end_time=end)

    def shutdown(self) -> None:
        if self._provider is not None:
            self._provider.shutdown()


def setup_tracing(
    mode: str, otlp_endpoint: str = "", exporter: SpanExporter | None = None
) -> Tracing:
    """Tracing for ``mode`` (``off``, ``console`` or ``otlp``); tests may pass ``exporter``."""
    if mode == "off" and exporter is None:
        return Tracing(None)
    provider = TracerProvider(resource=Resource.create({"service.name": "volunteer-matcher"}))
    if exporter is not None:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    elif mode == "console":
        provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter(out=sys.stdout)))
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=otlp_endpoint)))
    return Tracing(provider)
