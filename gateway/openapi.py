"""The OpenAPI 3.0 document, generated from the same bindings the gateway routes by.

Paths and methods come from the ``google.api.http`` rules, parameters from the path variables
and (for bindings without a ``"*"`` body) the remaining request fields as query parameters,
schemas from the message descriptors (``gateway.openapi_schemas``), and every description from
the proto comments (``gateway.comments``). Each operation answers its response message with
200, or the ``Error`` body (``gateway.errors``) with the status of the table. A request body
carries the example its message's comment ends with (``Example ...:`` and JSON), so Swagger UI
offers a real request to try out, not ``{}``.

Every operation requires the API key (``securitySchemes``: ``authorization: Bearer <key>``,
which the gateway forwards to the server as gRPC metadata; a server without keys configured
ignores it), and ``servers`` names the gateway itself (``app`` sets the URL the document was
fetched from).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor

from gateway import errors, forwarding, sse
from gateway.comments import split_example
from gateway.http_rules import Binding, resolve_field
from gateway.openapi_schemas import REF_PREFIX, WELL_KNOWN, SchemaBuilder

JsonObject = dict[str, Any]
OPENAPI_VERSION = "3.0.3"
_MAX_QUERY_DEPTH = 3
#: The security scheme every operation requires: the server's API keys, as a bearer token.
SECURITY_SCHEME = "ApiKey"
API_KEY_SCHEME: JsonObject = {
    "type": "http",
    "scheme": "bearer",
    "bearerFormat": "API key",
    "description": "An API key of the matcher server (MATCHER_API_KEYS_FILE), sent as "
    "`Authorization: Bearer <key>` and forwarded as gRPC metadata.",
}

API_NOTES = f"""\
HTTP/JSON gateway in front of the gRPC API: every rpc below is the gRPC method it names,
reached at the path its `google.api.http` option declares.

- **JSON**: the canonical proto3 JSON mapping: lowerCamelCase names, 64-bit integers as
  strings, timestamps as RFC 3339 strings, enums by name. Responses include fields at their
  default values. On input, proto field names, `null` (the default) and numbers as strings
  are accepted too, as the mapping allows; unknown fields are rejected (400).
- **Errors**: `{{"error": {{"code", "status", "message", "details"}}}}`; `status` is the gRPC
  code, `code` the HTTP status it maps to (as documented on `google.rpc.Code`), `details` the
  `google.rpc.BadRequest` field violations or `google.rpc.ErrorInfo` of the server.
- **Deadlines**: send `{forwarding.TIMEOUT_HEADER}: 5S` (gRPC's format: digits and a unit
  H, M, S, m, u, n); without it a call gets the gateway's default. Closing the connection
  cancels the call.
- **API keys**: send `Authorization: Bearer <key>` (the **Authorize** button of `/docs`);
  the gateway forwards it to the server, which answers 401 UNAUTHENTICATED without a valid
  key and 403 PERMISSION_DENIED when the key's role may not call the rpc. A server without
  keys configured (development mode) lets every call through.
- **Metadata**: {", ".join(f"`{h}`" for h in forwarding.FORWARDED_HEADERS)} are forwarded.
- **Streams**: server-streaming rpcs answer `{sse.MEDIA_TYPE}` (Server-Sent Events), one
  `data:` line of JSON per message; a failure mid-stream is a last `event: error`.
"""


def build_document(
    bindings: Sequence[Binding],
    comments: Mapping[str, str],
    title: str,
    version: str,
    server_url: str = "/",
) -> JsonObject:
    """The whole document as a JSON-ready dict; ``server_url`` is the gateway's base URL
    (the default ``/`` is relative: the host that served the document)."""
    schemas = SchemaBuilder(comments)
    paths: dict[str, JsonObject] = {}
    seen: dict[str, int] = {}
    for binding in bindings:
        op_id = f"{binding.method.containing_service.name}_{binding.method.name}"
        seen[op_id] = seen.get(op_id, 0) + 1
        if seen[op_id] > 1:
            op_id = f"{op_id}_{seen[op_id] - 1}"
        operation = _operation(binding, op_id, schemas, comments)
        paths.setdefault(binding.template.openapi_path, {})[binding.http_method.lower()] = operation
    schemas.components["Error"] = _error_schema()
    services = list(
        {
            b.method.containing_service.full_name: b.method.containing_service for b in bindings
        }.values()
    )  # in the order of the bindings
    return {
        "openapi": OPENAPI_VERSION,
        "info": {"title": title, "version": version, "description": API_NOTES},
        "tags": [
            {"name": s.name, "description": comments.get(s.full_name, s.full_name)}
            for s in services
        ],
        "servers": [{"url": server_url, "description": "this gateway"}],
        "security": [{SECURITY_SCHEME: []}],
        "paths": paths,
        "components": {
            "schemas": schemas.components,
            "securitySchemes": {SECURITY_SCHEME: API_KEY_SCHEME},
        },
    }


def _operation(
    binding: Binding, op_id: str, schemas: SchemaBuilder, comments: Mapping[str, str]
) -> JsonObject:
    method = binding.method
    text = comments.get(method.full_name, "")
    rpc = f"gRPC: `{method.containing_service.full_name}/{method.name}`."
    operation: JsonObject = {
        "operationId": op_id,
        "tags": [method.containing_service.name],
        "summary": _first_sentence(text) or method.name,
        "description": f"{text}\n\n{rpc}".strip(),
        "parameters": _parameters(binding, schemas),
        "responses": {
            "200": _success(binding, schemas),
            "default": {
                "description": "An error; `error.status` is the gRPC code.",
                "content": {"application/json": {"schema": {"$ref": REF_PREFIX + "Error"}}},
            },
        },
    }
    body = _request_body(binding, schemas)
    if body:
        operation["requestBody"] = body
    return operation


def _first_sentence(text: str) -> str:
    """The comment's first sentence, on one line."""
    paragraph = text.split("\n\n")[0].replace("\n", " ")
    head, dot, _ = paragraph.partition(". ")
    return head + dot.strip() if dot else paragraph


def _parameters(binding: Binding, schemas: SchemaBuilder) -> list[JsonObject]:
    request = binding.method.input_type
    params: list[JsonObject] = []
    for variable in binding.template.variables:
        field = resolve_field(request, variable.split("."))
        assert field is not None  # checked when the binding was made
        params.append(_param(variable, "path", schemas.field(field), required=True))
    if binding.body != "*":
        taken = {*binding.template.variables, binding.body}
        params.extend(_query_params(request, "", "", taken, schemas, 0))
    return params


def _query_params(
    message: Descriptor,
    json_prefix: str,
    proto_prefix: str,
    taken: set[str],
    schemas: SchemaBuilder,
    depth: int,
) -> Iterable[JsonObject]:
    """One parameter per scalar (or repeated scalar) field not bound by path or body;
    message fields expand to dotted names. Maps and repeated messages cannot be queried."""
    for field in message.fields:
        proto_name = proto_prefix + field.name
        if proto_name in taken or _is_map(field):
            continue
        sub = field.message_type
        if sub is not None and sub.full_name not in WELL_KNOWN:
            if not field.is_repeated and depth < _MAX_QUERY_DEPTH:
                prefix = json_prefix + field.json_name + "."
                yield from _query_params(sub, prefix, proto_name + ".", taken, schemas, depth + 1)
            continue
        yield _param(json_prefix + field.json_name, "query", schemas.field(field), required=False)


def _is_map(field: FieldDescriptor) -> bool:
    return field.message_type is not None and field.message_type.GetOptions().map_entry


def _param(name: str, where: str, schema: JsonObject, *, required: bool) -> JsonObject:
    description = schema.pop("description", "")
    if list(schema) == ["allOf"]:
        schema = schema["allOf"][0]
    param: JsonObject = {"name": name, "in": where, "required": required, "schema": schema}
    if description:
        param["description"] = description
    if schema.get("type") == "array":
        param["style"], param["explode"] = "form", True
    return param


def _request_body(binding: Binding, schemas: SchemaBuilder) -> JsonObject | None:
    if not binding.body:
        return None
    request = binding.method.input_type
    media: JsonObject
    if binding.body == "*":
        media = {"schema": schemas.message(request)}
        example = _example(binding, schemas.comments)
        if example is not None:
            media["example"] = example
    else:
        media = {"schema": schemas.field(request.fields_by_name[binding.body], describe=False)}
    return {"required": False, "content": {"application/json": media}}


def _example(binding: Binding, comments: Mapping[str, str]) -> Any:
    """The request's example body: from its comment, else ``{}`` when the path sets every
    field (AcceptOffer), else none."""
    request = binding.method.input_type
    _, example = split_example(comments.get(request.full_name, ""))
    if example is None and {f.name for f in request.fields} <= set(binding.template.variables):
        return {}
    return example


def _success(binding: Binding, schemas: SchemaBuilder) -> JsonObject:
    response = binding.method.output_type
    if binding.response_body:
        schema = schemas.field(response.fields_by_name[binding.response_body], describe=False)
    else:
        schema = schemas.message(response)
    if binding.server_streaming:
        return {
            "description": f"Server-Sent Events: each event's `data` is one {response.name} "
            "as JSON; a failure after the first event is a last `event: error` event.",
            "content": {sse.MEDIA_TYPE: {"schema": {"type": "string"}}},
            "x-event-data": schema,
        }
    return {"description": response.name, "content": {"application/json": {"schema": schema}}}


def _error_schema() -> JsonObject:
    return {
        "type": "object",
        "description": "Every error answer (Google's JSON error format).",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "status", "message", "details"],
                "properties": {
                    "code": {"type": "integer", "description": "The HTTP status."},
                    "status": {
                        "type": "string",
                        "enum": [code.name for code in errors.HTTP_STATUS],
                        "description": "The gRPC status code's name.",
                    },
                    "message": {"type": "string"},
                    "details": {
                        "type": "array",
                        "description": "google.rpc.BadRequest, google.rpc.ErrorInfo, ...",
                        "items": dict(WELL_KNOWN["google.protobuf.Any"]),
                    },
                },
            }
        },
    }
