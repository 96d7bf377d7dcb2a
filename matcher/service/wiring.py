"""Every service the server offers, registered in this one place: MatchService,
VolunteerService, StatusService, the order lifecycle's OrderService, DispatchService,
OfferService and TimeBankService, then health and reflection.

``add_services`` builds what the servicers stand on (the pool view over the registry store;
the order desk, the dispatcher and the time bank over the order store), adds one servicer per
proto service, sets health, turns reflection on and exports the gauges read at scrape time.
What it returns (``Services``) runs beside the gRPC server, which starts and stops it
(``matcher.service.server``).

Health has an entry for every service. ``""``, MatchService and StatusService
(``PROCESS_SERVICES``) are SERVING while the process serves (an inline Match needs no store;
the status reports an unreachable store). The services that need the store
(``STORE_SERVICES``: VolunteerService and the order lifecycle's four) follow it through
``StoreProbe``: NOT_SERVING while it is unreachable, their calls failing with UNAVAILABLE
meanwhile. A pool Match needs the store too, so a client that matches against the pool should
watch VolunteerService.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from matcher.config import Settings
from matcher.observability.metrics import Metrics
from matcher.observability.order_metrics import OrderMetrics, export_order_gauges
from matcher.observability.store_timing import InstrumentedStore
from matcher.observability.tracing import Tracing
from matcher.orders.desk import OrderDesk
from matcher.orders.dispatcher import Dispatcher
from matcher.orders.store.base import OrderStore
from matcher.orders.timebank import TimeBank
from matcher.registry.view import PoolView
from matcher.service import reflection
from matcher.service.dispatch_service import DispatchServicer
from matcher.service.health import StoreProbe
from matcher.service.match_service import MatchServicer
from matcher.service.offer_service import OfferServicer
from matcher.service.order_service import OrderServicer
from matcher.service.status_service import StatusServicer, StatusSources
from matcher.service.stores import Stores
from matcher.service.timebank_service import TimeBankServicer
from matcher.service.volunteer_service import VolunteerServicer
from matcher.v1 import (
    match_pb2,
    match_pb2_grpc,
    orders_pb2,
    orders_pb2_grpc,
    status_pb2,
    status_pb2_grpc,
    timebank_pb2,
    timebank_pb2_grpc,
    volunteers_pb2,
    volunteers_pb2_grpc,
)


def _full_name(proto_module: Any, service: str) -> str:
    return str(proto_module.DESCRIPTOR.services_by_name[service].full_name)


MATCH_SERVICE = _full_name(match_pb2, "MatchService")
VOLUNTEER_SERVICE = _full_name(volunteers_pb2, "VolunteerService")
STATUS_SERVICE = _full_name(status_pb2, "StatusService")
ORDER_SERVICE = _full_name(orders_pb2, "OrderService")
DISPATCH_SERVICE = _full_name(orders_pb2, "DispatchService")
OFFER_SERVICE = _full_name(orders_pb2, "OfferService")
TIMEBANK_SERVICE = _full_name(timebank_pb2, "TimeBankService")
HEALTH_SERVICE = _full_name(health_pb2, "Health")
#: The services SERVING while the process serves: they answer without the store (an inline
#: Match; the server's status, which reports the store unreachable).
PROCESS_SERVICES = (MATCH_SERVICE, STATUS_SERVICE)
#: The services whose health follows the store.
STORE_SERVICES = (
    VOLUNTEER_SERVICE,
    ORDER_SERVICE,
    DISPATCH_SERVICE,
    OFFER_SERVICE,
    TIMEBANK_SERVICE,
)
#: Every service reflection lists.
REFLECTED = (
    *PROCESS_SERVICES,
    *STORE_SERVICES,
    HEALTH_SERVICE,
    *reflection.SERVICE_NAMES,
)


@dataclass(frozen=True)
class OrderServices:
    """What runs the order lifecycle in one server."""

    store: OrderStore
    desk: OrderDesk
    dispatcher: Dispatcher

    def start(self) -> None:
        """Recover what a stopped dispatcher left, then start the timed rounds."""
        self.dispatcher.start()

    def stop(self) -> None:
        """Stop the rounds and end the offer streams (the store is closed with the other)."""
        self.dispatcher.stop()


@dataclass(frozen=True)
class Services:
    """What runs beside the servicers: health, the pool view and the store probe that keeps
    both current, and the order lifecycle."""

    health: health.HealthServicer
    pool_view: PoolView
    probe: StoreProbe
    orders: OrderServices

    def start(self) -> None:
        """Probe the store (health is right from the start), then start the rounds."""
        self.probe.start()
        self.orders.start()

    def stop(self) -> None:
        """Stop the rounds and the probe."""
        self.orders.stop()
        self.probe.stop()


def add_services(
    server: grpc.Server,
    settings: Settings,
    stores: Stores,
    *,
    metrics: Metrics,
    tracing: Tracing,
    clock: Callable[[], float] = time.time,
    metrics_port: Callable[[], int] = lambda: 0,
) -> Services:
    """Register every service on ``server`` over ``stores`` (see the module docstring).
    ``clock`` is the order lifecycle's time; ``metrics_port`` tells StatusService where the
    /metrics endpoint ended up."""
    pool_view = PoolView(InstrumentedStore(stores.registry, metrics))
    match = MatchServicer(settings, pool_view, metrics, tracing)
    match_pb2_grpc.add_MatchServiceServicer_to_server(match, server)
    registry = VolunteerServicer(settings, pool_view)
    volunteers_pb2_grpc.add_VolunteerServiceServicer_to_server(registry, server)
    orders = _add_order_services(server, settings, stores.orders, pool_view, clock, metrics)
    health_servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    for name in ("", *PROCESS_SERVICES, *STORE_SERVICES):
        health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    probe = StoreProbe(
        pool_view.store,
        health_servicer,
        STORE_SERVICES,
        settings.health_interval_seconds,
        on_reachable=pool_view.current,
    )
    sources = StatusSources(
        metrics=metrics,
        started=time.time(),
        store_description=pool_view.store.description,
        store_reachable=lambda: probe.reachable is True,
        pool_state=lambda: pool_view.last,
        view_checked_ms=lambda: pool_view.checked_ms,
        metrics_port=metrics_port,
    )
    status_pb2_grpc.add_StatusServiceServicer_to_server(StatusServicer(sources), server)
    reflection.enable_reflection(REFLECTED, server)
    _export_registry_gauges(metrics, pool_view, probe)
    return Services(health_servicer, pool_view, probe, orders)


def _add_order_services(
    server: grpc.Server,
    settings: Settings,
    store: OrderStore,
    pool_view: PoolView,
    clock: Callable[[], float],
    metrics: Metrics,
) -> OrderServices:
    """The desk, the dispatcher and the time bank over ``store``, and their four services;
    the order metrics hear of every order written and every round run."""
    observer = OrderMetrics(metrics)
    desk = OrderDesk(
        store,
        pool_view.store,
        clock,
        settings.offer_ttl_seconds,
        observer=observer,
        completion_grace_hours=settings.completion_grace_hours,
        outbox_lease_seconds=settings.registry_outbox_lease_seconds,
        crash_at=settings.test_crash_at,
    )
    dispatcher = Dispatcher(desk, pool_view, settings.dispatch_window_seconds)
    bank = TimeBank(store, pool_view.store, clock)
    offers = OfferServicer(desk, max_streams=settings.watch_stream_limit)
    orders_pb2_grpc.add_OrderServiceServicer_to_server(OrderServicer(desk), server)
    orders_pb2_grpc.add_DispatchServiceServicer_to_server(DispatchServicer(dispatcher), server)
    orders_pb2_grpc.add_OfferServiceServicer_to_server(offers, server)
    timebank_pb2_grpc.add_TimeBankServiceServicer_to_server(TimeBankServicer(bank), server)
    export_order_gauges(metrics, store, clock)
    return OrderServices(store, desk, dispatcher)


def _export_registry_gauges(metrics: Metrics, pool_view: PoolView, probe: StoreProbe) -> None:
    """Registry size, version, freshness and store reachability, read at scrape time."""

    def count(active: bool) -> float:
        state = pool_view.last
        if state is None:
            return 0.0
        chosen = int(state.active.sum())
        return float(chosen if active else len(state.records) - chosen)

    metrics.registry_volunteers.labels("active").set_function(lambda: count(True))
    metrics.registry_volunteers.labels("inactive").set_function(lambda: count(False))
    metrics.registry_version.set_function(
        lambda: float(pool_view.last.version) if pool_view.last else 0.0
    )
    metrics.registry_refresh_age.set_function(
        lambda: (
            max(0.0, time.time() - pool_view.checked_ms / 1000.0) if pool_view.checked_ms else -1.0
        )
    )
    metrics.store_up.set_function(lambda: 1.0 if probe.reachable else 0.0)
