"""The status interceptor, second in the chain: whatever is raised below it ends the call with a
proper status, so no servicer and no other interceptor aborts a call by hand.

* a ``MatcherError`` (from the access, size and decode checks or a servicer) ends the call with
  the status ``matcher.service.errors`` maps it to, details included;
* any other exception is a bug: it is logged as its type and the frames it passed through
  (never its message, locals or the payload, which could quote personal data) and the call
  ends INTERNAL "internal error";
* a call the servicer aborted itself (``context.abort``) keeps its status.

Streams are covered too: an error after some responses ends the stream the same way.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, NoReturn

import grpc
from google.rpc import code_pb2, status_pb2
from grpc_status import rpc_status

from matcher.errors import MatcherError
from matcher.service.errors import call_code, to_status_proto
from matcher.service.interceptors import handlers

if TYPE_CHECKING:
    from matcher.service.interceptors.handlers import Behaviour, Handler, StreamBehaviour

logger = logging.getLogger(__name__)

INTERNAL = status_pb2.Status(code=code_pb2.INTERNAL, message="internal error")


class StatusInterceptor(handlers.HandlerInterceptor):
    """Ends every call that raised with the status its error maps to (INTERNAL for a bug)."""

    def rewrite(self, method: str, handler: Handler) -> Handler:
        return handlers.wrap_handler(
            handler, lambda behaviour: _unary(method, behaviour), lambda b: _stream(method, b)
        )


def _unary(method: str, behaviour: Behaviour) -> Behaviour:
    def call(request: Any, context: grpc.ServicerContext) -> Any:
        try:
            return behaviour(request, context)
        except Exception as error:
            abort(method, context, error)

    return call


def _stream(method: str, behaviour: StreamBehaviour) -> StreamBehaviour:
    def call(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
        try:
            yield from behaviour(request, context)
        except Exception as error:
            abort(method, context, error)

    return call


def abort(method: str, context: grpc.ServicerContext, error: Exception) -> NoReturn:
    """End the call ``error`` interrupted, as the module docstring says."""
    if isinstance(error, MatcherError):
        context.abort_with_status(rpc_status.to_status(to_status_proto(error)))
    if call_code(context) not in (None, grpc.StatusCode.OK):
        raise error  # the servicer aborted the call itself
    logger.error("internal error in %s: %s at %s", method, type(error).__name__, _where(error))
    context.abort_with_status(rpc_status.to_status(INTERNAL))


def _where(error: BaseException) -> str:
    """The frames an exception passed through, as ``file:line (function)`` only: no message,
    locals or source text, which could quote personal data."""
    frames = traceback.extract_tb(error.__traceback__)
    return " <- ".join(f"{f.filename}:{f.lineno} ({f.name})" for f in reversed(frames))
