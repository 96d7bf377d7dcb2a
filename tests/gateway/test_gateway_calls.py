"""Every rpc through the gateway against a real matcher server, and the malformed inputs that
must be 4xx (never 5xx) over real HTTP."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from typing import Any

import grpc
import httpx
import pytest
from google.protobuf import json_format

from gateway.config import GatewaySettings
from gateway.serving import GatewayThread
from matcher.v1 import match_pb2_grpc
from tests.support.gateway import Stack, matcher_stack
from tests.support.net import free_port
from tests.support.service import TEST_SETTINGS, make_valid_request

MAX_BODY = 256 * 1024


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    with matcher_stack(TEST_SETTINGS, max_body_bytes=MAX_BODY) as running:
        yield running


@pytest.fixture
def http(stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.url, timeout=30) as client:
        yield client


def _volunteers() -> list[dict[str, Any]]:
    return [json_format.MessageToDict(v) for v in make_valid_request().volunteers]


def _error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    error: dict[str, Any] = response.json()["error"]
    assert (error["code"], error["status"]) == (status, code)
    assert set(error) == {"code", "status", "message", "details"}
    return error


def test_match_over_http_equals_match_over_grpc(stack: Stack, http: httpx.Client) -> None:
    request = make_valid_request()
    response = http.post("/v1/match", json=json_format.MessageToDict(request))
    assert response.status_code == 200, response.text
    with grpc.insecure_channel(stack.grpc_target) as channel:
        stub = match_pb2_grpc.MatchServiceStub(channel)  # type: ignore[no-untyped-call]
        direct = stub.Match(request, timeout=10)
    expected = json_format.MessageToDict(direct, always_print_fields_with_no_presence=True)
    body = response.json()
    assert body["assignments"] == expected["assignments"]
    assert body["unassigned"] == expected["unassigned"]
    assert [a["volunteerId"] for a in body["assignments"]] == ["vol-1", "vol-2"]
    assert body["stats"]["candidatePairs"] == expected["stats"]["candidatePairs"]


def test_registry_rpcs_round_trip(http: httpx.Client) -> None:
    upsert = http.post(
        "/v1/volunteers:batchUpsert",
        json={"volunteers": [{"volunteer": v, "branchId": "b1"} for v in _volunteers()]},
    )
    assert upsert.status_code == 200, upsert.text
    assert [v["volunteer"]["id"] for v in upsert.json()["volunteers"]] == [
        "vol-1",
        "vol-2",
        "vol-3",
    ]
    version = upsert.json()["registryVersion"]
    assert isinstance(version, str) and int(version) >= 1

    one = http.get("/v1/volunteers/vol-2")
    assert one.status_code == 200 and one.json()["volunteer"]["branchId"] == "b1"

    first = http.get("/v1/volunteers", params={"pageSize": 2, "branchIds": ["b1", "b2"]})
    assert first.status_code == 200, first.text
    assert first.json()["totalSize"] == 3 and len(first.json()["volunteers"]) == 2
    rest = http.get("/v1/volunteers", params={"pageToken": first.json()["nextPageToken"]})
    assert [v["volunteer"]["id"] for v in rest.json()["volunteers"]] == ["vol-3"]

    window = {"start": "2022-06-15T08:00:00Z", "end": "2022-06-15T09:00:00Z"}
    replaced = http.put("/v1/volunteers/vol-3/availability", json={"availability": [window]})
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["volunteer"]["volunteer"]["availability"] == [window]

    status = http.get("/v1/registry/status")
    assert status.status_code == 200 and status.json()["volunteers"] == 3


def test_pool_match_uses_the_registered_volunteers(http: httpx.Client) -> None:
    http.post("/v1/volunteers:batchUpsert", json={"volunteers": [{"volunteer": _volunteers()[0]}]})
    request = json_format.MessageToDict(make_valid_request())
    del request["volunteers"]
    request["pool"] = {}
    response = http.post("/v1/match", json=request)
    assert response.status_code == 200, response.text
    assert "vol-1" in {a["volunteerId"] for a in response.json()["assignments"]}
    assert int(response.json()["stats"]["registryVersion"]) >= 1


def test_delete_then_not_found_then_conditional_failure(http: httpx.Client) -> None:
    http.post("/v1/volunteers:batchUpsert", json={"volunteers": [{"volunteer": _volunteers()[1]}]})
    stale = http.delete("/v1/volunteers/vol-2", params={"expectedVersion": "999"})
    _error(stale, 400, "FAILED_PRECONDITION")
    deleted = http.delete("/v1/volunteers/vol-2")
    assert deleted.status_code == 200 and deleted.json()["volunteer"]["volunteer"]["id"] == "vol-2"
    error = _error(http.delete("/v1/volunteers/vol-2"), 404, "NOT_FOUND")
    assert "vol-2" in error["message"]
    _error(http.get("/v1/volunteers/vol-2"), 404, "NOT_FOUND")


def test_server_status(http: httpx.Client) -> None:
    response = http.get("/v1/status")
    assert response.status_code == 200, response.text
    assert response.json()["store"] == "memory"
    assert "uptimeSeconds" in response.json()


def test_invalid_input_carries_the_servers_field_violations(http: httpx.Client) -> None:
    request = json_format.MessageToDict(make_valid_request())
    request["requests"][0]["location"]["lat"] = 123.0
    error = _error(http.post("/v1/match", json=request), 400, "INVALID_ARGUMENT")
    violations = error["details"][0]["fieldViolations"]
    assert error["details"][0]["@type"] == "type.googleapis.com/google.rpc.BadRequest"
    assert [v["field"] for v in violations] == ["requests[0].location.lat"]


def test_over_the_limits_is_429_naming_the_limit(http: httpx.Client) -> None:
    request = json_format.MessageToDict(make_valid_request())
    template = request["requests"][1]
    request["requests"] = [
        {**template, "id": f"r{i}"} for i in range(TEST_SETTINGS.max_requests + 1)
    ]
    error = _error(http.post("/v1/match", json=request), 429, "RESOURCE_EXHAUSTED")
    assert error["details"][0]["reason"] == "LIMIT_EXCEEDED"
    assert error["details"][0]["metadata"]["limit"] == "MATCHER_MAX_REQUESTS"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"requests": [', "not valid JSON"),
        (b'{"requests": [{"id": 7}]}', "requests.id"),
        (b'{"requests": [{"volunteersNeeded": "two"}]}', "volunteersNeeded"),
        (b'{"requests": [], "surprise": true}', "unknown field 'surprise'"),
        (b"[]", "must be a JSON object"),
        (b'{"policy": {"routineValue": Infinity}}', "Infinity is not JSON"),
    ],
)
def test_malformed_bodies_are_400(http: httpx.Client, content: bytes, message: str) -> None:
    response = http.post("/v1/match", content=content, headers={"content-type": "application/json"})
    assert message in _error(response, 400, "INVALID_ARGUMENT")["message"]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"pageSize": "lots"}, "pageSize"),
        ({"colour": "red"}, "unknown query parameter 'colour'"),
        ({"includeInactive": "perhaps"}, "true or false"),
    ],
)
def test_malformed_query_parameters_are_400(
    http: httpx.Client, params: dict[str, str], message: str
) -> None:
    response = http.get("/v1/volunteers", params=params)
    assert message in _error(response, 400, "INVALID_ARGUMENT")["message"]


def test_non_json_content_type_is_415(http: httpx.Client) -> None:
    response = http.post("/v1/match", data={"requests": "x"})
    error = _error(response, 415, "UNIMPLEMENTED")
    assert "application/json" in error["message"]
    assert error["details"][0]["reason"] == "UNSUPPORTED_MEDIA_TYPE"


def test_oversize_bodies_are_413_declared_or_streamed(http: httpx.Client) -> None:
    big = b'{"requests": [' + b" " * MAX_BODY + b"]}"
    declared = http.post("/v1/match", content=big, headers={"content-type": "application/json"})
    error = _error(declared, 413, "RESOURCE_EXHAUSTED")
    assert error["details"][0]["metadata"] == {"limit": str(MAX_BODY)}

    def chunks() -> Iterator[bytes]:  # no Content-Length: chunked transfer encoding
        yield from (big[i : i + 65536] for i in range(0, len(big), 65536))

    with httpx.Client(base_url=str(http.base_url), timeout=30) as fresh:
        streamed = fresh.post(
            "/v1/match", content=chunks(), headers={"content-type": "application/json"}
        )
    _error(streamed, 413, "RESOURCE_EXHAUSTED")


def test_unknown_paths_are_404_and_wrong_methods_405(http: httpx.Client) -> None:
    assert "no rpc is bound" in _error(http.get("/v1/nothing"), 404, "NOT_FOUND")["message"]
    wrong = http.get("/v1/match")
    _error(wrong, 405, "UNIMPLEMENTED")
    assert wrong.headers["allow"] == "POST"
    fixed = http.post("/openapi.json")
    _error(fixed, 405, "UNIMPLEMENTED")
    assert fixed.headers["allow"] == "GET, HEAD"


def test_bad_grpc_timeout_is_400(http: httpx.Client) -> None:
    response = http.get("/v1/registry/status", headers={"grpc-timeout": "soon"})
    assert "grpc-timeout" in _error(response, 400, "INVALID_ARGUMENT")["message"]


def test_request_id_is_echoed_on_success_and_error(http: httpx.Client) -> None:
    assert http.get("/v1/status", headers={"x-request-id": "r-1"}).headers["x-request-id"] == "r-1"
    assert http.get("/nope", headers={"x-request-id": "r-2"}).headers["x-request-id"] == "r-2"


def test_health_document_and_docs_page(http: httpx.Client) -> None:
    health = http.get("/healthz")
    assert health.status_code == 200
    assert health.json() == {"gateway": "SERVING", "backend": "SERVING"}
    document = http.get("/openapi.json")
    assert document.status_code == 200 and document.json()["openapi"].startswith("3.")
    docs = http.get("/docs")
    assert docs.status_code == 200 and docs.headers["content-type"].startswith("text/html")
    assert "SwaggerUIBundle(" in docs.text and 'url: "openapi.json"' in docs.text
    assert "http://" not in docs.text and "https://" not in docs.text  # nothing from a CDN
    for asset in ("docs/swagger-ui-bundle.js", "docs/swagger-ui.css"):
        assert f'"{asset}"' in docs.text
        served = http.get(f"/{asset}")
        assert served.status_code == 200 and len(served.content) > 10_000


def test_an_unreachable_backend_is_503() -> None:
    settings = GatewaySettings(grpc_target=f"127.0.0.1:{free_port()}", port=0)
    with GatewayThread(settings) as gw, httpx.Client(base_url=gw.url, timeout=30) as http:
        health = http.get("/healthz")
        assert health.status_code == 503
        assert health.json()["backend"].startswith("UNREACHABLE")
        request = json_format.MessageToDict(make_valid_request())
        _error(http.post("/v1/match", json=request), 503, "UNAVAILABLE")


def test_a_client_leaving_mid_body_is_not_a_gateway_error(
    stack: Stack, http: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    host, port = stack.url.removeprefix("http://").split(":")
    head = (
        "POST /v1/match HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\n"
        "Content-Length: 100000\r\n\r\n"
    )
    with socket.create_connection((host, int(port))) as raw:
        raw.sendall(head.encode() + b'{"requests": [')
    time.sleep(0.3)
    with caplog.at_level("ERROR"):
        assert http.get("/healthz").status_code == 200  # still serving
    assert not [r for r in caplog.records if r.name.startswith("gateway")]
