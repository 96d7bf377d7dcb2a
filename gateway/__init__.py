"""HTTP/JSON gateway in front of the matcher's gRPC server.

The protos are the one source of truth: routes come from each rpc's ``google.api.http``
option, bodies use the canonical proto3 JSON mapping, and the OpenAPI document is generated
from the same descriptors, with the proto comments as descriptions.

=================== ===========================================================================
module              what it does
=================== ===========================================================================
``http_rules``      reads the HttpRules into bindings; path templates; the route table
``transcode``       JSON body + query + path -> request message; response message -> JSON
``forwarding``      headers forwarded as metadata; the ``grpc-timeout`` deadline
``calls``           one HTTP request -> one ``grpc.aio`` call; disconnects cancel; SSE streams
``errors``          the one gRPC status -> HTTP status table; the JSON error body
``sse``             Server-Sent Events of server streams (sent by ``sse-starlette``)
``openapi``         the OpenAPI 3.0 document (``openapi_schemas``: message schemas,
                    ``comments``: proto comments and examples, from the shipped descriptor set)
``docs_page``       ``/docs``: Swagger UI (``swagger-ui-bundle``'s files, served offline)
``app``             the ASGI app (Starlette): routes, ``/openapi.json``, ``/docs``, ``/healthz``
``config``          ``GatewaySettings`` from MATCHER_GATEWAY_* variables
``serving``         uvicorn: foreground (``run_gateway_forever``) or a thread (``GatewayThread``)
``__main__``        ``python -m gateway``; ``add_gateway_parser`` / ``run_gateway`` for the CLI
=================== ===========================================================================

Errors: a ``gateway.errors.GatewayError`` is an error answer (HTTP status, gRPC code name,
message, details); gRPC failures become one in ``errors.from_rpc_error``, bad input in
``transcode`` / ``calls``. Nothing else is raised to the ASGI server; a bug is a JSON 500.
"""
