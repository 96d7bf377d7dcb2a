"""The HTTP edges, against a real matcher server behind the gateway: unsupported media types,
404 against 405 on odd paths and methods, a watch for an unknown volunteer, an empty Match.
The last two are checked over gRPC too: the server decides them, the gateway passes them on."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import grpc
import httpx
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from matcher.v1 import match_pb2, match_pb2_grpc, orders_pb2, orders_pb2_grpc
from tests.support.gateway import Stack, matcher_stack
from tests.support.redis_db import on_store
from tests.support.service import TEST_SETTINGS


@pytest.fixture(scope="module", params=["memory", "redis"])
def stack(request: pytest.FixtureRequest) -> Iterator[Stack]:
    with on_store(request.param, TEST_SETTINGS) as settings, matcher_stack(settings) as running:
        yield running


@pytest.fixture
def http(stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.url, timeout=30) as client:
        yield client


def _error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert (error["code"], error["status"]) == (status, code)
    return error


def _violations(err: grpc.RpcError) -> list[tuple[str, str]]:
    status = rpc_status.from_call(err)  # type: ignore[arg-type]
    assert status is not None
    found = []
    for detail in status.details:
        bad = error_details_pb2.BadRequest()
        if detail.Unpack(bad):
            found += [(v.field, v.description) for v in bad.field_violations]
    return found


def test_a_body_that_is_not_json_is_415_unimplemented_naming_what_is_accepted(
    http: httpx.Client,
) -> None:
    response = http.post("/v1/match", content=b"requests=x", headers={"content-type": "text/csv"})
    error = _error(response, 415, "UNIMPLEMENTED")
    assert response.headers["accept"] == "application/json"
    assert "'text/csv' is not supported" in error["message"]
    [info] = error["details"]
    assert info["reason"] == "UNSUPPORTED_MEDIA_TYPE"
    assert info["metadata"] == {"contentType": "text/csv", "supported": "application/json"}


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("TRACE", "/v1/match", "POST"),  # a method no route has: the rpc's, not every method
        ("GET", "/v1/%6Datch", "POST"),  # an encoded unreserved letter is that letter
        ("PUT", "/v1/volunteers/v-1", "DELETE, GET"),
        ("GET", "/v1/orders/o-1:cancel", "POST"),
        ("PROPFIND", "/docs", "GET, HEAD"),
        ("DELETE", "/openapi.json", "GET, HEAD"),
        ("POST", "/docs/swagger-ui.css", "GET, HEAD"),
        ("PATCH", "/healthz", "GET, HEAD"),
    ],
)
def test_a_path_that_exists_with_other_methods_is_405_naming_them(
    http: httpx.Client, method: str, path: str, allow: str
) -> None:
    response = http.request(method, path)
    error = _error(response, 405, "UNIMPLEMENTED")
    assert response.headers["allow"] == allow
    assert error["message"].endswith(f"allowed: {allow}")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("TRACE", "/v1/nothing"),  # was 405: no route has TRACE
        ("FOO", "/nowhere"),
        ("GET", "/v1/match/"),
        ("POST", "/docs/nothing.js"),
        ("GET", "/docs/index.html"),  # only the page's own assets are served
        ("GET", "/v1/volunteers/"),
    ],
)
def test_a_path_that_no_route_has_is_404(http: httpx.Client, method: str, path: str) -> None:
    response = http.request(method, path)
    assert "allow" not in response.headers
    assert "no rpc is bound" in _error(response, 404, "NOT_FOUND")["message"]


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/v1/volunteers/nobody%2Fhere", "volunteer nobody/here"),  # was: no rpc is bound
        ("/v1/orders/o-1%3Acancel", "o-1:cancel"),  # an id with a colon, not the verb: was 405
    ],
)
def test_encoded_path_variables_reach_the_rpc_decoded(
    http: httpx.Client, path: str, name: str
) -> None:
    assert name in _error(http.get(path), 404, "NOT_FOUND")["message"]


def test_watching_an_unknown_volunteer_is_404_at_once(stack: Stack, http: httpx.Client) -> None:
    started = time.monotonic()
    response = http.get("/v1/volunteers/nobody/offers:watch", timeout=10)
    error = _error(response, 404, "NOT_FOUND")
    assert "nobody" in error["message"]
    assert time.monotonic() - started < 5

    with grpc.insecure_channel(stack.grpc_target) as channel:
        stub = orders_pb2_grpc.OfferServiceStub(channel)  # type: ignore[no-untyped-call]
        stream = stub.WatchOffers(orders_pb2.WatchOffersRequest(volunteer_id="nobody"), timeout=5)
        with pytest.raises(grpc.RpcError) as caught:
            next(iter(stream))
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND


def test_watching_a_registered_volunteer_streams(http: httpx.Client) -> None:
    volunteer = {"id": "watched", "home": {"lat": 36.27, "lon": 100.63}}
    upsert = http.post(
        "/v1/volunteers:batchUpsert", json={"volunteers": [{"volunteer": volunteer}]}
    )
    assert upsert.status_code == 200, upsert.text
    with http.stream("GET", "/v1/volunteers/watched/offers:watch", timeout=10) as stream:
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")


@pytest.mark.parametrize("body", [{}, {"pool": {}}, {"policy": {"distanceWeight": 2}}])
def test_a_match_without_requests_is_400_naming_requests(
    http: httpx.Client, body: dict[str, Any]
) -> None:
    error = _error(http.post("/v1/match", json=body), 400, "INVALID_ARGUMENT")
    assert "at least one request" in error["message"]
    fields = [v["field"] for d in error["details"] for v in d.get("fieldViolations", [])]
    assert "requests" in fields


def test_a_grpc_match_without_requests_is_invalid_argument_naming_requests(stack: Stack) -> None:
    with grpc.insecure_channel(stack.grpc_target) as channel:
        stub = match_pb2_grpc.MatchServiceStub(channel)  # type: ignore[no-untyped-call]
        with pytest.raises(grpc.RpcError) as caught:
            stub.Match(match_pb2.MatchRequest(), timeout=10)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert ("requests", "at least one request is needed") in _violations(caught.value)
