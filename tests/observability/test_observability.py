"""Operators' view: /metrics moves with real calls, logs carry no personal data, tracing
emits spans when enabled, and ``matcher status`` reads a live server."""

from __future__ import annotations

import io
import json
import logging
import re
import urllib.request
from collections.abc import Iterator

import grpc
import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client.parser import text_string_to_metric_families

from matcher.config import Settings
from matcher.observability.logs import JsonFormatter
from matcher.observability.tracing import setup_tracing
from matcher.service.server import MatcherServer
from matcher.tools.status import run_status
from matcher.v1 import match_pb2, match_pb2_grpc, volunteers_pb2, volunteers_pb2_grpc
from tests.support.service import channel_to, serving
from tests.support.times import HOUR, T0, window

MARKER = "PII-9d41c7"  # a resident's "name" smuggled into ids; must never be logged
SETTINGS = Settings(port=0, workers=2, metrics_port=0, health_interval_seconds=0.2)
#: No /metrics endpoint: the tracing tests need none.
QUIET = Settings(port=0, workers=2, metrics_port=-1)


def _window(h0: float, h1: float) -> match_pb2.TimeWindow:
    return window(T0 + int(h0 * HOUR), T0 + int(h1 * HOUR))


def _volunteer(vid: str) -> match_pb2.Volunteer:
    return match_pb2.Volunteer(
        id=vid,
        skills=[match_pb2.Skill(code="elderly_care", level=4)],
        home=match_pb2.GeoPoint(lat=36.2712345, lon=100.6212345),
        availability=[_window(0, 8)],
    )


def _match_request() -> match_pb2.MatchRequest:
    return match_pb2.MatchRequest(
        requests=[
            match_pb2.ServiceRequest(
                id=f"{MARKER}-req",
                required_skills=["elderly_care"],
                location=match_pb2.GeoPoint(lat=36.2734567, lon=100.6234567),
                window=_window(1, 2),
                urgency=match_pb2.URGENCY_URGENT,
            ),
            match_pb2.ServiceRequest(
                id=f"{MARKER}-req2",
                required_skills=["calligraphy"],
                location=match_pb2.GeoPoint(lat=36.27, lon=100.62),
                window=_window(1, 2),
            ),
        ],
        volunteers=[_volunteer(f"{MARKER}-vol")],
    )


@pytest.fixture()
def app() -> Iterator[MatcherServer]:
    with serving(SETTINGS) as server:
        yield server


def _scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def _calls(app: MatcherServer) -> None:
    with channel_to(app) as channel:
        match = match_pb2_grpc.MatchServiceStub(channel)  # type: ignore[no-untyped-call]
        match.Match(_match_request(), timeout=10)
        match.Match(_match_request(), timeout=10)
        bad = _match_request()
        bad.requests[0].location.lat = 123.0
        with pytest.raises(grpc.RpcError):
            match.Match(bad, timeout=10)
        registry = volunteers_pb2_grpc.VolunteerServiceStub(channel)  # type: ignore[no-untyped-call]
        registry.UpsertVolunteers(
            volunteers_pb2.UpsertVolunteersRequest(
                volunteers=[volunteers_pb2.VolunteerUpsert(volunteer=_volunteer("v1"))]
            ),
            timeout=10,
        )
        registry.GetRegistryStatus(volunteers_pb2.GetRegistryStatusRequest(), timeout=10)


def test_metrics_move_with_real_calls(app: MatcherServer) -> None:
    assert app.metrics_port > 0
    before = _scrape(app.metrics_port)
    match = "/matcher.v1.MatchService/Match"
    assert (("matcher_rpc_requests_total", (("code", "OK"), ("method", match)))) not in before
    _calls(app)
    after = _scrape(app.metrics_port)
    assert after[("matcher_rpc_requests_total", (("code", "OK"), ("method", match)))] == 2
    bad_key = ("matcher_rpc_requests_total", (("code", "INVALID_ARGUMENT"), ("method", match)))
    assert after[bad_key] == 1
    assert after[("matcher_rpc_duration_seconds_count", (("method", match),))] == 3
    assert after[("matcher_match_batch_requests_count", ())] == 2
    assert after[("matcher_match_batch_requests_sum", ())] == 4
    assert after[("matcher_match_phase_seconds_count", (("phase", "solve"),))] == 2
    assert after[("matcher_match_slots_asked_total", (("urgency", "urgent"),))] == 2
    assert after[("matcher_match_slots_served_total", (("urgency", "urgent"),))] == 2
    assert after[("matcher_match_slots_served_total", (("urgency", "routine"),))] == 0
    assert after[("matcher_registry_volunteers", (("state", "active"),))] == 1
    assert after[("matcher_registry_version", ())] == 1
    assert after[("matcher_store_up", ())] == 1
    assert after[("matcher_store_operation_seconds_count", (("operation", "upsert"),))] == 1


def test_logs_carry_no_personal_data(app: MatcherServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    _calls(app)
    lines = [r for r in caplog.records if r.name == "matcher.service.interceptors.observe"]
    assert len(lines) >= 5
    match_line = next(r for r in lines if "Match OK" in r.getMessage())
    assert match_line.fields["requests"] == 2  # type: ignore[attr-defined]
    as_json = [JsonFormatter().format(r) for r in caplog.records]
    assert json.loads(as_json[-1])["level"] in ("INFO", "DEBUG", "WARNING")
    text = "\n".join(as_json) + "\n".join(r.getMessage() for r in caplog.records)
    for secret in (MARKER, "36.27123", "100.62345", "36.27345"):
        assert secret not in text


def test_json_log_lines_have_the_rpc_fields(app: MatcherServer) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("matcher.service.interceptors.observe")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        _calls(app)
    finally:
        logger.removeHandler(handler)
    records = [json.loads(line) for line in stream.getvalue().splitlines()]
    match = [r for r in records if r.get("method") == "/matcher.v1.MatchService/Match"]
    assert [r["code"] for r in match] == ["OK", "OK", "INVALID_ARGUMENT"]
    assert match[0]["requests"] == 2 and match[0]["volunteers"] == 1 and match[0]["ms"] > 0


def test_tracing_emits_rpc_and_phase_spans() -> None:
    exporter = InMemorySpanExporter()
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    tracing = setup_tracing("off", exporter=exporter)
    with serving(QUIET, tracing) as server, channel_to(server) as channel:
        stub = match_pb2_grpc.MatchServiceStub(channel)  # type: ignore[no-untyped-call]
        stub.Match(
            _match_request(),
            timeout=10,
            metadata=[("traceparent", f"00-{trace_id}-00f067aa0ba902b7-01")],
        )
    spans = {s.name: s for s in exporter.get_finished_spans()}
    assert {"/matcher.v1.MatchService/Match", "match.solve", "match.candidates"} <= set(spans)
    rpc = spans["/matcher.v1.MatchService/Match"]
    assert format(rpc.context.trace_id, "032x") == trace_id  # the caller's trace continues
    assert spans["match.solve"].parent is not None
    assert spans["match.solve"].parent.span_id == rpc.context.span_id
    assert spans["match.solve"].attributes["match.requests"] == 2


def test_console_tracing_prints_spans(capsys: pytest.CaptureFixture[str]) -> None:
    with serving(QUIET.with_overrides(tracing="console")) as server, channel_to(server) as channel:
        stub = match_pb2_grpc.MatchServiceStub(channel)  # type: ignore[no-untyped-call]
        stub.Match(_match_request(), timeout=10)
    out = capsys.readouterr().out
    assert '"name": "/matcher.v1.MatchService/Match"' in out
    assert '"name": "match.scoring"' in out


def test_status_command_reads_a_live_server(app: MatcherServer) -> None:
    _calls(app)
    out = io.StringIO()
    assert run_status(f"127.0.0.1:{app.port}", out=out) == 0
    text = out.getvalue()
    assert re.search(r"health matcher.v1.MatchService +SERVING", text)
    assert re.search(r"store +memory \(reachable\)", text)
    assert "1 active of 1 volunteers, version 1" in text
    assert f":{app.metrics_port}/metrics" in text
    assert "/matcher.v1.MatchService/Match" in text and "INVALID_ARGUMENT" in text
    assert re.search(r"urgent +2 +2 +100.0", text)


def test_status_command_reports_an_unreachable_server() -> None:
    assert run_status("127.0.0.1:1", out=io.StringIO(), timeout=1.0) == 2
