"""The gateway's ASGI app: every bound rpc, plus ``/openapi.json``, ``/docs`` and ``/healthz``.

``create_app(settings)`` reads the ``google.api.http`` bindings of the services (by default
every service in ``matcher.v1``; health and reflection are not exposed), builds the OpenAPI
document once, and opens one ``grpc.aio`` channel to ``settings.grpc_target`` for the app's
lifetime (in the ASGI lifespan, so it lives on the server's event loop).

==================== ======================================================================
path                 answer
==================== ======================================================================
(bound rpc paths)    the rpc's response as JSON, or an error body (``gateway.errors``)
``/openapi.json``    the OpenAPI 3.0 document (``gateway.openapi``), ``servers`` naming the
                     URL it was fetched from
``/docs``            Swagger UI over the document, with try-it-out (``gateway.docs_page``)
``/healthz``         200 when the backend's gRPC health check says SERVING, else 503
``/metrics``         the gateway's Prometheus metrics (``gateway.metrics``)
==================== ======================================================================

Every method reaches the last route, so that 404 and 405 are decided in one place: a path that
no route has is 404; a path that exists with other methods is 405 with an ``Allow`` header
naming them (``gateway.http_rules.RouteTable`` for the rpc paths, ``fixed_path_methods`` for
the others).
"""

from __future__ import annotations

import functools
import importlib
import json
import logging
import pkgutil
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from importlib import metadata
from typing import Any

import grpc
from google.protobuf.descriptor import ServiceDescriptor
from grpc_health.v1 import health_pb2, health_pb2_grpc
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Match, Route
from starlette.types import Receive, Scope, Send

import matcher.v1
from gateway.calls import Transcoder, error_response
from gateway.comments import load_comments
from gateway.config import GatewaySettings, env_name
from gateway.docs_page import asset_routes, docs_page
from gateway.errors import GatewayError
from gateway.http_rules import Binding, bindings_for, method_not_allowed
from gateway.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from gateway.metrics import GatewayMetrics
from gateway.openapi import build_document
from matcher.client import KEEPALIVE_OPTIONS
from matcher.tls import channel_credentials

logger = logging.getLogger(__name__)

TITLE = "volunteer-matcher HTTP/JSON API"
HEALTH_TIMEOUT_SECONDS = 2.0


def default_services() -> list[ServiceDescriptor]:
    """Every service of the ``matcher.v1`` stubs, so a new service is served (and documented)
    as soon as its stubs exist. Health and reflection are not in ``matcher.v1``: not exposed."""
    services: list[ServiceDescriptor] = []
    for module in sorted(pkgutil.iter_modules(matcher.v1.__path__), key=lambda m: m.name):
        if module.name.endswith("_pb2"):
            stubs = importlib.import_module(f"matcher.v1.{module.name}")
            services.extend(stubs.DESCRIPTOR.services_by_name.values())
    return services


def package_version() -> str:
    """The installed package's version ("unknown" from a bare checkout)."""
    try:
        return metadata.version("volunteer-matcher")
    except metadata.PackageNotFoundError:
        return "unknown"


def channel_options(settings: GatewaySettings) -> list[tuple[str, Any]]:
    """Keep-alive as the Python client does, and message limits as large as the server's."""
    return [
        *KEEPALIVE_OPTIONS,
        ("grpc.max_receive_message_length", settings.max_message_bytes),
        ("grpc.max_send_message_length", settings.max_message_bytes),
    ]


def grpc_credentials(settings: GatewaySettings) -> grpc.ChannelCredentials | None:
    """TLS credentials for the channel to the server (None: plaintext); ``ConfigError``
    naming the variable of a file that cannot be read."""
    if not settings.grpc_tls:
        return None
    return channel_credentials(
        settings.grpc_tls_ca_file,
        settings.grpc_tls_cert_file,
        settings.grpc_tls_key_file,
        names=[env_name(f"grpc_tls_{kind}_file") for kind in ("ca", "cert", "key")],
    )


def create_app(
    settings: GatewaySettings, services: Sequence[ServiceDescriptor] | None = None
) -> Starlette:
    """The ASGI app serving ``services`` (default: ``default_services()``)."""
    chosen = list(services) if services is not None else default_services()
    bindings = bindings_for(chosen)
    comments = load_comments({service.file.name for service in chosen})
    document = build_document(bindings, comments, TITLE, package_version())
    metrics = GatewayMetrics()
    credentials = grpc_credentials(settings)  # read at once: a bad file fails at start-up

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        options = channel_options(settings)
        channel = (
            grpc.aio.insecure_channel(settings.grpc_target, options=options)
            if credentials is None
            else grpc.aio.secure_channel(settings.grpc_target, credentials, options=options)
        )
        app.state.transcoder = Transcoder(channel, bindings, settings, metrics)
        app.state.health = health_pb2_grpc.HealthStub(channel)
        logger.info("gateway: %d routes to %s", len(bindings), settings.grpc_target)
        try:
            yield
        finally:
            await channel.close(grace=None)

    @functools.lru_cache(maxsize=16)  # one per base URL the gateway is reached by
    def document_for(base_url: str) -> bytes:
        servers = [{"url": base_url, "description": "this gateway"}]
        return json.dumps(document | {"servers": servers}, ensure_ascii=False).encode()

    async def openapi(request: Request) -> Response:
        base_url = str(request.base_url).rstrip("/")
        return Response(document_for(base_url), media_type="application/json")

    async def metrics_page(_: Request) -> Response:
        return Response(metrics.exposition(), media_type=METRICS_CONTENT_TYPE)

    routes = [
        Route("/openapi.json", openapi, methods=["GET"]),
        Route("/docs", docs_page, methods=["GET"]),
        *asset_routes(),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/metrics", metrics_page, methods=["GET"]),
        Route("/{path:path}", EveryMethod(transcode)),  # 404 / 405 are decided there
    ]
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={HTTPException: http_exception, Exception: internal_error},
    )
    app.state.bindings = bindings
    app.state.document = document  # without ``servers``, which each answer fills in
    app.state.metrics = metrics
    return app


def bound_routes(app: Starlette) -> list[Binding]:
    """The bindings an app serves (for tests and tooling)."""
    bindings: list[Binding] = app.state.bindings
    return bindings


async def transcode(request: Request) -> Response:
    """Any other request: a bound rpc, or a 404 / 405 error."""
    allowed = fixed_path_methods(request)
    if allowed:  # a fixed path (/docs, /healthz, ...) with another method
        return error_response(method_not_allowed(request.method, request.url.path, allowed))
    transcoder: Transcoder = request.app.state.transcoder
    return await transcoder.handle(request)


class EveryMethod:
    """An endpoint as a plain ASGI app: a Route then takes every method (with a function it
    takes GET only, and answers any other with its own 405)."""

    def __init__(self, endpoint: Callable[[Request], Awaitable[Response]]) -> None:
        self.endpoint = endpoint

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = await self.endpoint(Request(scope, receive))
        await response(scope, receive, send)


def fixed_path_methods(request: Request) -> list[str]:
    """The methods of the fixed route whose path is the request's, if any (else [])."""
    for route in request.app.router.routes:
        if isinstance(route, Route) and route.methods:
            match, _ = route.matches(request.scope)
            if match is Match.PARTIAL:  # the path matched, the method did not
                return sorted(route.methods)
    return []


async def healthz(request: Request) -> Response:
    """The gateway is up; the backend's overall health decides 200 or 503."""
    stub = request.app.state.health
    try:
        reply = await stub.Check(
            health_pb2.HealthCheckRequest(service=""), timeout=HEALTH_TIMEOUT_SECONDS
        )
        backend = health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
    except grpc.RpcError as err:
        code = err.code() if callable(getattr(err, "code", None)) else None
        backend = f"UNREACHABLE ({code.name if isinstance(code, grpc.StatusCode) else 'error'})"
    status = 200 if backend == "SERVING" else 503
    return JSONResponse({"gateway": "SERVING", "backend": backend}, status_code=status)


async def http_exception(_: Request, exc: Exception) -> Response:
    """Starlette's own 404 / 405 (on the fixed paths) in the error format."""
    assert isinstance(exc, HTTPException)
    code = grpc.StatusCode.NOT_FOUND if exc.status_code == 404 else grpc.StatusCode.UNIMPLEMENTED
    error = GatewayError(exc.status_code, code, exc.detail, headers=exc.headers)
    return error_response(error)


async def internal_error(_: Request, exc: Exception) -> Response:
    """A bug in the gateway: 500 in the error format; the type only is logged."""
    logger.error("gateway bug: %s", type(exc).__name__)
    return error_response(GatewayError(500, grpc.StatusCode.INTERNAL, "internal gateway error"))
