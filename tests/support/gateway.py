"""What the gateway tests share: a real matcher server with a gateway in front, and a small
probe service (a test-only gRPC service with ``google.api.http`` rules, built from a
``FileDescriptorProto`` here) whose rpcs fail with a chosen status, sleep, report the deadline
and metadata they saw, and stream.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent import futures
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import grpc
from google.api import annotations_pb2
from google.protobuf import any_pb2, descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.descriptor import ServiceDescriptor
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

from gateway.config import GatewaySettings
from gateway.serving import GatewayThread
from matcher.config import Settings
from tests.support.service import serving

PROBE_PACKAGE = "gatewaytest.v1"
PROBE_SERVICE = f"{PROBE_PACKAGE}.ProbeService"
#: Metadata keys the probe reports back (forwarded ones and one that must not be).
REPORTED_KEYS = ("authorization", "traceparent", "tracestate", "x-request-id", "cookie")


@dataclass(frozen=True)
class Stack:
    """A running backend and the gateway in front of it."""

    grpc_target: str
    url: str


@contextmanager
def matcher_stack(settings: Settings, **gateway: Any) -> Iterator[Stack]:
    """A fresh matcher server (own in-memory registry) and a gateway in front of it."""
    with serving(settings) as app:
        target = f"127.0.0.1:{app.port}"
        with GatewayThread(GatewaySettings(grpc_target=target, port=0, **gateway)) as gw:
            yield Stack(target, gw.url)


def _field(
    message: descriptor_pb2.DescriptorProto, name: str, number: int, kind: int, repeated: bool
) -> None:
    label = descriptor_pb2.FieldDescriptorProto
    message.field.add(
        name=name,
        number=number,
        type=kind,
        label=label.LABEL_REPEATED if repeated else label.LABEL_OPTIONAL,
        json_name="".join(p if i == 0 else p.title() for i, p in enumerate(name.split("_"))),
    )


def probe_file() -> descriptor_pb2.FileDescriptorProto:
    """``gatewaytest/v1/probe.proto``: ProbeService with Fail, Echo and Ticks."""
    t = descriptor_pb2.FieldDescriptorProto
    proto = descriptor_pb2.FileDescriptorProto(
        name="gatewaytest/v1/probe.proto", package=PROBE_PACKAGE, syntax="proto3"
    )
    request = proto.message_type.add(name="ProbeRequest")
    for number, (name, kind) in enumerate(
        [("sleep_seconds", t.TYPE_DOUBLE), ("count", t.TYPE_UINT32), ("fail_code", t.TYPE_STRING)],
        start=1,
    ):
        _field(request, name, number, kind, repeated=False)
    reply = proto.message_type.add(name="ProbeReply")
    _field(reply, "n", 1, t.TYPE_UINT32, repeated=False)
    _field(reply, "deadline_seconds", 2, t.TYPE_DOUBLE, repeated=False)
    _field(reply, "metadata", 3, t.TYPE_STRING, repeated=True)
    service = proto.service.add(name="ProbeService")
    for name, verb, path, streaming in [
        ("Fail", "post", "/v1/probe/fail/{fail_code}", False),
        ("Echo", "get", "/v1/probe/echo", False),
        ("Ticks", "get", "/v1/probe/ticks", True),
    ]:
        method = service.method.add(
            name=name,
            input_type=f".{PROBE_PACKAGE}.ProbeRequest",
            output_type=f".{PROBE_PACKAGE}.ProbeReply",
            server_streaming=streaming,
        )
        rule = method.options.Extensions[annotations_pb2.http]
        setattr(rule, verb, path)
        if verb == "post":
            rule.body = "*"
    return proto


_POOL = descriptor_pool.DescriptorPool()
_POOL.Add(probe_file())
PROBE_DESCRIPTOR: ServiceDescriptor = _POOL.FindServiceByName(PROBE_SERVICE)
ProbeRequest: Any = message_factory.GetMessageClass(
    _POOL.FindMessageTypeByName(f"{PROBE_PACKAGE}.ProbeRequest")
)
ProbeReply: Any = message_factory.GetMessageClass(
    _POOL.FindMessageTypeByName(f"{PROBE_PACKAGE}.ProbeReply")
)


@dataclass
class ProbeServicer:
    """The probe's behaviour; ``cancelled`` is set when a call sees its client go away."""

    cancelled: threading.Event = field(default_factory=threading.Event)

    def fail(self, request: Any, context: grpc.ServicerContext) -> Any:
        code = grpc.StatusCode[request.fail_code]
        status = status_pb2.Status(code=code.value[0], message=f"probe failed with {code.name}")
        if code == grpc.StatusCode.INVALID_ARGUMENT:
            detail = any_pb2.Any()
            detail.Pack(
                error_details_pb2.BadRequest(
                    field_violations=[
                        error_details_pb2.BadRequest.FieldViolation(
                            field="fail_code", description="asked to fail"
                        )
                    ]
                )
            )
            status.details.append(detail)
        context.abort_with_status(rpc_status.to_status(status))

    def echo(self, request: Any, context: grpc.ServicerContext) -> Any:
        if not self._sleep(request.sleep_seconds, context):
            return ProbeReply()
        remaining = context.time_remaining()
        seen = dict(context.invocation_metadata())
        return ProbeReply(
            deadline_seconds=-1.0 if remaining is None else remaining,
            metadata=[f"{k}={seen[k]}" for k in REPORTED_KEYS if k in seen],
        )

    def ticks(self, request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
        """``count`` messages, each after ``sleep_seconds``; then, with ``fail_code``, one
        more sleep and that failure."""
        for n in range(request.count):
            if not self._sleep(request.sleep_seconds, context):
                return
            yield ProbeReply(n=n)
        if request.fail_code and self._sleep(request.sleep_seconds, context):
            self.fail(request, context)

    def _sleep(self, seconds: float, context: grpc.ServicerContext) -> bool:
        """Sleep unless the call ends first; False (and ``cancelled`` set) if it did."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if not context.is_active():
                self.cancelled.set()
                return False
            time.sleep(0.01)
        return True

    def handler(self) -> grpc.GenericRpcHandler:
        kwargs = {
            "request_deserializer": ProbeRequest.FromString,
            "response_serializer": ProbeReply.SerializeToString,
        }
        return grpc.method_handlers_generic_handler(
            PROBE_SERVICE,
            {
                "Fail": grpc.unary_unary_rpc_method_handler(self.fail, **kwargs),
                "Echo": grpc.unary_unary_rpc_method_handler(self.echo, **kwargs),
                "Ticks": grpc.unary_stream_rpc_method_handler(self.ticks, **kwargs),
            },
        )


@contextmanager
def probe_stack(servicer: ProbeServicer, **gateway: Any) -> Iterator[Stack]:
    """A probe gRPC server on a free port and a gateway in front of it."""
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    server.add_generic_rpc_handlers((servicer.handler(),))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    target = f"127.0.0.1:{port}"
    try:
        settings = GatewaySettings(grpc_target=target, port=0, **gateway)
        with GatewayThread(settings, [PROBE_DESCRIPTOR]) as gw:
            yield Stack(target, gw.url)
    finally:
        server.stop(None).wait()
