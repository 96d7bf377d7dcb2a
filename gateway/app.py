"""The gateway's ASGI app: every bound rpc, plus ``/openapi.json``, ``/docs`` and ``/healthz``.

``create_app(settings)`` reads the ``google.api.http`` bindings of the services (by default
every service in ``matcher.v1``; health and reflection are not exposed), builds the OpenAPI
document once, and opens one ``grpc.aio`` channel to ``settings.grpc_target`` for the app's
lifetime (in the ASGI lifespan, so it lives on the server's event loop).

==================== ======================================================================
path                 answer
==================== ======================================================================
(bound rpc paths)    the rpc's response as JSON, or an error body (``gateway.errors``)
``/openapi.json``    the OpenAPI 3.0 document (``gateway.openapi``)
``/docs``            a page that renders the document for people, no network needed
``/healthz``         200 when the backend's gRPC health check says SERVING, else 503
``/metrics``         the gateway's Prometheus metrics (``gateway.metrics``)
==================== ======================================================================
"""

from __future__ import annotations

import importlib
import json
import logging
import pkgutil
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from importlib import metadata
from typing import Any

import grpc
from google.protobuf.descriptor import ServiceDescriptor
from grpc_health.v1 import health_pb2, health_pb2_grpc
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

import matcher.v1
from gateway.calls import Transcoder, error_response
from gateway.comments import load_comments
from gateway.config import GatewaySettings, env_name
from gateway.docs_page import DOCS_HTML
from gateway.errors import GatewayError, gateway_error
from gateway.http_rules import Binding, bindings_for
from gateway.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from gateway.metrics import GatewayMetrics
from gateway.openapi import build_document
from matcher.client import KEEPALIVE_OPTIONS
from matcher.tls import channel_credentials

logger = logging.getLogger(__name__)

TITLE = "volunteer-matcher HTTP/JSON API"
HTTP_METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]
HEALTH_TIMEOUT_SECONDS = 2.0
FIXED_PATHS = ("/openapi.json", "/docs", "/healthz", "/metrics")


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
    document_bytes = json.dumps(document, ensure_ascii=False).encode()
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

    async def openapi(_: Request) -> Response:
        return Response(document_bytes, media_type="application/json")

    async def docs(_: Request) -> Response:
        return HTMLResponse(DOCS_HTML)

    async def metrics_page(_: Request) -> Response:
        return Response(metrics.exposition(), media_type=METRICS_CONTENT_TYPE)

    routes = [
        Route("/openapi.json", openapi, methods=["GET"]),
        Route("/docs", docs, methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/metrics", metrics_page, methods=["GET"]),
        Route("/{path:path}", transcode, methods=HTTP_METHODS),
    ]
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={HTTPException: http_exception, Exception: internal_error},
    )
    app.state.bindings = bindings
    app.state.metrics = metrics
    return app


def bound_routes(app: Starlette) -> list[Binding]:
    """The bindings an app serves (for tests and tooling)."""
    bindings: list[Binding] = app.state.bindings
    return bindings


async def transcode(request: Request) -> Response:
    """Any other request: a bound rpc, or a 404 / 405 error."""
    if request.url.path in FIXED_PATHS:  # a fixed path, with a method other than GET
        return error_response(
            gateway_error(
                405,
                grpc.StatusCode.UNIMPLEMENTED,
                f"method {request.method} is not allowed on {request.url.path}; allowed: GET",
                "METHOD_NOT_ALLOWED",
                headers={"Allow": "GET"},
            )
        )
    transcoder: Transcoder = request.app.state.transcoder
    return await transcoder.handle(request)


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
