"""gateway.http_rules: path templates, bindings read from the protos, and route resolution."""

from __future__ import annotations

import pytest
from google.api import annotations_pb2
from google.protobuf import descriptor_pb2, descriptor_pool
from google.protobuf.descriptor import ServiceDescriptor

from gateway.app import default_services
from gateway.errors import GatewayError
from gateway.http_rules import RouteTable, bindings_for, parse_template, resolve_field
from matcher.v1 import match_pb2, volunteers_pb2

#: Every public rpc and the route the issue asks for.
EXPECTED_ROUTES = {
    "matcher.v1.MatchService.Match": ("POST", "/v1/match", "*"),
    "matcher.v1.VolunteerService.UpsertVolunteers": ("POST", "/v1/volunteers:batchUpsert", "*"),
    "matcher.v1.VolunteerService.GetVolunteer": ("GET", "/v1/volunteers/{volunteer_id}", ""),
    "matcher.v1.VolunteerService.DeleteVolunteer": ("DELETE", "/v1/volunteers/{volunteer_id}", ""),
    "matcher.v1.VolunteerService.ListVolunteers": ("GET", "/v1/volunteers", ""),
    "matcher.v1.VolunteerService.ReplaceAvailability": (
        "PUT",
        "/v1/volunteers/{volunteer_id}/availability",
        "*",
    ),
    "matcher.v1.VolunteerService.GetRegistryStatus": ("GET", "/v1/registry/status", ""),
    "matcher.v1.StatusService.GetServerStatus": ("GET", "/v1/status", ""),
}

TEMPLATES = [
    # template, path, expected variables (None = no match)
    ("/v1/match", "/v1/match", {}),
    ("/v1/match", "/v1/match/", None),
    ("/v1/volunteers/{volunteer_id}", "/v1/volunteers/v-1", {"volunteer_id": "v-1"}),
    ("/v1/volunteers/{volunteer_id}", "/v1/volunteers/", None),
    ("/v1/volunteers/{volunteer_id}", "/v1/volunteers/a/b", None),
    ("/v1/volunteers:batchUpsert", "/v1/volunteers:batchUpsert", {}),
    ("/v1/volunteers:batchUpsert", "/v1/volunteers", None),
    ("/v1/{name=volunteers/*}", "/v1/volunteers/v-1", {"name": "volunteers/v-1"}),
    ("/v1/{name=volunteers/*}", "/v1/teams/t-1", None),
    ("/v1/{path=**}", "/v1/a/b/c", {"path": "a/b/c"}),
    ("/v1/{a.b}/x:do", "/v1/1/x:do", {"a.b": "1"}),
    ("/v1/{a.b}/x:do", "/v1/1/x", None),
    ("/v1/a.b+c", "/v1/a.b+c", {}),
    ("/v1/a.b+c", "/v1/aXb+c", None),
]


def test_every_public_rpc_is_bound_as_the_protos_declare() -> None:
    services = default_services()
    bindings = bindings_for(services)
    found = {b.method.full_name: (b.http_method, b.template.openapi_path, b.body) for b in bindings}
    assert {rpc: found.get(rpc) for rpc in EXPECTED_ROUTES} == EXPECTED_ROUTES
    every_rpc = {m.full_name for s in services for m in s.methods}
    assert every_rpc == set(found), "every rpc of matcher.v1 needs a google.api.http option"


def test_default_services_are_the_matcher_v1_services_only() -> None:
    names = {service.full_name for service in default_services()}
    assert {"matcher.v1.MatchService", "matcher.v1.VolunteerService"} <= names
    assert all(name.startswith("matcher.v1.") for name in names)


@pytest.mark.parametrize(("template", "path", "expected"), TEMPLATES)
def test_templates_match_exactly_their_paths(
    template: str, path: str, expected: dict[str, str] | None
) -> None:
    assert parse_template(template).match(path) == expected


@pytest.mark.parametrize(
    "template",
    ["v1/match", "/v1/*/x", "/v1/{bad-name}", "/v1/{x=a/**/b}", "/v1//x", "/v1/{x=}"],
)
def test_malformed_or_unsupported_templates_are_rejected(template: str) -> None:
    with pytest.raises(ValueError, match=r"template|variable|segment"):
        parse_template(template)


def test_openapi_path_keeps_variables_and_verb() -> None:
    assert parse_template("/v1/{name=volunteers/*}:undelete").openapi_path == "/v1/{name}:undelete"


def test_route_table_resolves_methods_and_variables() -> None:
    table = RouteTable(bindings_for(default_services()))
    binding, variables = table.resolve("GET", "/v1/volunteers/v-9")
    assert binding.method.name == "GetVolunteer"
    assert variables == {"volunteer_id": "v-9"}
    assert table.resolve("DELETE", "/v1/volunteers/v-9")[0].method.name == "DeleteVolunteer"
    assert table.resolve("POST", "/v1/volunteers:batchUpsert")[0].method.name == (
        "UpsertVolunteers"
    )
    assert table.resolve("GET", "/v1/volunteers")[0].method.name == "ListVolunteers"


def test_custom_verbs_win_over_a_variable_that_could_swallow_them() -> None:
    table = RouteTable(
        bindings_for(
            [_service_with_rules([("get", "/v1/things/{id}"), ("get", "/v1/things/{id}:x")])]
        )
    )
    assert table.resolve("GET", "/v1/things/a:x")[0].method.name == "M1"
    assert table.resolve("GET", "/v1/things/a")[0].method.name == "M0"
    assert table.resolve("GET", "/v1/things/a:y")[1] == {"id": "a:y"}  # not a verb route


def test_a_verb_path_is_only_its_verbs_route() -> None:
    table = RouteTable(
        bindings_for(
            [_service_with_rules([("get", "/v1/things/{id}"), ("post", "/v1/things/{id}:x", "*")])]
        )
    )
    with pytest.raises(GatewayError) as caught:
        table.resolve("GET", "/v1/things/a:x")
    assert caught.value.headers["Allow"] == "POST"


@pytest.mark.parametrize(
    ("method", "path", "status", "allow"),
    [
        ("POST", "/v1/volunteers/v-1", 405, "DELETE, GET"),
        ("GET", "/v1/match", 405, "POST"),
        ("GET", "/v2/match", 404, None),
        ("GET", "/", 404, None),
    ],
)
def test_unknown_paths_are_404_and_wrong_methods_405(
    method: str, path: str, status: int, allow: str | None
) -> None:
    table = RouteTable(bindings_for(default_services()))
    with pytest.raises(GatewayError) as caught:
        table.resolve(method, path)
    assert caught.value.http_status == status
    assert caught.value.headers.get("Allow") == allow


def test_resolve_field_accepts_proto_and_json_names() -> None:
    request = volunteers_pb2.ListVolunteersRequest.DESCRIPTOR
    assert resolve_field(request, ["page_size"]) is resolve_field(request, ["pageSize"])
    assert resolve_field(request, ["center", "lat"]) is not None
    assert resolve_field(request, ["center", "nope"]) is None
    assert resolve_field(request, ["branch_ids", "x"]) is None
    assert resolve_field(match_pb2.MatchRequest.DESCRIPTOR, ["requests", "id"]) is None


@pytest.mark.parametrize(
    ("rule", "problem"),
    [
        (("get", "/v1/things/{nope}"), "not a scalar field"),
        (("get", "/v1/things/{tags}"), "not a scalar field"),
        (("post", "/v1/things", "missing"), "has no field"),
    ],
)
def test_rules_naming_missing_or_unusable_fields_fail_at_start_up(
    rule: tuple[str, ...], problem: str
) -> None:
    with pytest.raises(ValueError, match=problem):
        bindings_for([_service_with_rules([rule])])


def test_additional_bindings_are_routed_too() -> None:
    service = _service_with_rules([("get", "/v1/things/{id}")], extra=("get", "/v1/alias/{id}"))
    table = RouteTable(bindings_for([service]))
    assert table.resolve("GET", "/v1/alias/7")[1] == {"id": "7"}


def _service_with_rules(
    rules: list[tuple[str, ...]], extra: tuple[str, str] | None = None
) -> ServiceDescriptor:
    """A throwaway service whose rpc ``M<i>`` carries ``rules[i]`` (verb, path[, body])."""
    field = descriptor_pb2.FieldDescriptorProto
    proto = descriptor_pb2.FileDescriptorProto(
        name=f"rules{id(rules)}.proto", package="rulestest", syntax="proto3"
    )
    thing = proto.message_type.add(name="Thing")
    thing.field.add(name="id", number=1, type=field.TYPE_STRING, label=field.LABEL_OPTIONAL)
    thing.field.add(name="tags", number=2, type=field.TYPE_STRING, label=field.LABEL_REPEATED)
    service = proto.service.add(name="Things")
    for i, (verb, path, *body) in enumerate(rules):
        method = service.method.add(
            name=f"M{i}", input_type=".rulestest.Thing", output_type=".rulestest.Thing"
        )
        http = method.options.Extensions[annotations_pb2.http]
        setattr(http, verb, path)
        if body:
            http.body = body[0]
        if extra:
            setattr(http.additional_bindings.add(), extra[0], extra[1])
    pool = descriptor_pool.DescriptorPool()
    pool.Add(proto)
    return pool.FindServiceByName("rulestest.Things")
