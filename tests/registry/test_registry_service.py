"""VolunteerService and Match against the registered pool, over a real channel, on both
stores: the in-memory default and the shared Redis (a key prefix per test)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

import grpc
import pytest
from grpc_health.v1 import health_pb2
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
    ProtoReflectionDescriptorDatabase,
)

from matcher.config import Settings
from matcher.v1 import match_pb2, volunteers_pb2
from tests.support.redis_db import on_store
from tests.support.registry import (
    Registry,
    north_km,
    request,
    rpc_error,
    running_registry,
    upsert,
    violations,
)
from tests.support.times import HOUR, T0, window

SETTINGS = Settings(port=0, workers=4, max_windows_per_volunteer=4, health_interval_seconds=0.2)
V = volunteers_pb2
SERVING = health_pb2.HealthCheckResponse.SERVING


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def registry(request: pytest.FixtureRequest) -> Iterator[Registry]:
    with on_store(request.param, SETTINGS) as settings, running_registry(settings) as reg:
        yield reg


def get(reg: Registry, vid: str) -> volunteers_pb2.RegisteredVolunteer:
    return reg.volunteers.GetVolunteer(
        V.GetVolunteerRequest(volunteer_id=vid), timeout=10
    ).volunteer


def listed(reg: Registry, **filters: object) -> list[str]:
    reply = reg.volunteers.ListVolunteers(V.ListVolunteersRequest(**filters), timeout=10)
    return [v.volunteer.id for v in reply.volunteers]


def status(reg: Registry) -> volunteers_pb2.GetRegistryStatusResponse:
    return reg.volunteers.GetRegistryStatus(V.GetRegistryStatusRequest(), timeout=10)


# --- writes and reads -------------------------------------------------------------------------


def test_upsert_then_get_returns_the_canonical_record(registry: Registry) -> None:
    entry = upsert("vol-1", skills=("cleaning", "elderly_care"), branch="grid-3", teams=("b", "a"))
    entry.volunteer.availability.insert(0, window(T0 - 4 * HOUR, T0 - 2 * HOUR))
    reply = registry.volunteers.UpsertVolunteers(
        V.UpsertVolunteersRequest(volunteers=[entry]), timeout=10
    )
    assert reply.registry_version >= 1
    stored = get(registry, "vol-1")
    assert stored == reply.volunteers[0]
    assert (stored.version, stored.branch_id, list(stored.team_ids)) == (1, "grid-3", ["a", "b"])
    assert stored.active
    assert [s.code for s in stored.volunteer.skills] == ["elderly_care", "cleaning"]  # taxonomy
    starts = [w.start.seconds for w in stored.volunteer.availability]
    assert starts == sorted(starts)
    assert stored.create_time.seconds > 0 and stored.update_time == stored.create_time


def test_resending_the_same_volunteer_changes_nothing(registry: Registry) -> None:
    assert registry.upsert(upsert("vol-1"), upsert("vol-2")) == [1, 1]
    before = status(registry).registry_version
    assert registry.upsert(upsert("vol-1"), upsert("vol-2")) == [1, 1]
    assert status(registry).registry_version == before


def test_a_change_bumps_the_version_and_keeps_the_creation_time(registry: Registry) -> None:
    registry.upsert(upsert("vol-1"))
    created = get(registry, "vol-1").create_time
    assert registry.upsert(upsert("vol-1", recent_hours=5.0)) == [2]
    again = get(registry, "vol-1")
    assert again.create_time == created and again.volunteer.recent_hours == 5.0


def test_a_batch_with_one_bad_entry_writes_nothing_and_names_it(registry: Registry) -> None:
    bad = upsert("vol-2")
    bad.volunteer.home.lat = 91.0
    err = rpc_error(
        lambda: registry.volunteers.UpsertVolunteers(
            V.UpsertVolunteersRequest(volunteers=[upsert("vol-1"), bad, upsert("vol-3")]),
            timeout=10,
        )
    )
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert violations(err) == {
        "volunteers[1].volunteer.home.lat": "must be a finite number in [-90, 90]"
    }
    assert "volunteers[1].volunteer.home.lat" in (err.details() or "")
    assert listed(registry, include_inactive=True) == []


Batch = volunteers_pb2.UpsertVolunteersRequest


def _duplicate_id(b: Batch) -> None:
    b.volunteers[1].volunteer.id = "vol-0"


def _empty_id(b: Batch) -> None:
    b.volunteers[0].volunteer.id = ""


def _no_home(b: Batch) -> None:
    b.volunteers[0].volunteer.ClearField("home")


def _no_volunteer(b: Batch) -> None:
    b.volunteers[1].ClearField("volunteer")


def _unknown_skill(b: Batch) -> None:
    b.volunteers[0].volunteer.skills[0].code = "juggling"


def _long_branch(b: Batch) -> None:
    b.volunteers[1].branch_id = "x" * 65


def _braced_branch(b: Batch) -> None:
    b.volunteers[1].branch_id = "{grid}"


def _empty_team(b: Batch) -> None:
    b.volunteers[0].team_ids.append("")


def _overlap(b: Batch) -> None:
    b.volunteers[0].volunteer.availability.append(window(T0 + HOUR, T0 + 9 * HOUR))


@pytest.mark.parametrize(
    ("mutate", "field", "description"),
    [
        (_duplicate_id, "volunteers[1].volunteer.id", "duplicate of volunteers[0].volunteer.id"),
        (_empty_id, "volunteers[0].volunteer.id", "must not be empty"),
        (_no_home, "volunteers[0].volunteer.home", "is required"),
        (_no_volunteer, "volunteers[1].volunteer", "is required"),
        (
            _unknown_skill,
            "volunteers[0].volunteer.skills[0].code",
            "unknown skill code 'juggling' (see the skill taxonomy)",
        ),
        (_long_branch, "volunteers[1].branch_id", "must be at most 64 characters"),
        (
            _braced_branch,
            "volunteers[1].branch_id",
            "must not contain control characters or braces",
        ),
        (_empty_team, "volunteers[0].team_ids[0]", "must not be empty"),
        (_overlap, "volunteers[0].volunteer.availability[1]", "overlaps availability[0]"),
    ],
)
def test_invalid_entries_are_named(
    registry: Registry, mutate: Callable[[Batch], None], field: str, description: str
) -> None:
    batch = V.UpsertVolunteersRequest(volunteers=[upsert("vol-0"), upsert("vol-1")])
    mutate(batch)
    err = rpc_error(lambda: registry.volunteers.UpsertVolunteers(batch, timeout=10))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert violations(err).get(field) == description
    assert listed(registry, include_inactive=True) == []


def test_an_empty_batch_is_invalid(registry: Registry) -> None:
    err = rpc_error(
        lambda: registry.volunteers.UpsertVolunteers(V.UpsertVolunteersRequest(), timeout=10)
    )
    assert violations(err) == {"volunteers": "must hold at least one volunteer"}


def test_expected_versions_guard_every_write(registry: Registry) -> None:
    assert registry.upsert(upsert("vol-1", expected_version=0)) == [1]
    err = rpc_error(lambda: registry.upsert(upsert("vol-2"), upsert("vol-1", expected_version=0)))
    assert err.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "vol-1" in (err.details() or "")
    assert listed(registry) == ["vol-1"]  # vol-2 was not written either
    assert registry.upsert(upsert("vol-1", recent_hours=1, expected_version=1)) == [2]
    stale = V.DeleteVolunteerRequest(volunteer_id="vol-1", expected_version=1)
    err = rpc_error(lambda: registry.volunteers.DeleteVolunteer(stale, timeout=10))
    assert err.code() == grpc.StatusCode.FAILED_PRECONDITION


def test_get_and_delete_of_an_absent_volunteer_are_not_found(registry: Registry) -> None:
    for call in (
        lambda: registry.volunteers.GetVolunteer(
            V.GetVolunteerRequest(volunteer_id="x"), timeout=10
        ),
        lambda: registry.volunteers.DeleteVolunteer(
            V.DeleteVolunteerRequest(volunteer_id="x"), timeout=10
        ),
    ):
        err = rpc_error(call)
        assert err.code() == grpc.StatusCode.NOT_FOUND
        assert err.details() == "volunteer x is not registered"
    err = rpc_error(lambda: registry.volunteers.GetVolunteer(V.GetVolunteerRequest(), timeout=10))
    assert violations(err) == {"volunteer_id": "must not be empty"}


def test_delete_returns_the_record_and_removes_it(registry: Registry) -> None:
    registry.upsert(upsert("vol-1"), upsert("vol-2"))
    reply = registry.volunteers.DeleteVolunteer(
        V.DeleteVolunteerRequest(volunteer_id="vol-1", expected_version=1), timeout=10
    )
    assert reply.volunteer.volunteer.id == "vol-1"
    assert reply.registry_version == status(registry).registry_version
    assert listed(registry) == ["vol-2"]
    err = rpc_error(lambda: get(registry, "vol-1"))
    assert err.code() == grpc.StatusCode.NOT_FOUND


def test_replace_availability_changes_only_the_windows(registry: Registry) -> None:
    registry.upsert(upsert("vol-1", branch="grid-1", recent_hours=2.0))
    new = [window(T0 + 10 * HOUR, T0 + 12 * HOUR), window(T0 + 2 * HOUR, T0 + 4 * HOUR)]
    reply = registry.volunteers.ReplaceAvailability(
        V.ReplaceAvailabilityRequest(volunteer_id="vol-1", availability=new), timeout=10
    )
    stored = reply.volunteer
    assert stored.version == 2 and stored == get(registry, "vol-1")
    assert [(w.start.seconds, w.end.seconds) for w in stored.volunteer.availability] == [
        (T0 + 2 * HOUR, T0 + 4 * HOUR),
        (T0 + 10 * HOUR, T0 + 12 * HOUR),
    ]
    assert (stored.branch_id, stored.volunteer.recent_hours) == ("grid-1", 2.0)
    cleared = registry.volunteers.ReplaceAvailability(
        V.ReplaceAvailabilityRequest(volunteer_id="vol-1", expected_version=2), timeout=10
    )
    assert list(cleared.volunteer.volunteer.availability) == []


def test_replace_availability_errors(registry: Registry) -> None:
    registry.upsert(upsert("vol-1"))
    replace = registry.volunteers.ReplaceAvailability
    clash = [window(T0, T0 + 2 * HOUR), window(T0 + HOUR, T0 + 3 * HOUR)]
    err = rpc_error(
        lambda: replace(V.ReplaceAvailabilityRequest(volunteer_id="vol-1", availability=clash))
    )
    assert violations(err) == {"availability[1]": "overlaps availability[0]"}
    backwards = [window(T0 + HOUR, T0)]
    err = rpc_error(
        lambda: replace(V.ReplaceAvailabilityRequest(volunteer_id="vol-1", availability=backwards))
    )
    assert violations(err) == {"availability[0].end": "must be after start (in whole seconds)"}
    err = rpc_error(lambda: replace(V.ReplaceAvailabilityRequest(volunteer_id="nobody")))
    assert err.code() == grpc.StatusCode.NOT_FOUND
    err = rpc_error(
        lambda: replace(V.ReplaceAvailabilityRequest(volunteer_id="vol-1", expected_version=7))
    )
    assert err.code() == grpc.StatusCode.FAILED_PRECONDITION


# --- listing ------------------------------------------------------------------------------------


def seed_branches(reg: Registry) -> None:
    reg.upsert(
        upsert("a", branch="grid-1", teams=("policy",), skills=("policy_explanation",)),
        upsert("b", branch="grid-1", teams=("care",), at=north_km(3)),
        upsert("c", branch="grid-2", teams=("care", "policy"), at=north_km(30)),
        upsert("d", branch="grid-2", skills=("cleaning",), at=north_km(31)),
        upsert("e", branch="grid-3", active=False),
    )


def test_list_filters_combine(registry: Registry) -> None:
    seed_branches(registry)
    assert listed(registry) == ["a", "b", "c", "d"]
    assert listed(registry, include_inactive=True) == ["a", "b", "c", "d", "e"]
    assert listed(registry, branch_ids=["grid-2", "grid-3"]) == ["c", "d"]
    assert listed(registry, team_id="care") == ["b", "c"]
    assert listed(registry, skill="elderly_care") == ["b", "c"]
    assert listed(registry, skill="elderly_care", include_inactive=True) == ["b", "c", "e"]
    near = {"center": match_pb2.GeoPoint(lat=north_km(30)[0], lon=north_km(30)[1])}
    assert listed(registry, **near, radius_km=5) == ["c", "d"]
    assert listed(registry, **near, radius_km=5, team_id="policy") == ["c"]


def test_list_pages_through_everything_once(registry: Registry) -> None:
    registry.upsert(*(upsert(f"vol-{i:02d}") for i in range(7)))
    seen, token, pages = [], "", 0
    while True:
        reply = registry.volunteers.ListVolunteers(
            V.ListVolunteersRequest(page_size=3, page_token=token), timeout=10
        )
        assert reply.total_size == 7
        seen += [v.volunteer.id for v in reply.volunteers]
        pages += 1
        token = reply.next_page_token
        if not token:
            break
    assert seen == [f"vol-{i:02d}" for i in range(7)] and pages == 3
    default = registry.volunteers.ListVolunteers(V.ListVolunteersRequest(), timeout=10)
    assert len(default.volunteers) == 7 and default.next_page_token == ""


@pytest.mark.parametrize(
    ("filters", "field"),
    [
        ({"page_token": "not-a-token"}, "page_token"),
        ({"skill": "juggling"}, "skill"),
        ({"center": match_pb2.GeoPoint(lat=36.0, lon=100.0)}, "radius_km"),
        ({"radius_km": 5.0}, "radius_km"),
        ({"center": match_pb2.GeoPoint(lat=95.0, lon=100.0), "radius_km": 5.0}, "center.lat"),
        ({"team_id": "t" * 65}, "team_id"),
    ],
)
def test_list_rejects_bad_filters(
    registry: Registry, filters: dict[str, object], field: str
) -> None:
    err = rpc_error(
        lambda: registry.volunteers.ListVolunteers(V.ListVolunteersRequest(**filters), timeout=10)
    )
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field in violations(err)


# --- Match against the pool ---------------------------------------------------------------------


def test_match_against_the_pool_uses_registered_volunteers(registry: Registry) -> None:
    registry.upsert(upsert("near", at=north_km(1)), upsert("far", at=north_km(5)))
    reply = registry.match.Match(
        match_pb2.MatchRequest(requests=[request("r1")], pool=match_pb2.PoolSelector()),
        timeout=30,
    )
    assert [(a.request_id, a.volunteer_id) for a in reply.assignments] == [("r1", "near")]
    assert reply.stats.volunteers == 2
    assert reply.stats.registry_version == status(registry).registry_version


def test_update_then_match_sees_the_update(registry: Registry) -> None:
    registry.upsert(upsert("near", at=north_km(1)), upsert("far", at=north_km(5)))
    assert registry.assigned(request("r1")) == {"r1": "near"}
    registry.upsert(upsert("near", at=north_km(1), hours=(5, 8)))  # not free at 09:00 any more
    assert registry.assigned(request("r1")) == {"r1": "far"}
    registry.volunteers.ReplaceAvailability(
        V.ReplaceAvailabilityRequest(volunteer_id="near", availability=[window(T0, T0 + 3 * HOUR)]),
        timeout=10,
    )
    assert registry.assigned(request("r1")) == {"r1": "near"}
    registry.upsert(upsert("near", at=north_km(1), active=False))
    assert registry.assigned(request("r1")) == {"r1": "far"}


def test_delete_then_match_never_assigns_the_deleted_volunteer(registry: Registry) -> None:
    registry.upsert(*(upsert(f"vol-{k}", at=north_km(k)) for k in range(6)))
    deleted: set[str] = set()
    for _ in range(6):
        winner = registry.assigned(request("r1")).get("r1")
        assert winner not in deleted
        if winner is None:
            break
        registry.volunteers.DeleteVolunteer(
            V.DeleteVolunteerRequest(volunteer_id=winner), timeout=10
        )
        deleted.add(winner)
    assert len(deleted) == 6
    assert registry.assigned(request("r1")) == {}


def test_selectors_pick_branches_teams_and_areas(registry: Registry) -> None:
    seed_branches(registry)
    r = request("r1", at=north_km(2))
    assert registry.assigned(r) == {"r1": "b"}
    assert registry.assigned(r, branch_ids=["grid-2"]) == {}  # 28 km away: out of range
    far = request("r1", at=north_km(29))
    assert registry.assigned(far, branch_ids=["grid-2"]) == {"r1": "c"}
    assert registry.assigned(far, team_ids=["policy"]) == {"r1": "c"}
    assert registry.assigned(r, team_ids=["policy"]) == {}  # a holds no elderly_care
    area = {"center": match_pb2.GeoPoint(lat=QABQA_LAT, lon=QABQA_LON), "radius_km": 1.0}
    assert registry.assigned(r, **area) == {}  # only a is within 1 km, without the skill
    assert registry.assigned(r, **{**area, "radius_km": 4.0}) == {"r1": "b"}
    assert registry.assigned(request("r1", at=north_km(2)), branch_ids=["grid-3"]) == {}  # inactive


QABQA_LAT, QABQA_LON = north_km(0)


def test_pool_and_inline_volunteers_together_are_invalid(registry: Registry) -> None:
    both = match_pb2.MatchRequest(
        requests=[request("r1")],
        volunteers=[upsert("v").volunteer],
        pool=match_pb2.PoolSelector(),
    )
    err = rpc_error(lambda: registry.match.Match(both, timeout=10))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "pool" in violations(err)


@pytest.mark.parametrize(
    ("selector", "field"),
    [
        (match_pb2.PoolSelector(center=match_pb2.GeoPoint(lat=36, lon=100)), "pool.radius_km"),
        (match_pb2.PoolSelector(radius_km=3), "pool.radius_km"),
        (
            match_pb2.PoolSelector(center=match_pb2.GeoPoint(lat=36, lon=200), radius_km=3),
            "pool.center.lon",
        ),
        (match_pb2.PoolSelector(branch_ids=[""]), "pool.branch_ids[0]"),
        (match_pb2.PoolSelector(team_ids=["ok", "{x}"]), "pool.team_ids[1]"),
    ],
)
def test_bad_selectors_are_named(
    registry: Registry, selector: match_pb2.PoolSelector, field: str
) -> None:
    msg = match_pb2.MatchRequest(requests=[request("r1")], pool=selector)
    err = rpc_error(lambda: registry.match.Match(msg, timeout=10))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field in violations(err)


def test_an_empty_pool_serves_no_one(registry: Registry) -> None:
    reply = registry.match.Match(
        match_pb2.MatchRequest(requests=[request("r1")], pool=match_pb2.PoolSelector()),
        timeout=10,
    )
    assert list(reply.assignments) == [] and reply.unassigned[0].request_id == "r1"


# --- status, health, reflection ------------------------------------------------------------------


def test_status_reports_size_and_freshness(registry: Registry) -> None:
    seed_branches(registry)
    reply = status(registry)
    assert (reply.volunteers, reply.active_volunteers, reply.windows) == (5, 4, 4)
    assert reply.store_reachable
    assert reply.view_version == reply.registry_version >= 1
    assert reply.view_refreshed_time.seconds > T0
    assert registry.app is not None
    assert reply.store == registry.app.store.description


def test_health_and_reflection_include_the_registry(registry: Registry) -> None:
    assert registry.health_of("matcher.v1.VolunteerService") == SERVING
    assert registry.health_of("matcher.v1.MatchService") == SERVING
    services = set(ProtoReflectionDescriptorDatabase(registry.channel).get_services())
    assert "matcher.v1.VolunteerService" in services


def test_memory_store_warns_that_data_is_not_kept(caplog: pytest.LogCaptureFixture) -> None:
    with (
        caplog.at_level(logging.WARNING, logger="matcher.service.server"),
        running_registry(SETTINGS),
    ):
        pass
    assert "registry is in memory: data is not kept across restarts" in caplog.text
