"""The gateway's Prometheus metrics, served at ``/metrics`` on the gateway's own port.

Its own registry (not the process default), so tests and several apps in one process each
count their own. Routes are labelled by template (``/v1/orders/{order_id}``), never by path,
which may hold personal data and would explode the label space.
"""

from __future__ import annotations

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
#: The route label of a request no binding matched.
NO_ROUTE = "(no route)"
CONTENT_TYPE = CONTENT_TYPE_LATEST


class GatewayMetrics:
    """HTTP requests by method, route template and status, and their latency."""

    def __init__(self) -> None:
        disable_created_metrics()  # type: ignore[no-untyped-call]
        r = self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "matcher_gateway_requests",
            "HTTP requests answered, by method, route template and status.",
            ("method", "route", "status"),
            registry=r,
        )
        self.duration = Histogram(
            "matcher_gateway_request_duration_seconds",
            "Time to answer (for a stream: to open it), by method and route template.",
            ("method", "route"),
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        """One answered request."""
        self.requests.labels(method, route, str(status)).inc()
        self.duration.labels(method, route).observe(seconds)

    def exposition(self) -> bytes:
        """The text format Prometheus scrapes."""
        return generate_latest(self.registry)

    def describe(self) -> list[tuple[str, str, str]]:
        """(name, type, help) of every metric, for the metric table in docs/operations.md."""
        return [
            (f.name + ("_total" if f.type == "counter" else ""), f.type, f.documentation)
            for f in self.registry.collect()
        ]
