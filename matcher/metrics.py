"""Prometheus metrics of the engine, in one registry object (not the global default), so a
process can run several servers and tests can read their own.

Every metric the engine exports is declared here; the README's metric table is generated
from ``Metrics.describe()`` so the two cannot drift.
"""

from __future__ import annotations

import threading
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

from matcher.core.model import MatchResult, RequestBatch, Urgency

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_SIZE_BUCKETS = (1, 10, 100, 1_000, 10_000, 100_000, 1_000_000)
_URGENCY_LABEL = {
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
        for urgency, label in _URGENCY_LABEL.items():
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
