"""gateway.transcode, gateway.forwarding, gateway.errors and gateway.sse, without a network."""

from __future__ import annotations

import json
from typing import Any

import grpc
import pytest
from google.protobuf import any_pb2, json_format
from google.protobuf.message import Message
from google.rpc import error_details_pb2, status_pb2
from sse_starlette import ServerSentEvent

from gateway import sse
from gateway.app import default_services
from gateway.errors import HTTP_STATUS, GatewayError, from_rpc_error
from gateway.forwarding import call_timeout, forwarded_metadata
from gateway.http_rules import bindings_for
from gateway.transcode import build_request, decode_json, message_to_json
from matcher.v1 import match_pb2, volunteers_pb2
from tests.support.service import make_valid_request

BINDINGS = {b.method.name: b for b in bindings_for(default_services())}


def _build(
    rpc: str,
    message: Message,
    body: Any = None,
    query: list[tuple[str, str]] | None = None,
    path: dict[str, str] | None = None,
) -> Message:
    return build_request(BINDINGS[rpc], message, path or {}, query or [], body)


def _violations(err: GatewayError) -> list[dict[str, str]]:
    return [v for d in err.details for v in d.get("fieldViolations", [])]


def test_a_body_star_request_round_trips_through_the_canonical_json_mapping() -> None:
    request = make_valid_request()
    body = json_format.MessageToDict(request)
    assert "requiredSkills" in body["requests"][0]
    assert _build("Match", match_pb2.MatchRequest(), body) == request


def test_proto_field_names_are_accepted_on_input() -> None:
    body = {"requests": [{"id": "r", "volunteers_needed": 2, "urgency": "URGENCY_URGENT"}]}
    built = _build("Match", match_pb2.MatchRequest(), body)
    assert built.requests[0].volunteers_needed == 2
    assert built.requests[0].urgency == match_pb2.URGENCY_URGENT


def test_an_empty_body_is_the_empty_message() -> None:
    assert _build("Match", match_pb2.MatchRequest(), None) == match_pb2.MatchRequest()


def test_path_variables_win_over_the_body() -> None:
    built = _build(
        "ReplaceAvailability",
        volunteers_pb2.ReplaceAvailabilityRequest(),
        {"volunteerId": "from-body", "expectedVersion": "3"},
        path={"volunteer_id": "from-path"},
    )
    assert built.volunteer_id == "from-path"
    assert built.expected_version == 3


def test_query_parameters_fill_scalars_repeated_and_nested_fields() -> None:
    query = [
        ("pageSize", "5"),
        ("page_token", "abc"),
        ("branchIds", "b1"),
        ("branch_ids", "b2"),
        ("center.lat", "36.2"),
        ("center.lon", "100.6"),
        ("radiusKm", "12.5"),
        ("includeInactive", "true"),
    ]
    built = _build("ListVolunteers", volunteers_pb2.ListVolunteersRequest(), query=query)
    assert built == volunteers_pb2.ListVolunteersRequest(
        page_size=5,
        page_token="abc",
        branch_ids=["b1", "b2"],
        center=match_pb2.GeoPoint(lat=36.2, lon=100.6),
        radius_km=12.5,
        include_inactive=True,
    )


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ([("nope", "1")], "nope", "unknown query parameter"),
        ([("center.height", "1")], "center.height", "unknown query parameter"),
        ([("center", "1")], "center", "is a message"),
        ([("pageSize", "1"), ("page_size", "2")], "page_size", "more than once"),
        ([("pageSize", "many")], "pageSize", "invalid"),
        ([("pageSize", "-1")], "pageSize", "out of range"),
        ([("includeInactive", "maybe")], None, "expected true or false"),
    ],
)
def test_bad_query_parameters_are_400_naming_the_parameter(
    query: list[tuple[str, str]], field: str | None, message: str
) -> None:
    with pytest.raises(GatewayError) as caught:
        _build("ListVolunteers", volunteers_pb2.ListVolunteersRequest(), query=query)
    assert caught.value.http_status == 400
    assert caught.value.code == grpc.StatusCode.INVALID_ARGUMENT
    assert message in caught.value.message
    if field is not None:
        assert [v["field"] for v in _violations(caught.value)] == [field]


def test_query_cannot_set_path_fields_and_body_star_takes_no_query() -> None:
    with pytest.raises(GatewayError, match="set by the path"):
        _build(
            "GetVolunteer",
            volunteers_pb2.GetVolunteerRequest(),
            query=[("volunteerId", "x")],
            path={"volunteer_id": "v"},
        )
    with pytest.raises(GatewayError, match="not accepted"):
        _build("Match", match_pb2.MatchRequest(), {}, query=[("x", "1")])


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"bogus": 1}, "bogus", "unknown field 'bogus'"),
        ({"requests": [{"bogus": 1}]}, "requests[0].bogus", "unknown field"),
        ({"requests": [{"volunteersNeeded": 1.5}]}, "requests[0].volunteersNeeded", "integer"),
        ({"requests": [{"urgency": "NOPE"}]}, "requests[0].urgency", "Invalid enum value"),
        ({"requests": [{"window": {"start": "soon"}}]}, "requests[0].window.start", "timestamp"),
        ({"requests": [{"id": 5}]}, "requests.id", "expected string"),
        ({"policy": {"distanceWeight": "far"}}, "policy.distanceWeight", "parse float"),
        ({"requests": {"a": 1}}, "requests", "repeated field"),
        ({"policy": 5}, "policy", ""),
    ],
)
def test_wrong_types_and_unknown_fields_are_400_naming_the_field(
    body: dict[str, Any], field: str, message: str
) -> None:
    with pytest.raises(GatewayError) as caught:
        _build("Match", match_pb2.MatchRequest(), body)
    assert caught.value.http_status == 400
    assert message in caught.value.message
    assert [v["field"] for v in _violations(caught.value)] == [field]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"{", "not valid JSON"),
        (b'{"a": NaN}', "NaN is not JSON"),
        (b"\xff\xfe", "not valid JSON"),
        (b"[" * 100_000, "nested too deeply"),
        (b'{"a": ' + b"9" * 5000 + b"}", "not valid JSON"),
    ],
)
def test_malformed_json_is_400(raw: bytes, message: str) -> None:
    with pytest.raises(GatewayError, match=message) as caught:
        decode_json(raw)
    assert caught.value.http_status == 400


@pytest.mark.parametrize("body", [[1], "text", 3, True])
def test_a_non_object_body_is_400(body: Any) -> None:
    with pytest.raises(GatewayError, match="must be a JSON object"):
        _build("Match", match_pb2.MatchRequest(), body)


def test_decode_json_of_blank_is_none() -> None:
    assert decode_json(b"  \n") is None


def test_responses_are_lower_camel_case_with_defaults_and_int64_as_strings() -> None:
    reply = match_pb2.MatchResponse(stats=match_pb2.MatchStats(candidate_pairs=7))
    data = json.loads(message_to_json(reply))
    assert data["assignments"] == [] and data["unassigned"] == []
    assert data["stats"]["candidatePairs"] == "7"
    assert data["stats"]["assignedSlots"] == 0


def test_response_body_selects_one_field() -> None:
    reply = volunteers_pb2.GetVolunteerResponse(
        volunteer=volunteers_pb2.RegisteredVolunteer(branch_id="b")
    )
    assert json.loads(message_to_json(reply, "volunteer"))["branchId"] == "b"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, 30.0),
        ("5S", 5.0),
        ("250m", 0.25),
        ("2M", 120.0),
        ("1H", 300.0),  # capped at the maximum
        ("99999999n", 0.099999999),
        ("1500000u", 1.5),
    ],
)
def test_grpc_timeout_header_sets_the_deadline(header: str | None, expected: float) -> None:
    headers = {} if header is None else {"grpc-timeout": header}
    assert call_timeout(headers, 30.0, 300.0) == pytest.approx(expected)


def test_streams_have_no_default_deadline() -> None:
    assert call_timeout({}, None, 300.0) is None


@pytest.mark.parametrize("header", ["5", "S", "5s", "123456789S", "1.5S", "-1S", "5 S"])
def test_malformed_grpc_timeout_is_400(header: str) -> None:
    with pytest.raises(GatewayError, match="grpc-timeout") as caught:
        call_timeout({"grpc-timeout": header}, 30.0, 300.0)
    assert caught.value.http_status == 400


def test_only_auth_trace_and_request_id_headers_are_forwarded() -> None:
    headers = {
        "authorization": "Bearer t",
        "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        "tracestate": "congo=t61rcWkgMzE",
        "x-request-id": "r-1",
        "cookie": "secret=1",
        "host": "example",
    }
    assert dict(forwarded_metadata(headers)) == {
        k: headers[k] for k in ("authorization", "traceparent", "tracestate", "x-request-id")
    }


def test_the_status_table_covers_every_code_as_google_rpc_code_documents() -> None:
    assert set(HTTP_STATUS) == set(grpc.StatusCode)
    assert HTTP_STATUS[grpc.StatusCode.INVALID_ARGUMENT] == 400
    assert HTTP_STATUS[grpc.StatusCode.FAILED_PRECONDITION] == 400
    assert HTTP_STATUS[grpc.StatusCode.CANCELLED] == 499
    assert HTTP_STATUS[grpc.StatusCode.RESOURCE_EXHAUSTED] == 429
    assert HTTP_STATUS[grpc.StatusCode.UNAVAILABLE] == 503


class _FakeRpcError(grpc.RpcError):
    """Only what ``from_rpc_error`` reads (a real one comes from a call; see the live tests)."""

    def __init__(self, trailing: tuple[tuple[str, bytes], ...]) -> None:
        self._trailing = trailing

    def code(self) -> grpc.StatusCode:
        return grpc.StatusCode.RESOURCE_EXHAUSTED

    def details(self) -> str:
        return "from details()"

    def trailing_metadata(self) -> tuple[tuple[str, bytes], ...]:
        return self._trailing


def test_rpc_errors_carry_status_message_and_details() -> None:
    info = any_pb2.Any()
    info.Pack(error_details_pb2.ErrorInfo(reason="LIMIT_EXCEEDED", domain="matcher.v1"))
    status = status_pb2.Status(code=8, message="too many", details=[info])
    err = from_rpc_error(_FakeRpcError((("grpc-status-details-bin", status.SerializeToString()),)))
    assert err.http_status == 429
    assert err.body()["error"]["message"] == "too many"
    assert err.body()["error"]["details"][0]["reason"] == "LIMIT_EXCEEDED"


def test_a_corrupt_status_trailer_keeps_the_plain_message() -> None:
    err = from_rpc_error(_FakeRpcError((("grpc-status-details-bin", b"\xff\xff\xff"),)))
    assert err.body()["error"] == {
        "code": 429,
        "status": "RESOURCE_EXHAUSTED",
        "message": "from details()",
        "details": [],
    }


@pytest.mark.parametrize(
    ("data", "event", "encoded"),
    [
        ('{"n":1}', None, b'data: {"n":1}\n\n'),
        ('{"e":1}', "error", b'event: error\ndata: {"e":1}\n\n'),
        ("a\nb", None, b"data: a\ndata: b\n\n"),
        ("", None, b"data: \n\n"),
    ],
)
def test_sse_events_are_framed_and_decode_back(
    data: str, event: str | None, encoded: bytes
) -> None:
    """The framing is sse-starlette's, as the gateway configures it; the reader is ours."""
    assert ServerSentEvent(data, event=event, sep="\n").encode() == encoded
    assert sse.decode_events(encoded.decode()) == [(event or "message", data)]


def test_sse_comments_are_skipped_by_the_reader() -> None:
    keepalive = ServerSentEvent(comment=sse.KEEPALIVE_COMMENT, sep="\n").encode()
    assert keepalive == b": keep-alive\n\n"
    text = (keepalive + b'data: {"n":1}\r\n\r\n').decode()
    assert sse.decode_events(text) == [("message", '{"n":1}')]
