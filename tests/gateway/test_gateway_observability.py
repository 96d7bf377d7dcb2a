"""Operators' view of the gateway: its own /metrics, and the trace context carried from an
HTTP caller through the gateway into the gRPC server's spans."""

from __future__ import annotations

import httpx
from google.protobuf import json_format
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client.parser import text_string_to_metric_families

from gateway.config import GatewaySettings
from gateway.serving import GatewayThread
from matcher.config import Settings
from matcher.observability.tracing import setup_tracing
from tests.support.service import make_valid_request, serving

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN_ID = "00f067aa0ba902b7"
MATCH = "/matcher.v1.MatchService/Match"


def test_gateway_metrics_and_trace_context_reach_the_server() -> None:
    exporter = InMemorySpanExporter()
    settings = Settings(port=0, workers=2, metrics_port=-1)
    with serving(settings, setup_tracing("off", exporter=exporter)) as server:
        gateway = GatewaySettings(grpc_target=f"127.0.0.1:{server.port}", port=0)
        with GatewayThread(gateway) as gw, httpx.Client(base_url=gw.url, timeout=10) as http:
            body = json_format.MessageToDict(make_valid_request())
            traced = {"traceparent": f"00-{TRACE_ID}-{CALLER_SPAN_ID}-01"}
            assert http.post("/v1/match", json=body, headers=traced).status_code == 200
            assert http.post("/v1/match", json={"requests": "no"}).status_code == 400
            assert http.get("/v1/volunteers/somebody-unknown").status_code == 404
            assert http.get("/no/such/route").status_code == 404
            scraped = http.get("/metrics")

    assert scraped.status_code == 200
    assert scraped.headers["content-type"].startswith("text/plain")
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(scraped.text)
        for s in family.samples
    }

    def requests(method: str, route: str, status: str) -> float:
        labels = (("method", method), ("route", route), ("status", status))
        return samples.get(("matcher_gateway_requests_total", labels), 0.0)

    assert requests("POST", "/v1/match", "200") == 1
    assert requests("POST", "/v1/match", "400") == 1
    assert requests("GET", "/v1/volunteers/{volunteer_id}", "404") == 1  # a template, no id
    assert requests("GET", "(no route)", "404") == 1
    duration = ("matcher_gateway_request_duration_seconds_count", "/v1/match")
    assert samples[(duration[0], (("method", "POST"), ("route", duration[1])))] == 2
    assert not any("somebody-unknown" in str(key) for key in samples)

    [rpc] = [s for s in exporter.get_finished_spans() if s.name == MATCH and s.parent]
    assert format(rpc.context.trace_id, "032x") == TRACE_ID  # the HTTP caller's trace
    assert format(rpc.parent.span_id, "016x") == CALLER_SPAN_ID
