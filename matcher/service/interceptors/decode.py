"""The decode interceptor, innermost in the chain: request bytes that are not a message of the
rpc's request type (a string field of invalid UTF-8, a stray byte, a message cut short) are
INVALID_ARGUMENT like any other bad input, "request is not a valid matcher.v1.X message",
with ``google.rpc.BadRequest`` naming where the bytes broke (``matcher.service.interceptors.wire``).

Left to itself gRPC answers such bytes INTERNAL "Exception deserializing request!", logs a
traceback, and never runs the handler, so the call reaches neither the access log nor the
metrics. Here the handler's deserializer is wrapped so it cannot raise: bytes it refuses
become an ``_Undecodable`` request, and the check this interceptor adds before the servicer
turns that into ``UndecodableRequestError``, which the status interceptor answers and the
observing one logs and counts (one line, no traceback). The check runs after the access
checks (an unknown caller learns nothing about its bytes) and after the size check (the
message-size interceptor wraps this deserializer, so an oversize request is never parsed).

Only requests that arrive as one message (unary and server-streaming rpcs; the API has no
client-streaming ones) are covered; others pass through unchanged.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import grpc
from google.protobuf import descriptor_pool
from google.protobuf.descriptor import Descriptor

from matcher.errors import FieldViolation, ValidationError
from matcher.service.interceptors.handlers import HandlerInterceptor, guard_handler
from matcher.service.interceptors.wire import WireFault, locate_fault

if TYPE_CHECKING:
    from matcher.service.interceptors.handlers import Handler

#: What a violation says when the walk found no fault (the parser refused the bytes anyway).
UNLOCATED = WireFault("", "the bytes do not form a message of this type")


class UndecodableRequestError(ValidationError):
    """Request bytes that are not a message of the rpc's request type (a ``ValidationError``,
    so INVALID_ARGUMENT): one violation, the field where the bytes broke (``""``: between the
    request's own fields), and a short message naming the type."""

    def __init__(self, type_name: str, fault: WireFault) -> None:
        super().__init__([FieldViolation(fault.field, fault.description)])
        where = f"{fault.field}: " if fault.field else ""
        self.message = f"request is not a valid {type_name} message: {where}{fault.description}"

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class _Undecodable:
    """Stands in for request bytes the deserializer refused."""

    data: bytes


class DecodeInterceptor(HandlerInterceptor):
    """Answers request bytes that do not decode with ``UndecodableRequestError``."""

    def rewrite(self, method: str, handler: Handler) -> Handler:
        parse = handler.request_deserializer
        if handler.request_streaming or parse is None:  # None: the handler takes raw bytes
            return handler
        descriptor = request_type(method) or _declared_type(parse)

        def refuse_undecodable(request: Any, context: grpc.ServicerContext) -> None:
            if isinstance(request, _Undecodable):
                raise undecodable(descriptor, request.data)

        return guard_handler(handler, refuse_undecodable, _safe(parse))


def _safe(parse: Callable[[bytes], Any]) -> Callable[[bytes], Any]:
    """``parse``, answering bytes it refuses with ``_Undecodable`` instead of raising."""

    def deserialize(data: bytes) -> Any:
        try:
            return parse(data)
        except Exception:  # whatever the parser raises, the bytes are the caller's
            return _Undecodable(data)

    return deserialize


def _declared_type(parse: Callable[[bytes], Any]) -> Descriptor | None:
    """The type whose ``FromString`` ``parse`` is, if it is one."""
    descriptor = getattr(getattr(parse, "__self__", None), "DESCRIPTOR", None)
    return descriptor if isinstance(descriptor, Descriptor) else None


def undecodable(descriptor: Descriptor | None, data: bytes) -> UndecodableRequestError:
    """The error for ``data`` that did not decode as a ``descriptor`` message."""
    if descriptor is None:
        return UndecodableRequestError("protobuf", UNLOCATED)
    fault = locate_fault(descriptor, data) or UNLOCATED
    return UndecodableRequestError(descriptor.full_name, fault)


@functools.lru_cache(maxsize=256)
def request_type(method: str) -> Descriptor | None:
    """The request type of ``/package.Service/Method`` in the default descriptor pool (where
    every generated module registers its types); None if it is not there."""
    try:
        found = descriptor_pool.Default().FindMethodByName(method.strip("/").replace("/", "."))
    except KeyError:
        return None
    return found.input_type
