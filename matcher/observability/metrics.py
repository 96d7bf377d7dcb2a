"""Prometheus metrics of the engine, in one registry object (not the global default), so a
process can run several servers and tests can read their own.

Every metric the engine exports is declared here (the gateway's are in ``gateway.metrics``);
the README's metric table is written from ``Metrics.describe()``, and
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


class Metrics:
    """The engine's metrics, registered in ``self.registry``."""

    def __init__(self) -> None:
        disable_created_metrics()  # type: ignore[no-untyped-call]  # *_created samples clutter
        r = self.registry = CollectorRegistry(auto_describe=True)
        self.rpc_requests = Counter(
            "matcher_rpc_requests",
            "RPCs handled, by method and status code.",
            ("method", "code"),
            registry=r,
        )
        self.rpc_duration = Histogram(
            "matcher_rpc_duration_seconds",
            "RPC latency, by method.",
            ("method",),
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.match_requests = Histogram(
            "matcher_match_batch_requests",
            "Requests per Match batch.",
            buckets=_SIZE_BUCKETS,
            registry=r,
        )
        self.match_volunteers = Histogram(
            "matcher_match_batch_volunteers",
            "Volunteers considered per Match batch.",
            buckets=_SIZE_BUCKETS,
            registry=r,
        )
        self.match_candidate_pairs = Histogram(
            "matcher_match_candidate_pairs",
            "Candidate pairs in the final sparse graph.",
            buckets=_SIZE_BUCKETS,
            registry=r,
        )
        self.match_rounds = Histogram(
            "matcher_match_rounds",
            "Candidate-widening rounds needed to prove optimality.",
            buckets=(1, 2, 3, 4, 5, 6, 8),
            registry=r,
        )
        self.match_phase = Histogram(
            "matcher_match_phase_seconds",
            "Time in each phase of the matcher core (candidates, scoring, solve, total).",
            ("phase",),
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.slots_asked = Counter(
            "matcher_match_slots_asked",
            "Request slots asked for in Match batches, by urgency.",
            ("urgency",),
            registry=r,
        )
        self.slots_served = Counter(
            "matcher_match_slots_served",
            "Request slots filled by Match, by urgency.",
            ("urgency",),
            registry=r,
        )
        self.registry_volunteers = Gauge(
            "matcher_registry_volunteers",
            "Registered volunteers, by state (active, inactive).",
            ("state",),
            registry=r,
        )
        self.registry_version = Gauge(
            "matcher_registry_version",
            "Registry version of this server's pool view.",
            registry=r,
        )
        self.registry_refresh_age = Gauge(
            "matcher_registry_view_age_seconds",
            "Seconds since this server last refreshed its pool view from the store.",
            registry=r,
        )
        self.store_up = Gauge(
            "matcher_store_up",
            "1 when the volunteer store answered the last probe, else 0.",
            registry=r,
        )
        self.store_errors = Counter(
            "matcher_store_errors",
            "Store calls that failed because the store was unreachable.",
            ("operation",),
            registry=r,
        )
        self.store_duration = Histogram(
            "matcher_store_operation_seconds",
            "Latency of volunteer-store calls, by operation.",
            ("operation",),
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )

        self._declare_lifecycle(r)

    def _declare_lifecycle(self, r: CollectorRegistry) -> None:
        """The order lifecycle's metrics (fed by ``matcher.observability.order_metrics``)."""
        self.order_gauges = OrderGauges()
        r.register(self.order_gauges)
        self.orders_submitted = Counter(
            "matcher_orders_submitted",
            "Orders created by this server, by urgency (idempotent retries not counted).",
            ("urgency",),
            registry=r,
        )
        self.order_transitions = Counter(
            "matcher_order_transitions",
            "Orders this server moved into a state, by that state.",
            ("state",),
            registry=r,
        )
        self.offers = Counter(
            "matcher_offers",
            "Offers this server made, and what became of them "
            "(made, accepted, declined, expired, withdrawn).",
            ("outcome",),
            registry=r,
        )
        self.order_acceptance = Histogram(
            "matcher_order_acceptance_seconds",
            "Time from an order's submission until every slot was accepted, by urgency.",
            ("urgency",),
            buckets=_WAIT_BUCKETS,
            registry=r,
        )
        self.hours_credited = Counter(
            "matcher_timebank_hours_credited",
            "Volunteer hours credited in the time bank for completed orders.",
            registry=r,
        )
        self.dispatch_rounds = Counter(
            "matcher_dispatch_rounds",
            "Dispatch rounds run by this server, by result (ok, failed).",
            ("result",),
            registry=r,
        )
        self.dispatch_round_duration = Histogram(
            "matcher_dispatch_round_seconds",
            "Duration of a dispatch round (sweep, match, offers).",
            buckets=_LATENCY_BUCKETS,
            registry=r,
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
        """(name, type, help) of every metric, for the README."""
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
        orders = GaugeMetricFamily(
            "matcher_orders",
            "Orders in the store, by state (read from the store at scrape time).",
            labels=("state",),
        )
        for state, count in counts.items():
            orders.add_metric((state,), count)
        yield orders
        oldest = GaugeMetricFamily(
            "matcher_orders_oldest_age_seconds",
            "Seconds since the oldest order still pending or offered was submitted, by state; "
            "0 when there is none.",
            labels=("state",),
        )
        for state, age in ages.items():
            oldest.add_metric((state,), age)
        yield oldest


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
