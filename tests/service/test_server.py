"""The server over a real channel: health, reflection, a real Match, logging, shutdown."""

from __future__ import annotations

import dataclasses
import logging
import os
import re
import signal
import subprocess
import sys
import time

import grpc
import numpy as np
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
    ProtoReflectionDescriptorDatabase,
)

from matcher.config import Settings
from matcher.core.pool_index import PoolIndex
from matcher.core.solve import solve_match
from matcher.service import match_service
from matcher.service import server as server_module
from matcher.service.convert import (
    match_request_to_domain,
    match_result_to_proto,
    pool_to_proto,
    requests_to_proto,
)
from matcher.tools.synthetic import gonghe_day
from matcher.v1 import match_pb2, match_pb2_grpc
from tests.support.paths import ROOT
from tests.support.service import channel_to, serving

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


@pytest.mark.parametrize("service", ["", "matcher.v1.MatchService"])
def test_health_reports_serving(channel: grpc.Channel, service: str) -> None:
    stub = health_pb2_grpc.HealthStub(channel)
    reply = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=10)
    assert reply.status == SERVING


def test_reflection_lists_the_services(channel: grpc.Channel) -> None:
    database = ProtoReflectionDescriptorDatabase(channel)
    services = set(database.get_services())
    assert {
        "matcher.v1.MatchService",
        "grpc.health.v1.Health",
        "grpc.reflection.v1alpha.ServerReflection",
    } <= services
    described = database.FindFileContainingSymbol("matcher.v1.MatchService")
    assert described.package == "matcher.v1"
    assert [m.name for m in described.service[0].method] == ["Match"]


def test_match_returns_the_core_optimum(match_stub: match_pb2_grpc.MatchServiceStub) -> None:
    requests, pool = gonghe_day(7, 30, 250)
    msg = match_pb2.MatchRequest(
        requests=requests_to_proto(requests), volunteers=pool_to_proto(pool)
    )
    response = match_stub.Match(msg, timeout=30)

    stats = response.stats
    assert (stats.requests, stats.volunteers, stats.slots) == (30, 250, int(requests.slots.sum()))
    assert stats.assigned_slots == len(response.assignments) > 0
    unfilled = sum(u.unfilled_slots for u in response.unassigned)
    assert stats.assigned_slots + unfilled == stats.slots
    assert stats.fully_served_requests == 30 - len(response.unassigned)
    order = {rid: i for i, rid in enumerate(requests.ids)}
    keys = [(order[a.request_id], a.slot) for a in response.assignments]
    assert keys == sorted(keys)
    for a in response.assignments:
        b = a.breakdown
        assert a.score == pytest.approx(b.distance + b.skill + b.rating + b.fairness)
        r = order[a.request_id]
        assert a.volunteer_window.start.seconds <= requests.start[r]
        assert requests.end[r] <= a.volunteer_window.end.seconds

    batch, volunteers, policy = match_request_to_domain(msg)
    direct = match_result_to_proto(
        solve_match(batch, PoolIndex.build(volunteers), policy), batch, volunteers
    )
    assert list(response.assignments) == list(direct.assignments)
    assert list(response.unassigned) == list(direct.unassigned)
    assert response.stats.total_cost == pytest.approx(direct.stats.total_cost)


def test_one_line_is_logged_per_call_without_payload(
    match_stub: match_pb2_grpc.MatchServiceStub,
    valid_request: match_pb2.MatchRequest,
    caplog: pytest.LogCaptureFixture,
) -> None:
    valid_request.requests[0].location.lat = 123.0
    with caplog.at_level(logging.INFO, logger="matcher.service.interceptors.observe"):
        with pytest.raises(grpc.RpcError):
            match_stub.Match(valid_request, timeout=10)
        valid_request.requests[0].location.lat = 36.2
        match_stub.Match(valid_request, timeout=10)
    lines = [
        r.getMessage() for r in caplog.records if r.name == "matcher.service.interceptors.observe"
    ]
    assert len(lines) == 2
    assert re.fullmatch(
        r"rpc /matcher\.v1\.MatchService/Match INVALID_ARGUMENT \d+\.\d ms", lines[0]
    )
    assert re.fullmatch(r"rpc /matcher\.v1\.MatchService/Match OK \d+\.\d ms", lines[1])
    assert "req-a" not in caplog.text and "123" not in caplog.text


def test_unexpected_error_is_internal_and_logged_without_data(
    match_stub: match_pb2_grpc.MatchServiceStub,
    valid_request: match_pb2.MatchRequest,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(*_args: object) -> None:
        raise RuntimeError("resident Zhang, 36.27N")

    monkeypatch.setattr(match_service, "solve_match", broken)
    with caplog.at_level(logging.INFO), pytest.raises(grpc.RpcError) as caught:
        match_stub.Match(valid_request, timeout=10)
    assert caught.value.code() == grpc.StatusCode.INTERNAL
    assert caught.value.details() == "internal error"
    assert "RuntimeError" in caplog.text and "Match INTERNAL" in caplog.text
    assert "Zhang" not in caplog.text


def test_drain_reports_not_serving_then_stops() -> None:
    with serving(Settings(port=0, grace_seconds=2.0)) as app, channel_to(app) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        request = health_pb2.HealthCheckRequest(service="matcher.v1.MatchService")
        watch = stub.Watch(request, timeout=10)
        assert next(watch).status == SERVING
        stopped = app.drain(grace=2.0)
        assert next(watch).status == NOT_SERVING  # the in-flight stream still gets it
        assert stopped.wait(timeout=10)


def test_serve_logs_its_address_and_stops_on_sigterm() -> None:
    script = (
        "import logging, os\n"
        "logging.basicConfig(level=logging.INFO)\n"
        "from matcher.config import Settings\n"
        "from matcher.service.server import serve\n"
        "serve(Settings.from_env(os.environ))\n"
    )
    env = {**os.environ, "MATCHER_PORT": "0", "MATCHER_GRACE_SECONDS": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        port = _wait_for_port(proc.stderr)
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(), timeout=10
            )
            assert reply.status == SERVING
        proc.send_signal(signal.SIGTERM)
        _, rest = proc.communicate(timeout=20)
        assert proc.returncode == 0
        assert "draining" in rest and "matcher stopped" in rest
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def _wait_for_port(stream: object) -> int:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = stream.readline()  # type: ignore[attr-defined]
        found = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
        if found:
            return int(found.group(1))
        if not line:
            break
    raise AssertionError("the server did not log its address")


def test_ipv6_host_is_bracketed() -> None:
    assert server_module.bind_address("::", 50051) == "[::]:50051"
    assert server_module.bind_address("[::1]", 1) == "[::1]:1"
    assert server_module.bind_address("0.0.0.0", 0) == "0.0.0.0:0"


def test_message_limit_applies(test_settings: Settings) -> None:
    small = dataclasses.replace(test_settings, max_message_bytes=4096)
    with serving(small) as app, channel_to(app) as channel:
        stub = match_pb2_grpc.MatchServiceStub(channel)  # type: ignore[no-untyped-call]
        big = match_pb2.MatchRequest(
            volunteers=[match_pb2.Volunteer(id=f"v{i:05d}") for i in range(500)]
        )
        with pytest.raises(grpc.RpcError) as caught:
            stub.Match(big, timeout=10)
        assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert np.isfinite(small.grace_seconds)
