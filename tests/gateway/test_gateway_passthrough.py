"""What passes through the gateway, against the probe service (tests.support.gateway): every
gRPC status to its HTTP status, deadlines, forwarded metadata, cancellation on disconnect, and
server streams as Server-Sent Events."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import grpc
import httpx
import pytest

from gateway import calls
from gateway.errors import HTTP_STATUS
from gateway.sse import decode_events
from tests.support.gateway import ProbeServicer, Stack, probe_stack

DEFAULT_TIMEOUT, MAX_TIMEOUT = 7.0, 20.0


@pytest.fixture(scope="module")
def servicer() -> ProbeServicer:
    return ProbeServicer()


@pytest.fixture(scope="module")
def stack(servicer: ProbeServicer) -> Iterator[Stack]:
    with probe_stack(
        servicer, default_timeout_seconds=DEFAULT_TIMEOUT, max_timeout_seconds=MAX_TIMEOUT
    ) as running:
        yield running


@pytest.fixture
def http(stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.url, timeout=30) as client:
        yield client


@pytest.mark.parametrize("code", [c for c in grpc.StatusCode if c != grpc.StatusCode.OK])
def test_each_grpc_status_maps_to_its_http_status(
    http: httpx.Client, code: grpc.StatusCode
) -> None:
    response = http.post(f"/v1/probe/fail/{code.name}", json={})
    assert response.status_code == HTTP_STATUS[code]
    error = response.json()["error"]
    assert error["code"] == HTTP_STATUS[code]
    assert error["status"] == code.name
    assert error["message"] == f"probe failed with {code.name}"


def test_field_violations_are_passed_through(http: httpx.Client) -> None:
    error = http.post("/v1/probe/fail/INVALID_ARGUMENT", json={}).json()["error"]
    assert error["details"] == [
        {
            "@type": "type.googleapis.com/google.rpc.BadRequest",
            "fieldViolations": [{"field": "fail_code", "description": "asked to fail"}],
        }
    ]


def _echo(http: httpx.Client, **kwargs: Any) -> dict[str, Any]:
    response = http.get("/v1/probe/echo", **kwargs)
    assert response.status_code == 200, response.text
    reply: dict[str, Any] = response.json()
    return reply


@pytest.mark.parametrize(
    ("headers", "low", "high"),
    [
        ({}, DEFAULT_TIMEOUT - 1, DEFAULT_TIMEOUT + 0.1),
        ({"grpc-timeout": "2S"}, 1.0, 2.1),
        ({"grpc-timeout": "1H"}, MAX_TIMEOUT - 1, MAX_TIMEOUT + 0.1),
    ],
)
def test_the_deadline_reaches_the_backend(
    http: httpx.Client, headers: dict[str, str], low: float, high: float
) -> None:
    assert low < _echo(http, headers=headers)["deadlineSeconds"] < high


def test_a_call_past_its_deadline_is_504(http: httpx.Client) -> None:
    started = time.monotonic()
    response = http.get(
        "/v1/probe/echo", params={"sleepSeconds": 5}, headers={"grpc-timeout": "300m"}
    )
    assert response.status_code == 504
    assert response.json()["error"]["status"] == "DEADLINE_EXCEEDED"
    assert time.monotonic() - started < 3


def test_auth_trace_context_and_request_id_are_forwarded(http: httpx.Client) -> None:
    headers = {
        "authorization": "Bearer token-1",
        "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        "tracestate": "congo=t61rcWkgMzE",
        "x-request-id": "req-42",
        "cookie": "session=secret",
    }
    reply = _echo(http, headers=headers)
    assert reply["metadata"] == [
        f"{key}={headers[key]}"
        for key in ("authorization", "traceparent", "tracestate", "x-request-id")
    ]


def test_a_dropped_connection_cancels_the_call(stack: Stack, servicer: ProbeServicer) -> None:
    servicer.cancelled.clear()
    with pytest.raises(httpx.TimeoutException):
        httpx.get(f"{stack.url}/v1/probe/echo", params={"sleepSeconds": 20}, timeout=0.5)
    assert servicer.cancelled.wait(5), "the backend call was not cancelled"


def test_a_stream_is_server_sent_events(http: httpx.Client) -> None:
    response = http.get("/v1/probe/ticks", params={"count": 3})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["cache-control"] == "no-store"
    events = decode_events(response.text)
    assert [(name, json.loads(data)["n"]) for name, data in events] == [
        ("message", 0),
        ("message", 1),
        ("message", 2),
    ]


def test_an_empty_stream_is_an_empty_event_stream(http: httpx.Client) -> None:
    response = http.get("/v1/probe/ticks", params={"count": 0})
    assert response.status_code == 200 and decode_events(response.text) == []


def test_a_failure_mid_stream_is_a_last_error_event(http: httpx.Client) -> None:
    response = http.get("/v1/probe/ticks", params={"count": 2, "failCode": "UNAVAILABLE"})
    assert response.status_code == 200
    events = decode_events(response.text)
    assert [name for name, _ in events] == ["message", "message", "error"]
    assert json.loads(events[-1][1])["error"]["status"] == "UNAVAILABLE"


def test_a_stream_silent_at_first_still_answers_200_and_then_streams(
    http: httpx.Client,
) -> None:
    response = http.get("/v1/probe/ticks", params={"count": 1, "sleepSeconds": 1.5})
    assert response.status_code == 200
    assert [json.loads(data)["n"] for _, data in decode_events(response.text)] == [0]


def test_a_late_failure_without_messages_is_an_error_event(http: httpx.Client) -> None:
    params: dict[str, Any] = {"failCode": "NOT_FOUND", "sleepSeconds": 1.5}
    response = http.get("/v1/probe/ticks", params=params)
    assert response.status_code == 200
    [(name, data)] = decode_events(response.text)
    assert name == "error" and json.loads(data)["error"]["code"] == 404


def test_idle_streams_send_keep_alive_comments(
    http: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(calls, "SSE_KEEPALIVE_SECONDS", 0.1)
    response = http.get("/v1/probe/ticks", params={"count": 2, "sleepSeconds": 0.5})
    assert ": keep-alive\n\n" in response.text
    assert [json.loads(data)["n"] for _, data in decode_events(response.text)] == [0, 1]


def test_a_failure_before_the_first_message_is_a_plain_error(http: httpx.Client) -> None:
    response = http.get("/v1/probe/ticks", params={"failCode": "PERMISSION_DENIED"})
    assert response.status_code == 403
    assert response.json()["error"]["status"] == "PERMISSION_DENIED"


def test_closing_a_stream_cancels_the_call(stack: Stack, servicer: ProbeServicer) -> None:
    servicer.cancelled.clear()
    params: dict[str, Any] = {"count": 1000, "sleepSeconds": 0.2}
    with httpx.stream("GET", f"{stack.url}/v1/probe/ticks", params=params, timeout=10) as reply:
        first = next(reply.iter_lines())
    assert first.startswith("data: ")
    assert servicer.cancelled.wait(5), "the backend stream was not cancelled"
