"""One HTTP request -> one gRPC call, on a ``grpc.aio`` channel.

``Transcoder.handle`` resolves the route, reads and checks the body, builds the request
message, calls the backend with the forwarded metadata and deadline, and answers JSON (or
Server-Sent Events for a server stream). While a unary call runs (and during a stream's first
second), a ``DisconnectWatch`` listens on the ASGI ``receive`` channel; once a stream is
answering, sse-starlette's ``EventSourceResponse`` listens instead. Either way, when the HTTP
client goes away the gRPC call is cancelled, so the backend stops working for nobody.

The aio channel (not a thread pool over the sync stub) keeps a slow Match from holding a thread
and makes cancellation a plain ``call.cancel()``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Sequence
from typing import Any, TypeVar

import grpc
from google.protobuf import message_factory
from google.protobuf.message import Message
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import Receive

from gateway import sse
from gateway.config import GatewaySettings
from gateway.errors import GatewayError, from_rpc_error, gateway_error
from gateway.forwarding import call_timeout, forwarded_metadata
from gateway.http_rules import Binding, RouteTable, request_path
from gateway.metrics import NO_ROUTE, GatewayMetrics
from gateway.transcode import build_request, decode_json, message_to_json

T = TypeVar("T")
access_log = logging.getLogger("gateway.access")
JSON_TYPE = "application/json"
#: The status sent (to nobody) when the client left before the answer.
CLIENT_CLOSED = 499
#: Seconds between keep-alive comments on a stream.
SSE_KEEPALIVE_SECONDS = 15.0
#: How long a stream may fail before its 200 is sent (then failures are error events).
FIRST_MESSAGE_WAIT_SECONDS = 1.0


class ClientDisconnectedError(Exception):
    """The HTTP client closed the connection before the answer was ready."""


class DisconnectWatch:
    """Listens on ``receive`` in the background; ``race`` stops waiting on disconnect."""

    def __init__(self, receive: Receive) -> None:
        self._task = asyncio.ensure_future(self._listen(receive))

    @staticmethod
    async def _listen(receive: Receive) -> None:
        try:
            while (await receive())["type"] != "http.disconnect":
                pass
        except Exception:  # the server could not read on: the same as a disconnect
            return

    async def wait(self, task: asyncio.Future[Any], timeout: float | None = None) -> bool:
        """True once ``task`` is done, False if ``timeout`` seconds pass first; if the client
        disconnects first, ``task`` is cancelled and ``ClientDisconnectedError`` raised."""
        try:
            await asyncio.wait(
                {task, self._task}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
            )
        except BaseException:  # this coroutine was cancelled: so is the task
            task.cancel()
            raise
        if task.done():
            return True
        if self._task.done():
            task.cancel()
            raise ClientDisconnectedError
        return False

    async def race(self, awaitable: Awaitable[T]) -> T:
        """The awaitable's result, or ``ClientDisconnectedError`` (the awaitable is cancelled)
        if the client disconnects first."""
        task = asyncio.ensure_future(awaitable)
        await self.wait(task)
        return task.result()

    def close(self) -> None:
        """Stop listening."""
        self._task.cancel()


class Transcoder:
    """Serves every bound rpc over one channel."""

    def __init__(
        self,
        channel: grpc.aio.Channel,
        bindings: Sequence[Binding],
        settings: GatewaySettings,
        metrics: GatewayMetrics | None = None,
    ) -> None:
        self.routes = RouteTable(bindings)
        self.settings = settings
        self.metrics = metrics or GatewayMetrics()
        self._callables: dict[str, Any] = {}
        for binding in bindings:
            request_cls = message_factory.GetMessageClass(binding.method.input_type)
            response_cls = message_factory.GetMessageClass(binding.method.output_type)
            kind = channel.unary_stream if binding.server_streaming else channel.unary_unary
            self._callables[binding.grpc_path] = kind(
                binding.grpc_path,
                request_serializer=request_cls.SerializeToString,
                response_deserializer=response_cls.FromString,
            )

    async def handle(self, request: Request) -> Response:
        """The answer to one HTTP request, errors included; ``x-request-id`` is echoed.

        One access-log line per request: HTTP method, route template (never the path or
        query, which may hold personal data), status and latency."""
        started = time.perf_counter()
        route = NO_ROUTE
        try:
            binding, path_vars = self.routes.resolve(request.method, request_path(request.scope))
            route = binding.template.text
            response = await self._transcode(request, binding, path_vars)
        except GatewayError as err:
            response = error_response(err)
        except ClientDisconnect:  # while the body was being read
            response = Response(status_code=CLIENT_CLOSED)
        request_id = request.headers.get("x-request-id")
        if request_id:
            response.headers["x-request-id"] = request_id
        elapsed = time.perf_counter() - started
        self.metrics.observe(request.method, route, response.status_code, elapsed)
        access_log.info(
            "%s %s %d %.1fms", request.method, route, response.status_code, elapsed * 1000
        )
        return response

    async def _transcode(
        self, request: Request, binding: Binding, path_vars: dict[str, str]
    ) -> Response:
        body = await read_body(request, binding, self.settings.max_body_bytes)
        message = message_factory.GetMessageClass(binding.method.input_type)()
        build_request(binding, message, path_vars, request.query_params.multi_items(), body)
        default = None if binding.server_streaming else self.settings.default_timeout_seconds
        timeout = call_timeout(request.headers, default, self.settings.max_timeout_seconds)
        metadata = forwarded_metadata(request.headers)
        call = self._callables[binding.grpc_path](message, timeout=timeout, metadata=metadata)
        if binding.server_streaming:
            return await _open_stream(call, request.receive, binding)
        return await _finish_unary(call, request.receive, binding)


async def _finish_unary(call: Any, receive: Receive, binding: Binding) -> Response:
    watch = DisconnectWatch(receive)
    try:
        reply = await watch.race(_await(call))
    except ClientDisconnectedError:
        call.cancel()
        return Response(status_code=CLIENT_CLOSED)
    except grpc.RpcError as err:
        raise from_rpc_error(err) from None
    finally:
        watch.close()
    return Response(message_to_json(reply, binding.response_body), media_type=JSON_TYPE)


async def _await(call: Awaitable[T]) -> T:
    return await call


async def _open_stream(call: Any, receive: Receive, binding: Binding) -> Response:
    """Give the stream ``FIRST_MESSAGE_WAIT_SECONDS`` to fail (bad input, an unknown
    volunteer: they fail at once), so an early failure is a plain error answer with its HTTP
    status; then answer 200 and stream Server-Sent Events (a watch stream may stay silent for
    long)."""
    watch = DisconnectWatch(receive)
    replies: AsyncIterator[Message] = call.__aiter__()
    pending = asyncio.ensure_future(_next(replies))
    try:
        if await watch.wait(pending, FIRST_MESSAGE_WAIT_SECONDS):
            pending.result()  # raises an early failure
    except ClientDisconnectedError:
        call.cancel()
        return Response(status_code=CLIENT_CLOSED)
    except grpc.RpcError as err:
        raise from_rpc_error(err) from None
    finally:
        watch.close()  # from here on the event stream listens for the disconnect
    return EventSourceResponse(
        _events(call, replies, pending, binding),
        ping=SSE_KEEPALIVE_SECONDS,
        ping_message_factory=lambda: ServerSentEvent(comment=sse.KEEPALIVE_COMMENT, sep="\n"),
        sep="\n",
    )


async def _next(replies: AsyncIterator[T]) -> T | None:
    """The next message, or None at the end of the stream."""
    try:
        return await anext(replies)
    except StopAsyncIteration:
        return None


async def _events(
    call: Any,
    replies: AsyncIterator[Message],
    first: asyncio.Future[Message | None],
    binding: Binding,
) -> AsyncIterator[ServerSentEvent]:
    """One event per message, then (on a failure) one ``error`` event. However the stream
    ends (its end, a failure, the client leaving: ``EventSourceResponse`` cancels this
    generator), the call is cancelled, so the backend stops working for nobody."""
    try:
        message = await first
        while message is not None:
            data = message_to_json(message, binding.response_body).decode()
            yield ServerSentEvent(data, sep="\n")
            message = await _next(replies)
    except grpc.RpcError as err:
        body = json.dumps(from_rpc_error(err).body(), ensure_ascii=False, separators=(",", ":"))
        yield ServerSentEvent(body, event="error", sep="\n")
    finally:
        first.cancel()
        call.cancel()


async def read_body(request: Request, binding: Binding, limit: int) -> Any:
    """The decoded JSON body, for bindings that take one (``None`` otherwise or if empty):
    415 for a non-JSON content type, 413 past ``limit`` bytes, 400 for malformed JSON."""
    if not binding.body:
        return None
    content_type = request.headers.get("content-type", JSON_TYPE)
    media = content_type.split(";")[0].strip().lower()
    if media != JSON_TYPE and not media.endswith("+json"):
        # UNIMPLEMENTED (google.rpc.Code: "not supported ... in this service"), as for a 405:
        # the arguments may be fine, the gateway reads no other encoding. HTTP stays 415.
        raise gateway_error(
            415,
            grpc.StatusCode.UNIMPLEMENTED,
            f"content type {media!r} is not supported: send {JSON_TYPE} "
            "(curl: -H 'Content-Type: application/json')",
            "UNSUPPORTED_MEDIA_TYPE",
            {"contentType": media, "supported": JSON_TYPE},
            headers={"Accept": JSON_TYPE},  # RFC 9110 15.5.16: the media types accepted
        )
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return decode_json(b"".join(chunks))


def _too_large(limit: int) -> GatewayError:
    return gateway_error(
        413,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        f"the request body exceeds the gateway's limit of {limit} bytes",
        "BODY_TOO_LARGE",
        {"limit": str(limit)},
        headers={"Connection": "close"},
    )


def error_response(err: GatewayError) -> Response:
    """The JSON error answer."""
    body = json.dumps(err.body(), ensure_ascii=False, separators=(",", ":")).encode()
    return Response(body, status_code=err.http_status, headers=err.headers, media_type=JSON_TYPE)
