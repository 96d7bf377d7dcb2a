"""The gRPC server: wiring only (servicer, health, reflection, interceptor, signals).

``create_server(settings)`` builds and binds a server without starting it (tests use port 0);
``serve(settings)`` runs one until SIGTERM or SIGINT, then drains: health goes NOT_SERVING so
load balancers stop sending, and in-flight calls get ``settings.grace_seconds`` to finish.
"""

from __future__ import annotations

import logging
import signal
import threading
from concurrent import futures
from types import FrameType

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from matcher.config import Settings
from matcher.convert import match_request_to_domain, match_result_to_proto
from matcher.core.pool_index import PoolIndex
from matcher.core.solve import solve_match
from matcher.grpc_errors import translate_errors
from matcher.interceptors import AccessLogInterceptor
from matcher.v1 import match_pb2, match_pb2_grpc

logger = logging.getLogger(__name__)

SERVICE_NAME: str = match_pb2.DESCRIPTOR.services_by_name["MatchService"].full_name
HEALTH_SERVICE_NAME: str = health_pb2.DESCRIPTOR.services_by_name["Health"].full_name


class MatchServicer(match_pb2_grpc.MatchServiceServicer):
    """MatchService: validate and convert, solve, convert back."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    @translate_errors
    def Match(  # noqa: N802 (the rpc's name)
        self, request: match_pb2.MatchRequest, context: grpc.ServicerContext
    ) -> match_pb2.MatchResponse:
        """Solve one batch; see the proto for the contract."""
        requests, pool, policy = match_request_to_domain(request, self._settings)
        result = solve_match(requests, PoolIndex.build(pool), policy)
        return match_result_to_proto(result, requests, pool)


def create_server(settings: Settings) -> tuple[grpc.Server, int, health.HealthServicer]:
    """A bound, not yet started server; returns it, the bound port and its health servicer."""
    options = [
        ("grpc.max_receive_message_length", settings.max_message_bytes),
        ("grpc.max_send_message_length", settings.max_message_bytes),
    ]
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=settings.workers, thread_name_prefix="matcher"),
        interceptors=[AccessLogInterceptor()],
        options=options,
    )
    add_servicer = match_pb2_grpc.add_MatchServiceServicer_to_server
    add_servicer(MatchServicer(settings), server)  # type: ignore[no-untyped-call]
    health_servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    for name in ("", SERVICE_NAME):
        health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    reflection.enable_server_reflection(
        (SERVICE_NAME, HEALTH_SERVICE_NAME, reflection.SERVICE_NAME), server
    )
    port = server.add_insecure_port(bind_address(settings.host, settings.port))
    if port == 0:  # older grpcio reports a failed bind this way instead of raising
        raise RuntimeError(f"could not bind {bind_address(settings.host, settings.port)}")
    return server, port, health_servicer


def bind_address(host: str, port: int) -> str:
    """``host:port``, with an IPv6 literal in brackets."""
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"{host}:{port}"


def drain(
    server: grpc.Server, health_servicer: health.HealthServicer, grace: float
) -> threading.Event:
    """Begin a graceful stop: report NOT_SERVING everywhere, then give in-flight calls
    ``grace`` seconds. Returns the event set once the server has stopped."""
    health_servicer.enter_graceful_shutdown()
    stopped: threading.Event = server.stop(grace)
    return stopped


def serve(settings: Settings) -> None:
    """Run the server until SIGTERM or SIGINT, then drain it (call from the main thread)."""
    server, port, health_servicer = create_server(settings)
    server.start()
    logger.info(
        "matcher listening on %s (%d workers, store=%s)",
        bind_address(settings.host, port),
        settings.workers,
        settings.store,
    )

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        logger.info(
            "received %s; draining for up to %gs",
            signal.Signals(signum).name,
            settings.grace_seconds,
        )
        drain(server, health_servicer, settings.grace_seconds)

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, on_signal)
    server.wait_for_termination()
    logger.info("matcher stopped")
