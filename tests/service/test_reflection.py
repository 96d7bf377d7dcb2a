"""Server reflection answers under grpc.reflection.v1 (grpcurl, Postman) and v1alpha, over a
real channel: both list every service and describe a file by symbol."""

from __future__ import annotations

import grpc
import pytest
from google.protobuf import descriptor_pb2
from grpc_reflection.v1alpha import reflection_pb2

from matcher.service.reflection import SERVICE_NAMES

PATHS = {
    "v1": "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
    "v1alpha": "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
}


def _ask(
    channel: grpc.Channel, path: str, *requests: reflection_pb2.ServerReflectionRequest
) -> list[reflection_pb2.ServerReflectionResponse]:
    call = channel.stream_stream(
        path,
        request_serializer=reflection_pb2.ServerReflectionRequest.SerializeToString,
        response_deserializer=reflection_pb2.ServerReflectionResponse.FromString,
    )
    return list(call(iter(requests), timeout=10))


@pytest.mark.parametrize("version", sorted(PATHS))
def test_reflection_lists_every_service(channel: grpc.Channel, version: str) -> None:
    [answer] = _ask(
        channel, PATHS[version], reflection_pb2.ServerReflectionRequest(list_services="")
    )
    listed = {s.name for s in answer.list_services_response.service}
    assert {"matcher.v1.MatchService", "matcher.v1.OrderService", *SERVICE_NAMES} <= listed


@pytest.mark.parametrize("version", sorted(PATHS))
def test_reflection_describes_a_symbol(channel: grpc.Channel, version: str) -> None:
    [answer] = _ask(
        channel,
        PATHS[version],
        reflection_pb2.ServerReflectionRequest(file_containing_symbol="matcher.v1.MatchService"),
    )
    files = [
        descriptor_pb2.FileDescriptorProto.FromString(raw)
        for raw in answer.file_descriptor_response.file_descriptor_proto
    ]
    described = next(f for f in files if f.package == "matcher.v1")
    assert [m.name for m in described.service[0].method] == ["Match"]
