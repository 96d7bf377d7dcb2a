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

The status interceptor (``matcher.service.interceptors.status``) applies this table to every
call that raises; clients read the details back with ``grpc_status.rpc_status.from_call(err)``.
"""

from __future__ import annotations

import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2

from matcher import errors
from matcher.errors import MatcherError

#: ``ErrorInfo.domain`` of every error this service reports.
ERROR_DOMAIN = "matcher.v1"

_CODES: tuple[tuple[type[MatcherError], int], ...] = (
    (errors.ValidationError, code_pb2.INVALID_ARGUMENT),
    (errors.NotFoundError, code_pb2.NOT_FOUND),
    (errors.ConflictError, code_pb2.FAILED_PRECONDITION),
    (errors.InfeasibleError, code_pb2.FAILED_PRECONDITION),
    (errors.LimitExceededError, code_pb2.RESOURCE_EXHAUSTED),
    (errors.StoreUnavailableError, code_pb2.UNAVAILABLE),
    (errors.AuthenticationError, code_pb2.UNAUTHENTICATED),
    (errors.PermissionDeniedError, code_pb2.PERMISSION_DENIED),
    (errors.DeadlineExceededError, code_pb2.DEADLINE_EXCEEDED),
)


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
    if isinstance(error, errors.ValidationError):
        return error_details_pb2.BadRequest(
            field_violations=[
                error_details_pb2.BadRequest.FieldViolation(
                    field=v.field, description=v.description
                )
                for v in error.violations
            ]
        )
    if isinstance(error, errors.LimitExceededError):
        return error_details_pb2.ErrorInfo(
            reason="LIMIT_EXCEEDED",
            domain=ERROR_DOMAIN,
            metadata={
                "limit": error.limit,
                "allowed": str(error.allowed),
                "actual": str(error.actual),
            },
        )
    if isinstance(error, errors.InfeasibleError):
        return error_details_pb2.ErrorInfo(reason="INFEASIBLE", domain=ERROR_DOMAIN)
    return None


def call_code(context: grpc.ServicerContext) -> grpc.StatusCode | None:
    """The status code already set on the call (by ``abort`` or ``set_code``), if any."""
    code: grpc.StatusCode | None = context.code()  # type: ignore[attr-defined]
    return code
