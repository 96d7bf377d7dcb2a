"""The gRPC server: wiring only (store, pool view, servicers, health, reflection, signals).

``create_server(settings)`` opens the store and builds and binds a server without starting it
(tests use port 0); ``serve(settings)`` runs one until SIGTERM or SIGINT, then drains: health
goes NOT_SERVING so load balancers stop sending, and in-flight calls get
``settings.grace_seconds`` to finish.

Health: ``""`` and ``matcher.v1.MatchService`` are SERVING while the process serves (an inline
Match needs no store). ``matcher.v1.VolunteerService`` follows the store (``StoreProbe``): it
is NOT_SERVING while the store is unreachable. Pool Matches need the store too, so a client
that matches against the pool should watch VolunteerService; those calls fail with
UNAVAILABLE meanwhile. The order lifecycle's services (``order_services``: OrderService,
DispatchService, OfferService, TimeBankService) follow the store the same way.

The port serves TLS (or mutual TLS) when ``MATCHER_TLS_*`` say so (``matcher.tls``); requests
over ``MATCHER_MAX_MESSAGE_BYTES`` are answered by ``matcher.service.interceptors.message_size``.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from concurrent import futures
from dataclasses import dataclass
from types import FrameType

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from matcher.config import MEMORY_STORE, Settings
from matcher.observability.metrics import Metrics, MetricsEndpoint, serve_metrics
from matcher.observability.order_metrics import OrderMetrics, export_order_gauges
from matcher.observability.store_timing import InstrumentedStore
from matcher.observability.tracing import Tracing, setup_tracing
from matcher.registry.store.base import VolunteerStore, open_store
from matcher.registry.view import PoolView
from matcher.service.health import StoreProbe
from matcher.service.interceptors.access import access_interceptor
from matcher.service.interceptors.message_size import MessageLimitInterceptor, grpc_receive_limit
from matcher.service.interceptors.observe import AccessLogInterceptor
from matcher.service.match_service import MatchServicer
from matcher.service.status_service import StatusServicer, StatusSources
from matcher.service.volunteer_service import VolunteerServicer
from matcher.service.wiring import SERVICE_NAMES as ORDER_SERVICE_NAMES
from matcher.service.wiring import OrderServices, add_order_services
from matcher.tls import describe as describe_tls
from matcher.tls import server_credentials
from matcher.v1 import (
    match_pb2,
    match_pb2_grpc,
    status_pb2,
    status_pb2_grpc,
    volunteers_pb2,
    volunteers_pb2_grpc,
)

logger = logging.getLogger(__name__)

SERVICE_NAME: str = match_pb2.DESCRIPTOR.services_by_name["MatchService"].full_name
VOLUNTEER_SERVICE_NAME: str = volunteers_pb2.DESCRIPTOR.services_by_name[
    "VolunteerService"
].full_name
HEALTH_SERVICE_NAME: str = health_pb2.DESCRIPTOR.services_by_name["Health"].full_name
STATUS_SERVICE_NAME: str = status_pb2.DESCRIPTOR.services_by_name["StatusService"].full_name


@dataclass(frozen=True)
class MatcherServer:
    """A bound server and what runs beside it: the store, the pool view and the store probe."""

    server: grpc.Server
    port: int
    health: health.HealthServicer
    store: VolunteerStore
    pool_view: PoolView
    probe: StoreProbe
    metrics: Metrics
    tracing: Tracing
    settings: Settings
    endpoint: list[MetricsEndpoint]  # the /metrics endpoint once started (0 or 1 entries)
    orders: OrderServices | None = None  # the order lifecycle (orders, dispatch, time bank)

    @property
    def metrics_port(self) -> int:
        """Port of the /metrics endpoint (0 when it is off or not started)."""
        return self.endpoint[0].port if self.endpoint else 0

    def start(self) -> None:
        """Start serving, probing the store and (unless off) the /metrics endpoint. A metrics
        port that cannot be bound is logged as an error; the gRPC service still starts."""
        self.server.start()
        self.probe.start()
        if self.orders is not None:
            self.orders.start()
        if self.settings.metrics_port >= 0:
            try:
                self.endpoint.append(
                    serve_metrics(self.metrics, self.settings.host, self.settings.metrics_port)
                )
            except OSError as error:
                logger.error(
                    "metrics endpoint not started on %s: %s",
                    bind_address(self.settings.host, self.settings.metrics_port),
                    error,
                )

    def _close(self) -> None:
        if self.orders is not None:
            self.orders.stop()
        self.probe.stop()
        for endpoint in self.endpoint:
            endpoint.stop()
        self.endpoint.clear()
        self.tracing.shutdown()
        self.store.close()

    def drain(self, grace: float) -> threading.Event:
        """Begin a graceful stop: report NOT_SERVING everywhere, give in-flight calls
        ``grace`` seconds, then stop probing and close the store. Returns the event set once
        all of that is done."""
        self.health.enter_graceful_shutdown()
        if self.orders is not None:
            self.orders.dispatcher.stop()  # no new rounds; offer streams end
        stopped: threading.Event = self.server.stop(grace)
        done = threading.Event()

        def close_when_stopped() -> None:
            stopped.wait()
            self._close()
            done.set()

        threading.Thread(target=close_when_stopped, name="matcher-drain", daemon=True).start()
        return done

    def stop(self) -> None:
        """Stop at once (cancelling calls), stop probing and close the store."""
        self.server.stop(None).wait()
        self._close()


def create_server(
    settings: Settings,
    tracing: Tracing | None = None,
    *,
    clock: Callable[[], float] = time.time,
) -> MatcherServer:
    """A bound, not yet started server over the store ``settings.store`` names (``tracing``
    overrides the one ``settings.tracing`` sets up; tests pass one with their exporter;
    ``clock`` is the order lifecycle's time, which tests and ``matcher simulate`` move)."""
    metrics = Metrics()
    store: VolunteerStore = InstrumentedStore(
        open_store(settings.store, prefix=settings.redis_prefix), metrics
    )
    if settings.store == MEMORY_STORE:
        logger.warning(
            "registry is in memory: data is not kept across restarts "
            "(set MATCHER_STORE=redis://host:port/db to keep it)"
        )
    tracing = tracing or setup_tracing(settings.tracing, settings.otlp_endpoint)
    try:
        return _build(settings, store, metrics, tracing, clock)
    except BaseException:
        store.close()
        raise


def _build(
    settings: Settings,
    store: VolunteerStore,
    metrics: Metrics,
    tracing: Tracing,
    clock: Callable[[], float] = time.time,
) -> MatcherServer:
    options = [
        # a little more than the limit, so that MessageLimitInterceptor answers it by name
        ("grpc.max_receive_message_length", grpc_receive_limit(settings.max_message_bytes)),
        ("grpc.max_send_message_length", settings.max_message_bytes),
    ]
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=settings.workers, thread_name_prefix="matcher"),
        interceptors=[
            AccessLogInterceptor(metrics, tracing),
            access_interceptor(settings),  # inside the access log: it logs the final code
            MessageLimitInterceptor(settings.max_message_bytes),
        ],
        options=options,
    )
    pool_view = PoolView(store)
    match_servicer = MatchServicer(settings, pool_view, metrics, tracing)
    match_pb2_grpc.add_MatchServiceServicer_to_server(match_servicer, server)  # type: ignore[no-untyped-call]
    registry = VolunteerServicer(settings, pool_view)
    volunteers_pb2_grpc.add_VolunteerServiceServicer_to_server(registry, server)  # type: ignore[no-untyped-call]
    orders = add_order_services(server, settings, pool_view, clock, OrderMetrics(metrics))
    export_order_gauges(metrics, orders.store, clock)
    health_servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    for name in ("", SERVICE_NAME, VOLUNTEER_SERVICE_NAME, *ORDER_SERVICE_NAMES):
        health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    reflection.enable_server_reflection(
        (
            SERVICE_NAME,
            VOLUNTEER_SERVICE_NAME,
            STATUS_SERVICE_NAME,
            *ORDER_SERVICE_NAMES,
            HEALTH_SERVICE_NAME,
            reflection.SERVICE_NAME,
        ),
        server,
    )
    credentials = server_credentials(settings)  # ConfigError naming an unreadable file
    address = bind_address(settings.host, settings.port)
    if credentials is None:
        port = server.add_insecure_port(address)
    else:
        port = server.add_secure_port(address, credentials)
    if port == 0:  # older grpcio reports a failed bind this way instead of raising
        raise RuntimeError(f"could not bind {bind_address(settings.host, settings.port)}")
    probe = StoreProbe(
        store,
        health_servicer,
        [VOLUNTEER_SERVICE_NAME, *ORDER_SERVICE_NAMES],
        settings.health_interval_seconds,
        on_reachable=pool_view.current,
    )
    app = MatcherServer(
        server,
        port,
        health_servicer,
        store,
        pool_view,
        probe,
        metrics,
        tracing,
        settings,
        [],
        orders,
    )
    sources = StatusSources(
        metrics=metrics,
        started=time.time(),
        store_description=store.description,
        store_reachable=lambda: probe.reachable is True,
        pool_state=lambda: pool_view.last,
        view_checked_ms=lambda: pool_view.checked_ms,
        metrics_port=lambda: app.metrics_port,
    )
    status_pb2_grpc.add_StatusServiceServicer_to_server(StatusServicer(sources), server)  # type: ignore[no-untyped-call]
    _export_registry_gauges(metrics, pool_view, probe)
    return app


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


def bind_address(host: str, port: int) -> str:
    """``host:port``, with an IPv6 literal in brackets."""
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"{host}:{port}"


def serve(settings: Settings) -> None:
    """Run the server until SIGTERM or SIGINT, then drain it (call from the main thread)."""
    app = create_server(settings)
    app.start()
    logger.info(
        "matcher listening on %s, %s (%d workers, store=%s)",
        bind_address(settings.host, app.port),
        describe_tls(settings),
        settings.workers,
        app.store.description,
    )
    if app.metrics_port:
        logger.info("metrics at http://%s/metrics", bind_address(settings.host, app.metrics_port))
    drained: list[threading.Event] = []

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        logger.info(
            "received %s; draining for up to %gs",
            signal.Signals(signum).name,
            settings.grace_seconds,
        )
        drained.append(app.drain(settings.grace_seconds))

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, on_signal)
    app.server.wait_for_termination()
    for event in drained:
        event.wait(settings.grace_seconds + 5)
    logger.info("matcher stopped")
