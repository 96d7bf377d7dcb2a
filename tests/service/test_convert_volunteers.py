"""Registry conversions: upserts to canonical records and back, selectors and list queries."""

from __future__ import annotations

import numpy as np
import pytest

from matcher.config import Settings
from matcher.errors import LimitExceededError, ValidationError
from matcher.registry.columns import records_to_pool
from matcher.registry.model import Selector
from matcher.service.convert import (
    availability_to_windows,
    list_request_to_query,
    pool_to_proto,
    records_to_proto,
    upserts_to_records,
)
from matcher.service.convert.volunteers import pool_profiles
from matcher.tools.synthetic import gonghe_day
from matcher.v1 import match_pb2, volunteers_pb2

V = volunteers_pb2


def as_upserts(volunteers: list[match_pb2.Volunteer]) -> V.UpsertVolunteersRequest:
    return V.UpsertVolunteersRequest(
        volunteers=[V.VolunteerUpsert(volunteer=v) for v in volunteers]
    )


def test_records_round_trip_through_the_api() -> None:
    _, pool = gonghe_day(3, 0, 300)
    records, expected = upserts_to_records(as_upserts(pool_to_proto(pool)))
    assert expected == {}
    back = [r.volunteer for r in records_to_proto(records)]
    again, _ = upserts_to_records(as_upserts(back))
    assert again == records
    columns = records_to_pool(records)
    assert columns.ids == pool.ids
    assert np.array_equal(columns.levels, pool.levels)
    assert np.array_equal(columns.window_start, pool.window_start)


def test_profiles_are_canonical() -> None:
    volunteer = match_pb2.Volunteer(
        id="v",
        skills=[match_pb2.Skill(code="tutoring"), match_pb2.Skill(code="theory_lecture", level=5)],
        home=match_pb2.GeoPoint(lat=36.2, lon=100.6),
        availability=[
            match_pb2.TimeWindow(start={"seconds": 50, "nanos": 9}, end={"seconds": 60}),
            match_pb2.TimeWindow(start={"seconds": 10}, end={"seconds": 20}),
        ],
    )
    batch = as_upserts([volunteer])
    batch.volunteers[0].team_ids[:] = ["b", "a", "b"]
    [record], _ = upserts_to_records(batch)
    assert record.profile.skills == (("theory_lecture", 5), ("tutoring", 3))
    assert record.profile.windows == ((10, 20), (50, 60))
    assert record.team_ids == ("a", "b") and record.active


def test_expected_versions_and_inactive_flags_are_read() -> None:
    batch = as_upserts(
        [match_pb2.Volunteer(id=i, home=match_pb2.GeoPoint(lat=1, lon=1)) for i in ("a", "b")]
    )
    batch.volunteers[0].expected_version = 0
    batch.volunteers[1].active = False
    records, expected = upserts_to_records(batch)
    assert expected == {"a": 0}
    assert [r.active for r in records] == [True, False]


def test_limits_and_emptiness() -> None:
    one = as_upserts([match_pb2.Volunteer(id="a", home=match_pb2.GeoPoint(lat=1, lon=1))] * 3)
    with pytest.raises(LimitExceededError, match="MATCHER_MAX_VOLUNTEERS"):
        upserts_to_records(one, Settings(max_volunteers=2))
    with pytest.raises(ValidationError) as caught:
        upserts_to_records(V.UpsertVolunteersRequest())
    assert caught.value.violations[0].field == "volunteers"


def test_pool_profiles_keep_rows() -> None:
    _, pool = gonghe_day(5, 0, 50)
    profiles = pool_profiles(pool)
    assert len(profiles) == 50
    assert sum(len(p.windows) for p in profiles) == pool.n_windows


def test_availability_windows_are_sorted_and_checked() -> None:
    windows = [
        match_pb2.TimeWindow(start={"seconds": 30}, end={"seconds": 40}),
        match_pb2.TimeWindow(start={"seconds": 10}, end={"seconds": 20}),
    ]
    assert availability_to_windows(windows) == ((10, 20), (30, 40))
    with pytest.raises(ValidationError) as caught:
        availability_to_windows([match_pb2.TimeWindow(end={"seconds": 5})])
    assert caught.value.violations[0].field == "availability[0].start"
    too_many = [
        match_pb2.TimeWindow(start={"seconds": k}, end={"seconds": k + 1}) for k in range(5)
    ]
    with pytest.raises(LimitExceededError, match="MATCHER_MAX_WINDOWS_PER_VOLUNTEER=4"):
        availability_to_windows(too_many, Settings(max_windows_per_volunteer=4))


def test_list_queries() -> None:
    query = list_request_to_query(
        V.ListVolunteersRequest(branch_ids=["b", "a", "b"], team_id="t", skill="tutoring")
    )
    assert query.selector == Selector(branch_ids=("a", "b"), team_ids=("t",))
    assert (query.skill, query.page_size) == ("tutoring", 100)
    assert list_request_to_query(V.ListVolunteersRequest(page_size=5000)).page_size == 1000
    near = V.ListVolunteersRequest(center=match_pb2.GeoPoint(lat=36, lon=100), radius_km=2)
    assert list_request_to_query(near).selector == Selector(center=(36, 100), radius_km=2)
