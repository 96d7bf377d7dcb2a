"""The one place where ``MatcherError``s become gRPC statuses.

=========================== ===================== =============================================
error                       status code           details
=========================== ===================== =============================================
ValidationError             INVALID_ARGUMENT      google.rpc.BadRequest with field violations
NotFoundError               NOT_FOUND
ConflictError               FAILED_PRECONDITION
InfeasibleError             FAILED_PRECONDITION   google.rpc.ErrorInfo reason INFEASIBLE
LimitExceededError          RESOURCE_EXHAUSTED    google.rpc.ErrorInfo reason LIMIT_EXCEEDED,
                                                  metadata limit / allowed / actual
StoreUnavailableError       UNAVAILABLE
AuthenticationError         UNAUTHENTICATED
PermissionDeniedError       PERMISSION_DENIED
DeadlineExceededError       DEADLINE_EXCEEDED
any other exception         INTERNAL              logged: type and frames only (a bug)
=========================== ===================== =============================================

Servicer methods are wrapped with ``@translate_errors``; clients read the details back with
``grpc_status.rpc_status.from_call(err)``.
"""

from __future__ import annotations

import functools
import logging
import traceback
from collections.abc import Callable
from typing import TypeVar

import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from matcher.errors import (
    AuthenticationError,
    ConflictError,
    DeadlineExceededError,
    InfeasibleError,
    LimitExceededError,
    MatcherError,
    NotFoundError,
    PermissionDeniedError,
    StoreUnavailableError,
    ValidationError,
)

logger = logging.getLogger(__name__)

#: ``ErrorInfo.domain`` of every error this service reports.
ERROR_DOMAIN = "matcher.v1"

_CODES: tuple[tuple[type[MatcherError], int], ...] = (
    (ValidationError, code_pb2.INVALID_ARGUMENT),
    (NotFoundError, code_pb2.NOT_FOUND),
    (ConflictError, code_pb2.FAILED_PRECONDITION),
    (InfeasibleError, code_pb2.FAILED_PRECONDITION),
    (LimitExceededError, code_pb2.RESOURCE_EXHAUSTED),
    (StoreUnavailableError, code_pb2.UNAVAILABLE),
    (AuthenticationError, code_pb2.UNAUTHENTICATED),
    (PermissionDeniedError, code_pb2.PERMISSION_DENIED),
    (DeadlineExceededError, code_pb2.DEADLINE_EXCEEDED),
)

Detail = error_details_pb2.BadRequest | error_details_pb2.ErrorInfo
S = TypeVar("S")
Req = TypeVar("Req")
Resp = TypeVar("Resp")


def to_status_proto(error: MatcherError) -> status_pb2.Status:
    """The ``google.rpc.Status`` (code, message and details) describing ``error``."""
    code = next((c for kind, c in _CODES if isinstance(error, kind)), code_pb2.INTERNAL)
    status = status_pb2.Status(code=code, message=str(error))
    detail = _detail(error)
    if detail is not None:
        packed = any_pb2.Any()
        packed.Pack(detail)
        status.details.append(packed)
    return status


def _detail(
    error: MatcherError,
) -> error_details_pb2.BadRequest | error_details_pb2.ErrorInfo | None:
    if isinstance(error, ValidationError):
        return error_details_pb2.BadRequest(
            field_violations=[
                error_details_pb2.BadRequest.FieldViolation(
                    field=v.field, description=v.description
                )
                for v in error.violations
            ]
        )
    if isinstance(error, LimitExceededError):
        return error_details_pb2.ErrorInfo(
            reason="LIMIT_EXCEEDED",
            domain=ERROR_DOMAIN,
            metadata={
                "limit": error.limit,
                "allowed": str(error.allowed),
                "actual": str(error.actual),
            },
        )
    if isinstance(error, InfeasibleError):
        return error_details_pb2.ErrorInfo(reason="INFEASIBLE", domain=ERROR_DOMAIN)
    return None


def translate_errors(
    method: Callable[[S, Req, grpc.ServicerContext], Resp],
) -> Callable[[S, Req, grpc.ServicerContext], Resp]:
    """Wrap a unary servicer method: a ``MatcherError`` aborts the call with its status; any
    other exception is logged (type and traceback, never the message or payload) and aborts
    with INTERNAL."""

    @functools.wraps(method)
    def wrapper(self: S, request: Req, context: grpc.ServicerContext) -> Resp:
        try:
            return method(self, request, context)
        except MatcherError as error:
            context.abort_with_status(rpc_status.to_status(to_status_proto(error)))
        except Exception as error:
            if call_code(context) not in (None, grpc.StatusCode.OK):
                raise  # the method aborted the call itself
            logger.error(
                "internal error in %s: %s at %s",
                method.__qualname__,
                type(error).__name__,
                _where(error),
            )
            status = status_pb2.Status(code=code_pb2.INTERNAL, message="internal error")
            context.abort_with_status(rpc_status.to_status(status))

    return wrapper


def _where(error: BaseException) -> str:
    """The frames an exception passed through, as ``file:line (function)`` only: no message,
    locals or source text, which could quote personal data."""
    frames = traceback.extract_tb(error.__traceback__)
    return " <- ".join(f"{f.filename}:{f.lineno} ({f.name})" for f in reversed(frames))


def call_code(context: grpc.ServicerContext) -> grpc.StatusCode | None:
    """The status code already set on the call (by ``abort`` or ``set_code``), if any."""
    code: grpc.StatusCode | None = context.code()  # type: ignore[attr-defined]
    return code
