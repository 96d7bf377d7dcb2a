"""Server reflection under both names clients ask for: ``grpc.reflection.v1`` (grpcurl and
Postman use it) and ``grpc.reflection.v1alpha`` (older tools).

grpcio-reflection ships only the v1alpha service. The v1 protocol is the same messages under
another package name, so their bytes are identical on the wire: the v1 method is served by the
same servicer, with the v1alpha message classes reading and writing it.
"""

from __future__ import annotations

from collections.abc import Sequence

import grpc
from grpc_reflection.v1alpha import reflection, reflection_pb2, reflection_pb2_grpc

V1_SERVICE_NAME = "grpc.reflection.v1.ServerReflection"
V1ALPHA_SERVICE_NAME: str = reflection.SERVICE_NAME
#: Both reflection services, as reflection itself lists them.
SERVICE_NAMES = (V1_SERVICE_NAME, V1ALPHA_SERVICE_NAME)


def enable_reflection(service_names: Sequence[str], server: grpc.Server) -> None:
    """Serve reflection over ``service_names`` (plus both reflection services) under v1 and
    v1alpha on ``server``."""
    servicer = reflection.ReflectionServicer(tuple(dict.fromkeys([*service_names, *SERVICE_NAMES])))
    reflection_pb2_grpc.add_ServerReflectionServicer_to_server(servicer, server)
    v1_info = grpc.stream_stream_rpc_method_handler(
        servicer.ServerReflectionInfo,
        request_deserializer=reflection_pb2.ServerReflectionRequest.FromString,
        response_serializer=reflection_pb2.ServerReflectionResponse.SerializeToString,
    )
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler(V1_SERVICE_NAME, {"ServerReflectionInfo": v1_info}),)
    )
