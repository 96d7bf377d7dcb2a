"""Tests of the synthetic data generator: determinism, shapes, invariants and the mix."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable

import numpy as np
import pytest

from matcher.core.model import RequestBatch, Urgency, VolunteerPool
from matcher.core.scoring import haversine_km, mask_bits
from matcher.core.skills import SKILL_BIT
from matcher.tools.synthetic import (
    COUNTY_BOX,
    MAX_TOWN_RADIUS_KM,
    TOWN_LAT,
    TOWN_LON,
    TOWNS,
    day_start,
    gonghe_day,
    nearest_town,
    uniform_day,
)
from tests.support.times import HOUR

N_REQ, N_VOL = 4000, 20000
Generator = Callable[[int, int, int], tuple[RequestBatch, VolunteerPool]]


@pytest.fixture(scope="module")
def day() -> tuple[RequestBatch, VolunteerPool]:
    return gonghe_day(11, N_REQ, N_VOL)


def _same(a: RequestBatch | VolunteerPool, b: RequestBatch | VolunteerPool) -> bool:
    """Field-by-field equality of two dataclasses holding arrays."""
    for f in dataclasses.fields(a):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if isinstance(x, np.ndarray):
            if x.dtype != y.dtype or not np.array_equal(x, y):
                return False
        elif x != y:
            return False
    return True


@pytest.mark.parametrize("generate", [gonghe_day, uniform_day])
def test_same_seed_same_data_other_seed_other_data(generate: Generator) -> None:
    r1, v1 = generate(5, 300, 2000)
    r2, v2 = generate(5, 300, 2000)
    r3, v3 = generate(6, 300, 2000)
    assert _same(r1, r2) and _same(v1, v2)
    assert not np.array_equal(r1.lat, r3.lat) and not np.array_equal(v1.lat, v3.lat)


def test_shapes_ids_and_dtypes(day: tuple[RequestBatch, VolunteerPool]) -> None:
    requests, pool = day
    assert len(requests) == N_REQ and len(pool) == N_VOL
    assert requests.ids[123] == "req-000123" and pool.ids[4567] == "vol-004567"
    for column in (requests.lat, requests.lon, requests.start, requests.urgency):
        assert column.shape == (N_REQ,)
    assert requests.skill_mask.dtype == np.uint64 and pool.skill_mask.dtype == np.uint64
    assert pool.levels.dtype == np.uint8 and pool.window_owner.dtype == np.int32
    assert requests.start.dtype == np.int64 and pool.window_start.dtype == np.int64
    assert len(pool.window_start) == len(pool.window_end) == pool.n_windows


def test_empty_sizes() -> None:
    requests, pool = gonghe_day(1, 0, 0)
    assert len(requests) == 0 and len(pool) == 0 and pool.n_windows == 0


def test_volunteer_windows_inside_the_day_and_non_overlapping(
    day: tuple[RequestBatch, VolunteerPool],
) -> None:
    _, pool = day
    midnight = day_start(dt.date(2022, 6, 15))
    counts = np.bincount(pool.window_owner, minlength=len(pool))
    assert counts.min() >= 1 and counts.max() <= 3
    length = pool.window_end - pool.window_start
    assert length.min() >= 2 * HOUR and length.max() <= 5 * HOUR
    assert pool.window_start.min() >= midnight and pool.window_end.max() <= midnight + 24 * HOUR
    order = np.lexsort((pool.window_start, pool.window_owner))
    owner, start, end = (a[order] for a in (pool.window_owner, pool.window_start, pool.window_end))
    same = owner[1:] == owner[:-1]
    assert np.all(start[1:][same] >= end[:-1][same])


def test_request_windows_slots_and_urgency_mix(day: tuple[RequestBatch, VolunteerPool]) -> None:
    requests, _ = day
    length = requests.end - requests.start
    assert length.min() >= 30 * 60 and length.max() <= 2 * HOUR
    share = np.bincount(requests.urgency, minlength=4)[1:] / N_REQ
    assert share == pytest.approx([0.70, 0.15, 0.15], abs=0.03)
    difficult = requests.urgency == Urgency.DIFFICULT
    assert set(requests.slots[difficult].tolist()) == {2, 3, 4}
    assert set(requests.slots[requests.urgency == Urgency.URGENT].tolist()) == {1}
    routine_two = np.mean(requests.slots[requests.urgency == Urgency.ROUTINE] == 2)
    assert 0.01 < routine_two < 0.1
    assert np.mean(requests.max_distance_km == 0) > 0.8


def test_request_skills_and_remote(day: tuple[RequestBatch, VolunteerPool]) -> None:
    requests, _ = day
    n_skills = mask_bits(requests.skill_mask).sum(axis=1)
    assert n_skills.max() <= 2 and 0.02 < np.mean(n_skills == 0) < 0.15
    assert 0.03 < requests.remote.mean() < 0.07
    online = {1 << SKILL_BIT[c] for c in ("live_stream", "theory_lecture", "policy_explanation")}
    assert set(requests.skill_mask[requests.remote].tolist()) <= online


def test_volunteer_skills_levels_ratings(day: tuple[RequestBatch, VolunteerPool]) -> None:
    _, pool = day
    held = pool.levels > 0
    assert np.array_equal(mask_bits(pool.skill_mask).astype(bool), held)
    assert set(held.sum(axis=1).tolist()) == {1, 2, 3, 4}
    assert set(pool.levels[held].tolist()) == {1, 2, 3, 4, 5}
    share = held.mean(axis=0)
    for common in ("community_service", "elderly_care", "cleaning", "policy_explanation"):
        for rare in ("calligraphy", "fire_safety", "live_stream"):
            assert share[SKILL_BIT[common]] > 3 * share[SKILL_BIT[rare]]
    unrated = pool.rating_count == 0
    assert 0.15 < unrated.mean() < 0.35 and np.all(pool.rating[unrated] == 0)
    assert pool.rating[~unrated].min() >= 1 and pool.rating.max() <= 5
    assert pool.recent_hours.min() >= 0
    limited = pool.max_travel_km > 0
    assert 0.1 < limited.mean() < 0.3
    assert pool.max_travel_km[limited].min() >= 5 and pool.max_travel_km.max() <= 30


def test_points_cluster_near_towns_mostly_in_the_seat(
    day: tuple[RequestBatch, VolunteerPool],
) -> None:
    requests, pool = day
    for lat, lon in ((requests.lat, requests.lon), (pool.lat, pool.lon)):
        town = nearest_town(lat, lon)
        km = haversine_km(lat, lon, TOWN_LAT[town], TOWN_LON[town])
        assert km.max() <= MAX_TOWN_RADIUS_KM + 1e-6
        assert 1.0 < np.median(km) < 6.0
        share = np.bincount(town, minlength=len(TOWNS)) / len(town)
        assert int(np.argmax(share)) == 0 and 0.35 < share[0] < 0.55
        assert share.min() > 0.02


def test_uniform_day_fills_the_county_box() -> None:
    requests, pool = uniform_day(3, 2000, 5000)
    lat_min, lat_max, lon_min, lon_max = COUNTY_BOX
    for lat, lon in ((requests.lat, requests.lon), (pool.lat, pool.lon)):
        assert lat.min() >= lat_min and lat.max() <= lat_max
        assert lon.min() >= lon_min and lon.max() <= lon_max
        assert np.ptp(lat) > 0.9 * (lat_max - lat_min)


def test_nearest_town_of_each_town_is_itself() -> None:
    assert nearest_town(TOWN_LAT, TOWN_LON).tolist() == list(range(len(TOWNS)))
    assert nearest_town(np.zeros(0), np.zeros(0)).shape == (0,)
    assert sum(t.weight for t in TOWNS) == pytest.approx(1.0)


def test_day_parameter_moves_every_time() -> None:
    r1, v1 = gonghe_day(2, 50, 50)
    r2, v2 = gonghe_day(2, 50, 50, day=dt.date(2022, 6, 16))
    assert np.all(r2.start - r1.start == 24 * HOUR)
    assert np.all(v2.window_end - v1.window_end == 24 * HOUR)
    assert np.array_equal(r1.lat, r2.lat)
