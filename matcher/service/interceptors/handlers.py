"""What the server's interceptors share: the handler types, ``HandlerInterceptor`` (each of
them is one: it rewrites the handler of every method it is asked about), and the two ways of
rewriting a handler: ``wrap_handler`` for any wrapper of its behaviour, ``guard_handler`` for a
check that runs before the behaviour and raises to refuse the call."""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import grpc

if TYPE_CHECKING:  # grpc's classes are generic in grpc-stubs only
    Handler = grpc.RpcMethodHandler[Any, Any]
    Continuation = Callable[[grpc.HandlerCallDetails], Handler | None]
    ServerInterceptor = grpc.ServerInterceptor[Any, Any]
else:
    ServerInterceptor = grpc.ServerInterceptor

#: A handler's behaviour returning one response (unary or client-streaming rpcs).
Behaviour = Callable[[Any, grpc.ServicerContext], Any]
#: A handler's behaviour yielding responses (server- or bidirectional-streaming rpcs).
StreamBehaviour = Callable[[Any, grpc.ServicerContext], Iterator[Any]]
#: A check of one call before its behaviour runs; it raises to refuse the call (what it
#: returns is ignored).
Check = Callable[[Any, grpc.ServicerContext], object]


class HandlerInterceptor(ServerInterceptor):
    """A server interceptor that rewrites the handler of each method the server has
    (``rewrite``; returning the handler unchanged lets the method's calls pass)."""

    def intercept_service(
        self, continuation: Continuation, handler_call_details: grpc.HandlerCallDetails
    ) -> Handler | None:
        handler = continuation(handler_call_details)
        if handler is None:  # no such method: the server answers UNIMPLEMENTED
            return None
        return self.rewrite(handler_call_details.method, handler)

    @abc.abstractmethod
    def rewrite(self, method: str, handler: Handler) -> Handler:
        """The handler of ``method`` (``/package.Service/Method``) as this interceptor has it."""


def wrap_handler(
    handler: Handler,
    unary: Callable[[Behaviour], Behaviour],
    stream: Callable[[StreamBehaviour], StreamBehaviour],
    request_deserializer: Callable[[bytes], Any] | None = None,
) -> Handler:
    """``handler`` with its behaviour wrapped: by ``unary`` if it returns one response, by
    ``stream`` if it yields several; and with ``request_deserializer`` instead of its own, if
    given."""
    kinds = {
        "request_deserializer": request_deserializer or handler.request_deserializer,
        "response_serializer": handler.response_serializer,
    }
    if handler.unary_unary is not None:
        return grpc.unary_unary_rpc_method_handler(unary(handler.unary_unary), **kinds)
    if handler.unary_stream is not None:
        return grpc.unary_stream_rpc_method_handler(stream(handler.unary_stream), **kinds)
    if handler.stream_unary is not None:
        return grpc.stream_unary_rpc_method_handler(unary(handler.stream_unary), **kinds)
    assert handler.stream_stream is not None
    return grpc.stream_stream_rpc_method_handler(stream(handler.stream_stream), **kinds)


def guard_handler(
    handler: Handler,
    check: Check,
    request_deserializer: Callable[[bytes], Any] | None = None,
) -> Handler:
    """``handler`` with ``check(request, context)`` run before its behaviour (for a stream:
    before its first response); ``request_deserializer`` as in ``wrap_handler``."""

    def unary(behaviour: Behaviour) -> Behaviour:
        def call(request: Any, context: grpc.ServicerContext) -> Any:
            check(request, context)
            return behaviour(request, context)

        return call

    def stream(behaviour: StreamBehaviour) -> StreamBehaviour:
        def call(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
            check(request, context)
            yield from behaviour(request, context)

        return call

    return wrap_handler(handler, unary, stream, request_deserializer)
