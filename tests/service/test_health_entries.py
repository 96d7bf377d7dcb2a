"""Health has an entry for every service the descriptors declare (issue #18: StatusService
answered NOT_FOUND), and for ``""``: all SERVING on a healthy server, on both stores, over a
real channel."""

from __future__ import annotations

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.fuzz.rpc_world import all_rpcs
from tests.support.orders import system_on

SERVICES = sorted({r.service for r in all_rpcs()})


def test_the_descriptors_declare_the_seven_services() -> None:
    assert len(SERVICES) == 7
    assert "matcher.v1.StatusService" in SERVICES


@pytest.mark.parametrize("store", ["memory", pytest.param("redis", marks=pytest.mark.redis)])
def test_every_service_has_a_serving_health_entry(store: str) -> None:
    with system_on(store) as system:
        health = health_pb2_grpc.HealthStub(system.channel)
        answers: dict[str, str] = {}
        for service in ["", *SERVICES]:
            try:
                reply = health.Check(health_pb2.HealthCheckRequest(service=service), timeout=10)
                answers[service] = health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
            except grpc.RpcError as error:
                answers[service] = error.code().name
        assert answers == dict.fromkeys(["", *SERVICES], "SERVING")
