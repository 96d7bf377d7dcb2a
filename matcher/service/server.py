"""The gRPC server: start it, drain it, stop it on a signal.

``create_server(settings)`` opens the stores (``matcher.service.stores``), builds a server
with the interceptor chain (``matcher.service.interceptors``) and every service
(``matcher.service.wiring``), and binds it without starting it (tests use port 0).
``serve(settings)`` runs one until SIGTERM or SIGINT, then drains: health goes NOT_SERVING so
load balancers stop sending, and in-flight calls get ``settings.grace_seconds`` to finish.

The port serves TLS (or mutual TLS) when ``MATCHER_TLS_*`` say so (``matcher.tls``); gRPC
receives a little more than ``MATCHER_MAX_MESSAGE_BYTES`` so that the message-size
interceptor, not gRPC, answers an oversize request, naming the setting.
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
from grpc_health.v1 import health

from matcher.config import Settings
from matcher.observability.metrics import Metrics, MetricsEndpoint, serve_metrics
from matcher.observability.tracing import Tracing, setup_tracing
from matcher.registry.store.base import VolunteerStore
from matcher.service.interceptors import server_interceptors
from matcher.service.interceptors.message_size import grpc_receive_limit
from matcher.service.stores import Stores, open_stores
from matcher.service.wiring import OrderServices, Services, add_services
from matcher.tls import describe as describe_tls
from matcher.tls import server_credentials

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class MatcherServer:
    """A bound server, its stores, and what runs beside it (``Services``, /metrics)."""

    server: grpc.Server
    port: int
    stores: Stores
    services: Services
    metrics: Metrics
    tracing: Tracing
    settings: Settings
    endpoint: list[MetricsEndpoint]  # the /metrics endpoint once started (0 or 1 entries)

    @property
    def health(self) -> health.HealthServicer:
        """The health servicer."""
        return self.services.health

    @property
    def store(self) -> VolunteerStore:
        """The registry store, as the servicers use it (timed for the metrics)."""
        return self.services.pool_view.store

    @property
    def orders(self) -> OrderServices:
        """The order lifecycle: its store, desk and dispatcher."""
        return self.services.orders

    @property
    def metrics_port(self) -> int:
        """Port of the /metrics endpoint (0 when it is off or not started)."""
        return _endpoint_port(self.endpoint)

    def start(self) -> None:
        """Start serving, the services beside it and (unless off) the /metrics endpoint. A
        metrics port that cannot be bound is logged as an error; the gRPC service still starts."""
        self.server.start()
        self.services.start()
        if self.settings.metrics_port < 0:
            return
        host, port = self.settings.host, self.settings.metrics_port
        try:
            self.endpoint.append(serve_metrics(self.metrics, host, port))
        except OSError as error:
            logger.error("metrics endpoint not started on %s: %s", bind_address(host, port), error)

    def _close(self) -> None:
        self.services.stop()
        for endpoint in self.endpoint:
            endpoint.stop()
        self.endpoint.clear()
        self.tracing.shutdown()
        self.stores.close()

    def drain(self, grace: float) -> threading.Event:
        """Begin a graceful stop: report NOT_SERVING everywhere, give in-flight calls
        ``grace`` seconds, then stop probing and close the stores. Returns the event set once
        all of that is done."""
        self.health.enter_graceful_shutdown()
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
        """Stop at once (cancelling calls), stop probing and close the stores."""
        self.server.stop(None).wait()
        self._close()


def _endpoint_port(endpoint: list[MetricsEndpoint]) -> int:
    return endpoint[0].port if endpoint else 0


def create_server(
    settings: Settings,
    tracing: Tracing | None = None,
    *,
    clock: Callable[[], float] = time.time,
) -> MatcherServer:
    """A bound, not yet started server over the stores ``settings.store`` names (``tracing``
    overrides the one ``settings.tracing`` sets up; tests pass one with their exporter;
    ``clock`` is the order lifecycle's time, which tests and ``matcher simulate`` move)."""
    stores = open_stores(settings)
    if stores.in_memory:
        logger.warning(
            "registry is in memory: data is not kept across restarts "
            "(set MATCHER_STORE=redis://host:port/db to keep it)"
        )
    try:
        tracing = tracing or setup_tracing(settings.tracing, settings.otlp_endpoint)
        return _build(settings, stores, tracing, clock)
    except BaseException:
        stores.close()
        raise


def _build(
    settings: Settings, stores: Stores, tracing: Tracing, clock: Callable[[], float]
) -> MatcherServer:
    metrics = Metrics()
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=settings.workers, thread_name_prefix="matcher"),
        interceptors=server_interceptors(settings, metrics, tracing),
        options=[
            # a little more than the limit, so that the message-size interceptor answers it
            ("grpc.max_receive_message_length", grpc_receive_limit(settings.max_message_bytes)),
            ("grpc.max_send_message_length", settings.max_message_bytes),
        ],
    )
    endpoint: list[MetricsEndpoint] = []
    services = add_services(
        server,
        settings,
        stores,
        metrics=metrics,
        tracing=tracing,
        clock=clock,
        metrics_port=lambda: _endpoint_port(endpoint),
    )
    port = _bind(server, settings)
    return MatcherServer(server, port, stores, services, metrics, tracing, settings, endpoint)


def _bind(server: grpc.Server, settings: Settings) -> int:
    """Bind ``MATCHER_HOST:MATCHER_PORT``, over TLS when configured; the port bound."""
    credentials = server_credentials(settings)  # ConfigError naming an unreadable file
    address = bind_address(settings.host, settings.port)
    if credentials is None:
        port = server.add_insecure_port(address)
    else:
        port = server.add_secure_port(address, credentials)
    if port == 0:  # older grpcio reports a failed bind this way instead of raising
        raise RuntimeError(f"could not bind {address}")
    return port


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
