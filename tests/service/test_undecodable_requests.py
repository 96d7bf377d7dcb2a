"""Request bytes that do not decode (issue #18) are INVALID_ARGUMENT on every rpc, over a real
channel, on both stores: a short message naming the request type, ``google.rpc.BadRequest``
naming where the bytes broke, one access-log line and a count in
``matcher_rpc_requests_total`` like every other refused call, no traceback in the log, and
the server still SERVING."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import cast

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_status import rpc_status

from tests.fuzz.raw_bytes import INVALID_UTF8, Broken, broken_requests, length_delimited
from tests.fuzz.rpc_world import Rpc, all_rpcs
from tests.support.orders import OrderSystem, system_on
from tests.support.service import TEST_SETTINGS, channel_to, serving

RPCS = all_rpcs()
ACCESS_LOG = "matcher.service.interceptors.observe"
REQUESTS_TOTAL = "matcher_rpc_requests_total"


@pytest.fixture(scope="module", params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def system(request: pytest.FixtureRequest) -> Iterator[OrderSystem]:
    with system_on(request.param) as running:
        yield running


def _send(channel: grpc.Channel, rpc: Rpc, data: bytes) -> grpc.RpcError:
    """Send ``data`` as the request of ``rpc``; the error it ends with."""
    try:
        if rpc.streaming:
            for _ in channel.unary_stream(rpc.path)(data, timeout=10):
                pass
        else:
            channel.unary_unary(rpc.path)(data, timeout=10)
    except grpc.RpcError as error:
        return error
    raise AssertionError(f"{rpc.short} accepted undecodable bytes {data!r}")


def _violations(error: grpc.RpcError) -> list[tuple[str, str]]:
    status = rpc_status.from_call(cast(grpc.Call, error))
    assert status is not None, "INVALID_ARGUMENT without google.rpc.Status details"
    found: list[tuple[str, str]] = []
    for detail in status.details:
        bad_request = error_details_pb2.BadRequest()
        if detail.Unpack(bad_request):
            found += [(v.field, v.description) for v in bad_request.field_violations]
    return found


def _count(system: OrderSystem, rpc: Rpc) -> float:
    labels = {"method": rpc.path, "code": "INVALID_ARGUMENT"}
    return system.app.metrics.registry.get_sample_value(REQUESTS_TOTAL, labels) or 0.0


def _access_lines(caplog: pytest.LogCaptureFixture, rpc: Rpc) -> list[logging.LogRecord]:
    wanted = f"rpc {rpc.path} INVALID_ARGUMENT "
    return [r for r in caplog.records if r.name == ACCESS_LOG and r.getMessage().startswith(wanted)]


def _logged_within(caplog: pytest.LogCaptureFixture, rpc: Rpc, seconds: float = 2.0) -> int:
    """Access-log lines of ``rpc`` refused INVALID_ARGUMENT (waits a little for the server
    thread that writes them)."""
    deadline = time.monotonic() + seconds
    while not _access_lines(caplog, rpc) and time.monotonic() < deadline:
        time.sleep(0.01)
    return len(_access_lines(caplog, rpc))


@pytest.mark.parametrize("rpc", RPCS, ids=[r.short for r in RPCS])
def test_undecodable_bytes_are_invalid_argument(
    system: OrderSystem, rpc: Rpc, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    cases = broken_requests(rpc.request.DESCRIPTOR)
    assert len(cases) >= 2
    for number, case in enumerate(cases, start=1):
        _check_refused(system, rpc, case, caplog, number)
    for record in caplog.records:
        assert record.exc_info is None, f"a traceback was logged: {record.getMessage()}"
        assert record.levelno < logging.ERROR, record.getMessage()
        assert "deserializing" not in record.getMessage()
    health = health_pb2_grpc.HealthStub(system.channel)
    reply = health.Check(health_pb2.HealthCheckRequest(), timeout=10)
    assert reply.status == health_pb2.HealthCheckResponse.SERVING


def _check_refused(
    system: OrderSystem,
    rpc: Rpc,
    case: Broken,
    caplog: pytest.LogCaptureFixture,
    number: int,
) -> None:
    counted = _count(system, rpc)
    error = _send(system.channel, rpc, case.data)
    what = f"{rpc.short}, {case.case}: {error.code().name} {error.details()!r}"
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, what
    expected = f"request is not a valid {rpc.request.DESCRIPTOR.full_name} message"
    assert (error.details() or "").startswith(expected), what
    violations = _violations(error)
    assert [field for field, _ in violations] == [case.field], what
    assert all(description for _, description in violations), what
    assert _logged_within(caplog, rpc) == number, what
    assert _count(system, rpc) == counted + 1, what


def test_the_size_check_comes_before_decoding() -> None:
    """Oversize bytes are RESOURCE_EXHAUSTED naming the setting, never parsed; undecodable
    bytes within the limit are INVALID_ARGUMENT."""
    [rpc] = [r for r in RPCS if r.short == "VolunteerService.GetVolunteer"]
    oversize = length_delimited(1, INVALID_UTF8 * 600)
    settings = TEST_SETTINGS.with_overrides(max_message_bytes=1024)
    with serving(settings) as app, channel_to(app) as channel:
        error = _send(channel, rpc, oversize)
        assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert "MATCHER_MAX_MESSAGE_BYTES" in (error.details() or "")
        error = _send(channel, rpc, length_delimited(1, INVALID_UTF8 * 400))
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
