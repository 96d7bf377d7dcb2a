"""gateway.openapi, gateway.openapi_schemas and gateway.comments: the document is valid
OpenAPI 3.0, covers every binding, and carries the proto comments."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import descriptor_pb2, descriptor_pool, json_format, message_factory
from openapi_spec_validator import validate

from gateway.app import default_services
from gateway.comments import clean, load_comments, read_descriptor_set, split_example
from gateway.http_rules import bindings_for
from gateway.openapi import build_document
from tests.support.gateway import PROBE_DESCRIPTOR

ROOT = Path(__file__).resolve().parents[2]
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


def test_without_the_descriptor_set_the_document_has_no_descriptions(tmp_path: Path) -> None:
    assert load_comments(FILES, tmp_path / "none.binpb") == {}
    document = build_document(bindings_for(SERVICES), {}, "t", "1")
    validate(document)
    assert document["paths"]["/v1/match"]["post"]["summary"] == "Match"


def test_the_shipped_descriptor_set_is_the_compiled_protos_with_their_comments() -> None:
    shipped = {proto.name: proto for proto in read_descriptor_set()}
    assert set(shipped) >= FILES
    for name, proto in shipped.items():
        assert proto.source_code_info.location, f"{name} has no source info"
        embedded = descriptor_pool.Default().FindFileByName(name).serialized_pb  # in *_pb2.py
        compiled = descriptor_pb2.FileDescriptorProto.FromString(embedded)
        bare = descriptor_pb2.FileDescriptorProto()
        bare.CopyFrom(proto)
        bare.ClearField("source_code_info")
        _clear_json_names(bare.message_type)  # protoc leaves them out of the *_pb2 modules
        assert bare == compiled, f"{name}: descriptor_set.binpb differs from the stubs"


def _clear_json_names(messages: Iterable[descriptor_pb2.DescriptorProto]) -> None:
    for message in messages:
        for field in message.field:
            field.ClearField("json_name")
        _clear_json_names(message.nested_type)


def test_every_operation_needs_the_api_key_and_the_server_is_the_gateway(
    document: dict[str, Any],
) -> None:
    assert document["security"] == [{"ApiKey": []}]
    scheme = document["components"]["securitySchemes"]["ApiKey"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")  # Authorization: Bearer
    assert document["servers"] == [{"url": "/", "description": "this gateway"}]
    assert "Authorization: Bearer <key>" in document["info"]["description"]
    on_host = build_document(bindings_for(SERVICES), {}, "t", "1", "http://gw.example:8080")
    validate(on_host)
    assert on_host["servers"][0]["url"] == "http://gw.example:8080"


def _bodies(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        op["operationId"]: op["requestBody"]["content"]["application/json"]
        for methods in document["paths"].values()
        for op in methods.values()
        if "requestBody" in op
    }


def test_request_bodies_carry_the_examples_of_the_proto_comments(
    document: dict[str, Any],
) -> None:
    bodies = _bodies(document)
    assert len(bodies) == 11 and all("example" in media for media in bodies.values())
    match = bodies["MatchService_Match"]["example"]
    assert [r["id"] for r in match["requests"]] == ["r-1", "r-2"]
    assert bodies["OfferService_AcceptOffer"]["example"] == {}  # the path holds every field
    for binding in bindings_for(SERVICES):
        if binding.body:
            example = bodies[f"{binding.method.containing_service.name}_{binding.method.name}"]
            request = message_factory.GetMessageClass(binding.method.input_type)()
            json_format.ParseDict(example["example"], request)  # unknown fields would raise
            assert not set(example["example"]) & {
                f.json_name
                for f in request.DESCRIPTOR.fields
                if f.name in binding.template.variables
            }, "path fields belong in the path, not in the example body"
    schema = _schema(document, "matcher.v1.MatchRequest")
    assert schema["description"] == "One batch to solve."  # the example is not repeated


def test_a_bad_example_fails_loudly() -> None:
    assert split_example('Text.\n\nExample:\n\n  {"a": [1]}') == ("Text.", {"a": [1]})
    assert split_example("An example, no JSON.") == ("An example, no JSON.", None)
    with pytest.raises(ValueError, match="is not JSON"):
        split_example('Text.\n\nExample (broken):\n\n  {"a": }')


@pytest.mark.slow
def test_a_wheel_install_keeps_every_description(document: dict[str, Any], tmp_path: Path) -> None:
    """Built as a wheel and imported from it (no source checkout, no protos/, no protoc at
    start-up), the gateway documents every schema as the source checkout does."""
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    for package in ("matcher", "gateway"):
        ignore = shutil.ignore_patterns("__pycache__")
        shutil.copytree(ROOT / package, source / package, ignore=ignore)
    build = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation"]
    subprocess.run([*build, "-w", str(tmp_path / "dist"), str(source)], check=True, timeout=300)
    [wheel] = (tmp_path / "dist").glob("volunteer_matcher-*.whl")
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
    assert (site / "matcher" / "v1" / "descriptor_set.binpb").is_file()
    assert not list(site.rglob("*.proto"))
    script = (
        "import json, gateway\n"
        "from gateway.app import create_app\n"
        "from gateway.config import GatewaySettings\n"
        "schemas = create_app(GatewaySettings()).state.document['components']['schemas']\n"
        "print(json.dumps([gateway.__file__, sum(bool(s.get('description')) "
        "for s in schemas.values()), len(schemas)]))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(site)}
    run = subprocess.run(
        [sys.executable, "-P", "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    where, described, total = json.loads(run.stdout)
    assert Path(where).is_relative_to(site)  # the wheel's copy, not the checkout's
    schemas = document["components"]["schemas"]
    editable = sum(bool(s.get("description")) for s in schemas.values())
    assert (described, total) == (editable, len(schemas)) == (len(schemas), len(schemas))


def test_comments_lose_the_space_after_the_slashes() -> None:
    assert clean(" First line.\n\n Second.\n") == "First line.\n\nSecond."
