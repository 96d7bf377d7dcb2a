"""The one place where gRPC statuses become HTTP answers, plus the gateway's own errors.

Every error answer has one shape, Google's JSON error format::

    {"error": {"code": 400,                       # the HTTP status
               "status": "INVALID_ARGUMENT",      # the gRPC status code's name
               "message": "1 invalid field(s): requests[0].id: must not be empty",
               "details": [{"@type": "type.googleapis.com/google.rpc.BadRequest",
                            "fieldViolations": [{"field": "requests[0].id",
                                                 "description": "must not be empty"}]}]}}

``details`` are the ``google.rpc.Status`` details the server attached (``BadRequest``,
``ErrorInfo``), in the canonical proto3 JSON mapping.

``HTTP_STATUS`` maps each gRPC code to HTTP as ``google.rpc.Code`` documents it. Errors the
gateway finds itself, before any call (bad JSON, unknown fields, oversize bodies, unknown paths),
are ``GatewayError``\\ s: they carry their own HTTP status and the nearest gRPC code.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import grpc
from google.protobuf import any_pb2, json_format
from google.protobuf.message import DecodeError
from google.rpc import error_details_pb2, status_pb2

#: Trailing metadata key under which gRPC carries the serialized ``google.rpc.Status``.
STATUS_DETAILS_KEY = "grpc-status-details-bin"
#: Domain of the ``ErrorInfo`` details the gateway itself attaches.
GATEWAY_DOMAIN = "gateway.matcher.v1"

#: gRPC status -> HTTP status, as documented on ``google.rpc.Code``.
HTTP_STATUS: Mapping[grpc.StatusCode, int] = {
    grpc.StatusCode.OK: 200,
    grpc.StatusCode.CANCELLED: 499,
    grpc.StatusCode.UNKNOWN: 500,
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.FAILED_PRECONDITION: 400,
    grpc.StatusCode.ABORTED: 409,
    grpc.StatusCode.OUT_OF_RANGE: 400,
    grpc.StatusCode.UNIMPLEMENTED: 501,
    grpc.StatusCode.INTERNAL: 500,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DATA_LOSS: 500,
    grpc.StatusCode.UNAUTHENTICATED: 401,
}

JsonObject = dict[str, Any]


class GatewayError(Exception):
    """An error answer the gateway gives without (or instead of) the backend's."""

    def __init__(
        self,
        http_status: int,
        code: grpc.StatusCode,
        message: str,
        details: Sequence[JsonObject] = (),
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.http_status = http_status
        self.code = code
        self.message = message
        self.details = tuple(details)
        self.headers = dict(headers or {})

    def body(self) -> JsonObject:
        """The JSON error body."""
        return error_body(self.http_status, self.code, self.message, self.details)


def error_body(
    http_status: int, code: grpc.StatusCode, message: str, details: Sequence[JsonObject] = ()
) -> JsonObject:
    """``{"error": {"code", "status", "message", "details"}}``."""
    return {
        "error": {
            "code": http_status,
            "status": code.name,
            "message": message,
            "details": list(details),
        }
    }


def bad_request(message: str, violations: Sequence[tuple[str, str]] = ()) -> GatewayError:
    """400 INVALID_ARGUMENT, with a ``google.rpc.BadRequest`` detail when fields are named."""
    details: list[JsonObject] = []
    if violations:
        bad = error_details_pb2.BadRequest(
            field_violations=[
                error_details_pb2.BadRequest.FieldViolation(field=f, description=d)
                for f, d in violations
            ]
        )
        details.append(_detail_json(bad))
    return GatewayError(400, grpc.StatusCode.INVALID_ARGUMENT, message, details)


def gateway_error(
    http_status: int,
    code: grpc.StatusCode,
    message: str,
    reason: str,
    metadata: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
) -> GatewayError:
    """An error with a ``google.rpc.ErrorInfo`` detail naming ``reason`` (e.g. BODY_TOO_LARGE)."""
    info = error_details_pb2.ErrorInfo(reason=reason, domain=GATEWAY_DOMAIN, metadata=metadata)
    return GatewayError(http_status, code, message, [_detail_json(info)], headers)


def from_rpc_error(error: grpc.RpcError) -> GatewayError:
    """The HTTP answer for a failed call: status from the table, details from the trailers."""
    code = _call_code(error)
    message = _call_details(error)
    details: list[JsonObject] = []
    status = _status_proto(error)
    if status is not None:
        message = status.message or message
        details = [_any_json(d) for d in status.details]
    return GatewayError(HTTP_STATUS.get(code, 500), code, message, details)


def _call_code(error: grpc.RpcError) -> grpc.StatusCode:
    code = getattr(error, "code", None)
    value = code() if callable(code) else None
    return value if isinstance(value, grpc.StatusCode) else grpc.StatusCode.UNKNOWN


def _call_details(error: grpc.RpcError) -> str:
    details = getattr(error, "details", None)
    value = details() if callable(details) else None
    return value if isinstance(value, str) else ""


def _status_proto(error: grpc.RpcError) -> status_pb2.Status | None:
    """The ``google.rpc.Status`` in the trailing metadata, if any (and parseable)."""
    trailing = getattr(error, "trailing_metadata", None)
    metadata = trailing() if callable(trailing) else None
    for key, value in metadata or ():
        if key == STATUS_DETAILS_KEY and isinstance(value, bytes):
            try:
                return status_pb2.Status.FromString(value)
            except DecodeError:  # a corrupt trailer must not turn an error into a crash
                return None
    return None


def _any_json(detail: Any) -> JsonObject:
    """One packed detail as proto3 JSON; an unknown type keeps only its ``@type``."""
    try:
        return json_format.MessageToDict(detail)
    except (TypeError, KeyError, json_format.Error):
        return {"@type": detail.type_url}


def _detail_json(message: Any) -> JsonObject:
    packed = any_pb2.Any()
    packed.Pack(message)
    return _any_json(packed)
