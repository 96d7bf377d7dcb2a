"""Prometheus metrics of the engine, in one registry object (not the global default), so a
process can run several servers and tests can read their own.

Every metric the engine exports is declared here (the gateway's are in ``gateway.metrics``);
the metric table in docs/operations.md is written from ``Metrics.describe()``, and
``tests/observability/test_metrics_docs.py`` fails when the two differ.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from wsgiref.simple_server import WSGIServer

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    start_http_server,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from matcher.core.model import MatchResult, RequestBatch, Urgency

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
#: Waits of people, seconds: 5 s .. 1 day.
_WAIT_BUCKETS = (5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600, 86400)
_SIZE_BUCKETS = (1, 10, 100, 1_000, 10_000, 100_000, 1_000_000)
URGENCY_LABEL = {
    Urgency.ROUTINE: "routine",
    Urgency.URGENT: "urgent",
    Urgency.DIFFICULT: "difficult",
}


@dataclass(frozen=True)
class _Declare:
    """Declares one metric per call in ``registry``: name, help text, label names."""

    registry: CollectorRegistry

    def counter(self, name: str, documentation: str, *labels: str) -> Counter:
        return Counter(name, documentation, labels, registry=self.registry)

    def gauge(self, name: str, documentation: str, *labels: str) -> Gauge:
        return Gauge(name, documentation, labels, registry=self.registry)

    def histogram(
        self, name: str, documentation: str, buckets: tuple[float, ...], *labels: str
    ) -> Histogram:
        return Histogram(name, documentation, labels, buckets=buckets, registry=self.registry)


class Metrics:
    """The engine's metrics, registered in ``self.registry`` (in this order on /metrics)."""

    def __init__(self) -> None:
        disable_created_metrics()  # type: ignore[no-untyped-call]  # *_created samples clutter
        self.registry = CollectorRegistry(auto_describe=True)
        declare = _Declare(self.registry)
        self._declare_rpc_and_match(declare)
        self._declare_registry_and_store(declare)
        self._declare_lifecycle(declare)

    def _declare_rpc_and_match(self, d: _Declare) -> None:
        """Every RPC's count and latency; the sizes, phases and slots of Match batches."""
        self.rpc_requests = d.counter(
            "matcher_rpc_requests", "RPCs handled, by method and status code.", "method", "code"
        )
        self.rpc_duration = d.histogram(
            "matcher_rpc_duration_seconds", "RPC latency, by method.", _LATENCY_BUCKETS, "method"
        )
        self.match_requests = d.histogram(
            "matcher_match_batch_requests", "Requests per Match batch.", _SIZE_BUCKETS
        )
        self.match_volunteers = d.histogram(
            "matcher_match_batch_volunteers",
            "Volunteers considered per Match batch.",
            _SIZE_BUCKETS,
        )
        self.match_candidate_pairs = d.histogram(
            "matcher_match_candidate_pairs",
            "Candidate pairs in the final sparse graph.",
            _SIZE_BUCKETS,
        )
        self.match_rounds = d.histogram(
            "matcher_match_rounds",
            "Candidate-widening rounds needed to prove optimality.",
            (1, 2, 3, 4, 5, 6, 8),
        )
        self.match_phase = d.histogram(
            "matcher_match_phase_seconds",
            "Time in each phase of the matcher core (candidates, scoring, solve, total).",
            _LATENCY_BUCKETS,
            "phase",
        )
        self.slots_asked = d.counter(
            "matcher_match_slots_asked",
            "Request slots asked for in Match batches, by urgency.",
            "urgency",
        )
        self.slots_served = d.counter(
            "matcher_match_slots_served", "Request slots filled by Match, by urgency.", "urgency"
        )

    def _declare_registry_and_store(self, d: _Declare) -> None:
        """The volunteer registry as this server sees it, and the store's health and latency."""
        self.registry_volunteers = d.gauge(
            "matcher_registry_volunteers",
            "Registered volunteers, by state (active, inactive).",
            "state",
        )
        self.registry_version = d.gauge(
            "matcher_registry_version", "Registry version of this server's pool view."
        )
        self.registry_refresh_age = d.gauge(
            "matcher_registry_view_age_seconds",
            "Seconds since this server last refreshed its pool view from the store.",
        )
        self.store_up = d.gauge(
            "matcher_store_up", "1 when the volunteer store answered the last probe, else 0."
        )
        self.store_errors = d.counter(
            "matcher_store_errors",
            "Store calls that failed because the store was unreachable.",
            "operation",
        )
        self.store_duration = d.histogram(
            "matcher_store_operation_seconds",
            "Latency of volunteer-store calls, by operation.",
            _LATENCY_BUCKETS,
            "operation",
        )

    def _declare_lifecycle(self, d: _Declare) -> None:
        """The order lifecycle's metrics (fed by ``matcher.observability.order_metrics``)."""
        self.order_gauges = OrderGauges()
        d.registry.register(self.order_gauges)
        self.orders_submitted = d.counter(
            "matcher_orders_submitted",
            "Orders created by this server, by urgency (idempotent retries not counted).",
            "urgency",
        )
        self.order_transitions = d.counter(
            "matcher_order_transitions",
            "Orders this server moved into a state, by that state.",
            "state",
        )
        self.offers = d.counter(
            "matcher_offers",
            "Offers this server made, and what became of them "
            "(made, accepted, declined, expired, withdrawn).",
            "outcome",
        )
        self.order_acceptance = d.histogram(
            "matcher_order_acceptance_seconds",
            "Time from an order's submission until every slot was accepted, by urgency.",
            _WAIT_BUCKETS,
            "urgency",
        )
        self.hours_credited = d.counter(
            "matcher_timebank_hours_credited",
            "Volunteer hours credited in the time bank for completed orders.",
        )
        self.dispatch_rounds = d.counter(
            "matcher_dispatch_rounds",
            "Dispatch rounds run by this server, by result (ok, failed).",
            "result",
        )
        self.dispatch_round_duration = d.histogram(
            "matcher_dispatch_round_seconds",
            "Duration of a dispatch round (sweep, match, offers).",
            _LATENCY_BUCKETS,
        )

    def observe_rpc(self, method: str, code: str, seconds: float) -> None:
        """One finished RPC."""
        self.rpc_requests.labels(method, code).inc()
        self.rpc_duration.labels(method).observe(seconds)

    def observe_match(self, requests: RequestBatch, n_volunteers: int, result: MatchResult) -> None:
        """One solved Match batch: sizes, phases, slots asked and served by urgency."""
        stats = result.stats
        self.match_requests.observe(len(requests))
        self.match_volunteers.observe(n_volunteers)
        self.match_candidate_pairs.observe(stats.candidate_pairs)
        self.match_rounds.observe(stats.rounds)
        for phase, ms in (
            ("candidates", stats.candidates_ms),
            ("scoring", stats.scoring_ms),
            ("solve", stats.solve_ms),
            ("total", stats.total_ms),
        ):
            self.match_phase.labels(phase).observe(ms / 1000.0)
        for urgency, label in URGENCY_LABEL.items():
            asked = int(requests.slots[requests.urgency == urgency].sum())
            served = int((requests.urgency[result.request] == urgency).sum())
            self.slots_asked.labels(label).inc(asked)
            self.slots_served.labels(label).inc(served)

    def describe(self) -> list[tuple[str, str, str]]:
        """(name, type, help) of every metric, for the metric table in docs/operations.md."""
        out = []
        for family in self.registry.collect():
            name = family.name + ("_total" if family.type == "counter" else "")
            out.append((name, family.type, family.documentation))
        return out


#: What ``OrderGauges.read`` returns: orders per state, and the age of the oldest waiting
#: order per state (seconds), each keyed by the state's label.
OrderFigures = tuple[Mapping[str, float], Mapping[str, float]]


class OrderGauges(Collector):
    """``matcher_orders`` and ``matcher_orders_oldest_age_seconds``, read from the order store
    once per scrape through ``read`` (set by ``matcher.observability.order_metrics``; no
    samples until then)."""

    def __init__(self) -> None:
        self.read: Callable[[], OrderFigures] | None = None

    def describe(self) -> list[GaugeMetricFamily]:
        return list(self._families(({}, {})))

    def collect(self) -> list[GaugeMetricFamily]:
        return list(self._families(self.read() if self.read is not None else ({}, {})))

    @staticmethod
    def _families(figures: OrderFigures) -> Iterator[GaugeMetricFamily]:
        counts, ages = figures
        yield _by_state(
            "matcher_orders",
            "Orders in the store, by state (read from the store at scrape time).",
            counts,
        )
        yield _by_state(
            "matcher_orders_oldest_age_seconds",
            "Seconds since the oldest order still pending or offered was submitted, by state; "
            "0 when there is none.",
            ages,
        )


def _by_state(name: str, documentation: str, values: Mapping[str, float]) -> GaugeMetricFamily:
    """A gauge family with one sample per state label."""
    family = GaugeMetricFamily(name, documentation, labels=("state",))
    for state, value in values.items():
        family.add_metric((state,), value)
    return family


@dataclass
class MetricsEndpoint:
    """A running /metrics HTTP endpoint."""

    server: WSGIServer
    thread: threading.Thread

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def serve_metrics(metrics: Metrics, host: str, port: int) -> MetricsEndpoint:
    """Serve ``metrics`` at http://host:port/metrics (port 0 picks a free one)."""
    server, thread = start_http_server(port, addr=host, registry=metrics.registry)
    return MetricsEndpoint(server, thread)
