"""``StatusService``: the operator's view of one server (version, store, registry, counters).

The servicer only reads: the metrics registry, the pool view's last state and the store
probe's last answer. It never calls the store, so it answers even when Redis is down.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from matcher.observability.metrics import Metrics
from matcher.registry.view import PoolState
from matcher.v1 import status_pb2, status_pb2_grpc

#: Metric samples reported as "main counters" (name as in the exposition format).
MAIN_COUNTERS = (
    "matcher_rpc_requests_total",
    "matcher_rpc_duration_seconds_count",
    "matcher_rpc_duration_seconds_sum",
    "matcher_match_slots_asked_total",
    "matcher_match_slots_served_total",
    "matcher_orders",
    "matcher_orders_oldest_age_seconds",
    "matcher_offers_total",
    "matcher_dispatch_rounds_total",
    "matcher_timebank_hours_credited_total",
)


def package_version() -> str:
    """The installed package's version ("unknown" when run from a bare checkout)."""
    try:
        return metadata.version("volunteer-matcher")
    except metadata.PackageNotFoundError:
        return "unknown"


@dataclass(frozen=True)
class StatusSources:
    """Where the status comes from (all reads are cheap and local)."""

    metrics: Metrics
    started: float  # epoch seconds
    store_description: str
    store_reachable: Callable[[], bool]
    pool_state: Callable[[], PoolState | None]
    view_checked_ms: Callable[[], int] = lambda: 0  # when the view was last confirmed current
    metrics_port: Callable[[], int] = lambda: 0


class StatusServicer(status_pb2_grpc.StatusServiceServicer):
    """Thin: gathers ``StatusSources`` into a ``GetServerStatusResponse``."""

    def __init__(self, sources: StatusSources) -> None:
        self._sources = sources

    def GetServerStatus(  # noqa: N802 (the rpc's name)
        self, request: status_pb2.GetServerStatusRequest, context: grpc.ServicerContext
    ) -> status_pb2.GetServerStatusResponse:
        src = self._sources
        now = time.time()
        started = Timestamp()
        started.FromNanoseconds(int(src.started * 1e9))
        response = status_pb2.GetServerStatusResponse(
            version=package_version(),
            start_time=started,
            uptime_seconds=now - src.started,
            store=src.store_description,
            store_reachable=src.store_reachable(),
            registry_view_age_seconds=-1.0,
            metrics_port=src.metrics_port(),
        )
        state = src.pool_state()
        if state is not None:
            response.registry_volunteers = len(state.records)
            response.registry_active_volunteers = int(state.active.sum())
            response.registry_version = state.version
            checked = src.view_checked_ms() or state.refreshed_ms
            response.registry_view_age_seconds = max(0.0, now - checked / 1000.0)
        for family in src.metrics.registry.collect():
            for sample in family.samples:
                if sample.name in MAIN_COUNTERS:
                    response.counters.add(
                        name=sample.name, labels=dict(sample.labels), value=sample.value
                    )
        return response
