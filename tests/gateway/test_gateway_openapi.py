"""gateway.openapi, gateway.openapi_schemas and gateway.comments: the document is valid
OpenAPI 3.0, covers every binding, and carries the proto comments."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from openapi_spec_validator import validate

from gateway.app import default_services
from gateway.comments import PROTO_ROOT, clean, load_comments
from gateway.http_rules import bindings_for
from gateway.openapi import build_document
from tests.support.gateway import PROBE_DESCRIPTOR

SERVICES = default_services()
FILES = {service.file.name for service in SERVICES}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return build_document(bindings_for(SERVICES), load_comments(FILES), "t", "1.0")


def _schema(document: dict[str, Any], name: str) -> dict[str, Any]:
    schema: dict[str, Any] = document["components"]["schemas"][name]
    return schema


def _property(document: dict[str, Any], message: str, name: str) -> dict[str, Any]:
    prop: dict[str, Any] = _schema(document, message)["properties"][name]
    return prop.get("allOf", [prop])[0] | {"description": prop.get("description", "")}


def test_the_document_is_valid_openapi(document: dict[str, Any]) -> None:
    validate(document)


def test_every_binding_is_one_operation(document: dict[str, Any]) -> None:
    operations = {
        (method.upper(), path): op["operationId"]
        for path, methods in document["paths"].items()
        for method, op in methods.items()
    }
    expected = {
        (b.http_method, b.template.openapi_path): f"{b.method.containing_service.name}_"
        f"{b.method.name}"
        for b in bindings_for(SERVICES)
    }
    assert operations == expected


def test_descriptions_come_from_the_proto_comments(document: dict[str, Any]) -> None:
    match = document["paths"]["/v1/match"]["post"]
    assert match["summary"] == "Match assigns volunteers to the open slots of the given requests."
    assert "Hard constraints" in match["description"]
    assert "matcher.v1.MatchService/Match" in match["description"]
    tags = {t["name"]: t["description"] for t in document["tags"]}
    assert tags["MatchService"].startswith("MatchService solves one batch")
    assert _property(document, "matcher.v1.GeoPoint", "lat")["description"] == (
        "Latitude in degrees, in [-90, 90]."
    )
    urgency = _schema(document, "matcher.v1.Urgency")
    assert urgency["enum"][2] == "URGENCY_URGENT"
    assert "急事快办" in urgency["description"]


def test_schemas_follow_the_proto3_json_mapping(document: dict[str, Any]) -> None:
    assert _property(document, "matcher.v1.MatchStats", "candidatePairs")["type"] == "string"
    assert _property(document, "matcher.v1.MatchStats", "rounds")["type"] == "integer"
    assert _property(document, "matcher.v1.TimeWindow", "start")["format"] == "date-time"
    assert _property(document, "matcher.v1.ServiceRequest", "urgency")["$ref"].endswith(
        "matcher.v1.Urgency"
    )
    skills = _property(document, "matcher.v1.ServiceRequest", "requiredSkills")
    assert skills["type"] == "array" and skills["items"] == {"type": "string"}
    labels = _property(document, "matcher.v1.MetricSample", "labels")
    assert labels["additionalProperties"] == {"type": "string"}
    assert _schema(document, "matcher.v1.MatchRequest")["additionalProperties"] is False


def test_get_parameters_are_path_variables_and_query_fields(document: dict[str, Any]) -> None:
    get = document["paths"]["/v1/volunteers/{volunteer_id}"]["get"]
    assert [(p["name"], p["in"], p["required"]) for p in get["parameters"]] == [
        ("volunteer_id", "path", True)
    ]
    listing = document["paths"]["/v1/volunteers"]["get"]
    names = [p["name"] for p in listing["parameters"]]
    assert names == [
        "pageSize",
        "pageToken",
        "branchIds",
        "teamId",
        "skill",
        "center.lat",
        "center.lon",
        "radiusKm",
        "includeInactive",
    ]
    deletion = document["paths"]["/v1/volunteers/{volunteer_id}"]["delete"]
    assert [p["name"] for p in deletion["parameters"]] == ["volunteer_id", "expectedVersion"]


def test_body_star_operations_take_the_request_message(document: dict[str, Any]) -> None:
    upsert = document["paths"]["/v1/volunteers:batchUpsert"]["post"]
    schema = upsert["requestBody"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/matcher.v1.UpsertVolunteersRequest"}
    assert upsert["parameters"] == []
    error = upsert["responses"]["default"]["content"]["application/json"]["schema"]
    assert error == {"$ref": "#/components/schemas/Error"}


def test_server_streams_are_documented_as_event_streams() -> None:
    document = build_document(bindings_for([PROBE_DESCRIPTOR]), {}, "probe", "0")
    validate(document)
    ok = document["paths"]["/v1/probe/ticks"]["get"]["responses"]["200"]
    assert list(ok["content"]) == ["text/event-stream"]
    assert ok["x-event-data"] == {"$ref": "#/components/schemas/gatewaytest.v1.ProbeReply"}


def test_without_protos_the_document_has_no_descriptions(tmp_path: Path) -> None:
    assert load_comments(FILES, tmp_path / "none.binpb", tmp_path) == {}
    document = build_document(bindings_for(SERVICES), {}, "t", "1")
    validate(document)
    assert document["paths"]["/v1/match"]["post"]["summary"] == "Match"


def test_a_descriptor_set_with_source_info_is_preferred(tmp_path: Path) -> None:
    import grpc_tools
    from grpc_tools import protoc

    out = tmp_path / "set.binpb"
    include = Path(grpc_tools.__file__).parent / "_proto"
    args = ["protoc", f"-I{PROTO_ROOT}", f"-I{include}", "--include_source_info"]
    args.append(f"--descriptor_set_out={out}")
    assert protoc.main([*args, "matcher/v1/status.proto"]) == 0
    comments = load_comments(["matcher/v1/status.proto"], out, tmp_path / "no-protos")
    assert comments["matcher.v1.StatusService.GetServerStatus"].startswith("A snapshot")


def test_comments_lose_the_space_after_the_slashes() -> None:
    assert clean(" First line.\n\n Second.\n") == "First line.\n\nSecond."
