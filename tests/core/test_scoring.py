"""Tests of ``matcher.core.scoring``: geometry against independent formulas and every cost
term on a table of hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matcher.core.model import Policy, Urgency
from matcher.core.scoring import (
    EARTH_RADIUS_KM,
    chord_for_km,
    cost_terms,
    fairness_term,
    haversine_km,
    km_for_chord,
    mask_bits,
    rating_term,
    skill_term,
    unit_xyz,
)
from matcher.core.skills import N_SKILLS, SKILL_BIT, SKILL_CODES, mask_codes, skill_mask
from tests.support.core import QABQA, great_circle_km

DAOTANGHE = (36.41, 100.97)
HALF_CIRCUMFERENCE_KM = math.pi * EARTH_RADIUS_KM


def one(x: float) -> np.ndarray:
    return np.array([x], dtype=np.float64)


def equirectangular_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Flat-earth approximation, good to well under 0.1% over a few tens of km."""
    mean_lat = math.radians((lat1 + lat2) / 2)
    dx = math.radians(lon2 - lon1) * math.cos(mean_lat)
    dy = math.radians(lat2 - lat1)
    return EARTH_RADIUS_KM * math.hypot(dx, dy)


# --- distances ---------------------------------------------------------------------------

# (name, lat1, lon1, lat2, lon2, km): values that follow from the sphere's radius alone.
KNOWN = [
    ("same point", *QABQA, *QABQA, 0.0),
    ("one degree of latitude", 36.0, 100.0, 37.0, 100.0, HALF_CIRCUMFERENCE_KM / 180),
    ("one degree along the equator", 0.0, 10.0, 0.0, 11.0, HALF_CIRCUMFERENCE_KM / 180),
    ("equator to pole", 0.0, 100.62, 90.0, 0.0, HALF_CIRCUMFERENCE_KM / 2),
    ("antipodes", 36.27, 100.62, -36.27, -79.38, HALF_CIRCUMFERENCE_KM),
    ("across the date line", 0.0, 179.5, 0.0, -179.5, HALF_CIRCUMFERENCE_KM / 180),
]


@pytest.mark.parametrize(
    ("lat1", "lon1", "lat2", "lon2", "km"),
    [pytest.param(*row[1:], id=row[0]) for row in KNOWN],
)
def test_haversine_known_distances(
    lat1: float, lon1: float, lat2: float, lon2: float, km: float
) -> None:
    got = float(haversine_km(one(lat1), one(lon1), one(lat2), one(lon2))[0])
    assert got == pytest.approx(km, rel=1e-9, abs=1e-6)


def test_haversine_qabqa_to_daotanghe() -> None:
    got = float(haversine_km(one(QABQA[0]), one(QABQA[1]), one(DAOTANGHE[0]), one(DAOTANGHE[1]))[0])
    # Two independent formulas: the Vincenty special case and a flat-earth approximation.
    assert got == pytest.approx(great_circle_km(*QABQA, *DAOTANGHE), rel=1e-12)
    assert got == pytest.approx(equirectangular_km(*QABQA, *DAOTANGHE), rel=1e-3)
    assert got == pytest.approx(35.0, abs=0.05)


@settings(max_examples=60, deadline=None)
@given(
    st.floats(-89, 89),
    st.floats(-180, 180),
    st.floats(-89, 89),
    st.floats(-180, 180),
)
def test_haversine_matches_vincenty_and_is_symmetric(
    lat1: float, lon1: float, lat2: float, lon2: float
) -> None:
    there = float(haversine_km(one(lat1), one(lon1), one(lat2), one(lon2))[0])
    back = float(haversine_km(one(lat2), one(lon2), one(lat1), one(lon1))[0])
    assert there == pytest.approx(great_circle_km(lat1, lon1, lat2, lon2), rel=1e-6, abs=1e-6)
    assert there == pytest.approx(back, rel=1e-12, abs=1e-9)
    assert 0.0 <= there <= HALF_CIRCUMFERENCE_KM + 1e-6


def test_haversine_is_elementwise() -> None:
    lat1 = np.array([QABQA[0], 0.0, 36.0])
    lon1 = np.array([QABQA[1], 10.0, 100.0])
    lat2 = np.array([DAOTANGHE[0], 0.0, 37.0])
    lon2 = np.array([DAOTANGHE[1], 11.0, 100.0])
    got = haversine_km(lat1, lon1, lat2, lon2)
    expected = [great_circle_km(*args) for args in zip(lat1, lon1, lat2, lon2, strict=True)]
    assert got.shape == (3,)
    assert np.allclose(got, expected, rtol=1e-12)


def test_unit_xyz_on_the_unit_sphere_and_chord_matches_distance() -> None:
    lat = np.array([QABQA[0], DAOTANGHE[0], 90.0, -45.0, 0.0])
    lon = np.array([QABQA[1], DAOTANGHE[1], 0.0, 170.0, -10.0])
    xyz = unit_xyz(lat, lon)
    assert xyz.shape == (5, 3)
    assert np.allclose(np.linalg.norm(xyz, axis=1), 1.0)
    assert np.allclose(xyz[2], [0.0, 0.0, 1.0], atol=1e-15)
    chord = np.linalg.norm(xyz[:, None, :] - xyz[None, :, :], axis=2)
    km = haversine_km(
        np.repeat(lat, 5), np.repeat(lon, 5), np.tile(lat, 5), np.tile(lon, 5)
    ).reshape(5, 5)
    assert np.allclose(chord_for_km(km), chord, atol=1e-12)
    assert np.allclose(km_for_chord(chord), km, atol=1e-6)


@pytest.mark.parametrize(
    ("km", "chord"),
    [
        (0.0, 0.0),
        (HALF_CIRCUMFERENCE_KM / 2, math.sqrt(2.0)),  # a quarter circle
        (HALF_CIRCUMFERENCE_KM / 3, 1.0),  # 60 degrees: an equilateral triangle
        (HALF_CIRCUMFERENCE_KM, 2.0),  # antipodes
        (3 * HALF_CIRCUMFERENCE_KM, 2.0),  # capped at the antipodes
    ],
)
def test_chord_for_km_known_values(km: float, chord: float) -> None:
    assert float(chord_for_km(km)) == pytest.approx(chord, abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(st.floats(0.0, HALF_CIRCUMFERENCE_KM))
def test_chord_km_round_trip(km: float) -> None:
    chord = chord_for_km(np.array([km]))
    assert 0.0 <= float(chord[0]) <= 2.0
    # arcsin is ill-conditioned near the antipodes: allow a looser tolerance there.
    tol = 1e-6 if km < 0.99 * HALF_CIRCUMFERENCE_KM else 1.0
    assert float(km_for_chord(chord)[0]) == pytest.approx(km, abs=tol)


def test_chord_is_monotone_in_km() -> None:
    km = np.linspace(0.0, HALF_CIRCUMFERENCE_KM, 2001)
    assert np.all(np.diff(chord_for_km(km)) > 0)
    assert float(km_for_chord(np.array([2.5]))[0]) == pytest.approx(HALF_CIRCUMFERENCE_KM)


# --- skills -------------------------------------------------------------------------------


def test_mask_bits_round_trip_with_skill_codes() -> None:
    sets = [(), ("cleaning",), ("theory_lecture", "live_stream"), SKILL_CODES]
    masks = np.array([skill_mask(codes) for codes in sets], dtype=np.uint64)
    bits = mask_bits(masks)
    assert bits.shape == (4, N_SKILLS)
    assert bits.dtype == np.uint8
    for codes, row, mask in zip(sets, bits, masks, strict=True):
        assert sorted(np.flatnonzero(row).tolist()) == sorted(SKILL_BIT[c] for c in codes)
        assert mask_codes(int(mask)) == [c for c in SKILL_CODES if c in codes]


# --- cost terms ---------------------------------------------------------------------------

# (rating, rating_count, term): the mean is shrunk towards 4.0 by 5 pseudo-ratings.
RATINGS = [
    (0.0, 0, 0.25),  # unrated: at the prior, (5 - 4) / 4
    (1.0, 0, 0.25),  # a rating with count 0 carries no weight
    (5.0, 5, 0.125),  # (25 + 20) / 10 = 4.5
    (1.0, 5, 0.625),  # (5 + 20) / 10 = 2.5
    (3.0, 15, 0.4375),  # (45 + 20) / 20 = 3.25
    (5.0, 1, (5.0 - 25.0 / 6.0) / 4.0),  # one 5-star rating barely moves the prior
    (5.0, 995, 0.00125),  # (4975 + 20) / 1000 = 4.995
    (4.0, 100, 0.25),  # the prior itself
]


@pytest.mark.parametrize(("rating", "count", "term"), RATINGS)
def test_rating_term_shrinks_towards_prior(rating: float, count: int, term: float) -> None:
    got = rating_term(one(rating), np.array([count], dtype=np.int64))
    assert float(got[0]) == pytest.approx(term, abs=1e-12)


def test_rating_term_vectorised_and_bounded() -> None:
    rating = np.array([r for r, _, _ in RATINGS])
    count = np.array([c for _, c, _ in RATINGS], dtype=np.int64)
    got = rating_term(rating, count)
    assert np.allclose(got, [t for _, _, t in RATINGS])
    assert np.all((got >= 0) & (got <= 1))


@pytest.mark.parametrize(
    ("hours", "term"),
    [(0.0, 0.0), (20.0, 0.5), (60.0, 0.75), (5.0, 0.2), (-3.0, 0.0), (380.0, 0.95)],
)
def test_fairness_term(hours: float, term: float) -> None:
    assert float(fairness_term(one(hours))[0]) == pytest.approx(term, abs=1e-8)


def _need_and_levels(need: dict[str, int], held: dict[str, int]) -> tuple[np.ndarray, np.ndarray]:
    need_bits = np.zeros((1, N_SKILLS), dtype=np.uint8)
    levels = np.zeros((1, N_SKILLS), dtype=np.uint8)
    for code in need:
        need_bits[0, SKILL_BIT[code]] = 1
    for code, level in held.items():
        levels[0, SKILL_BIT[code]] = level
    return need_bits, levels


@pytest.mark.parametrize(
    ("need", "held", "term"),
    [
        ({}, {"cleaning": 1}, 0.0),  # no skill asked: no skill cost
        ({}, {}, 0.0),
        ({"cleaning": 1}, {"cleaning": 5}, 0.0),
        ({"cleaning": 1}, {"cleaning": 1}, 1.0),
        ({"cleaning": 1}, {"cleaning": 3}, 0.5),
        ({"cleaning": 1, "tutoring": 1}, {"cleaning": 5, "tutoring": 3}, 0.25),
        ({"cleaning": 1, "tutoring": 1}, {"cleaning": 2, "tutoring": 2, "calligraphy": 5}, 0.75),
        ({"tutoring": 1}, {"cleaning": 5, "tutoring": 4}, 0.25),  # levels not asked ignored
    ],
)
def test_skill_term(need: dict[str, int], held: dict[str, int], term: float) -> None:
    need_bits, levels = _need_and_levels(need, held)
    assert float(skill_term(need_bits, levels)[0]) == pytest.approx(term, abs=1e-12)


def test_cost_terms_weights_each_column() -> None:
    policy = Policy(distance_weight=0.5, skill_weight=3.0, rating_weight=7.0, fairness_weight=11.0)
    need_bits = np.zeros((3, N_SKILLS), dtype=np.uint8)
    levels = np.zeros((3, N_SKILLS), dtype=np.uint8)
    c, t = SKILL_BIT["cleaning"], SKILL_BIT["tutoring"]
    need_bits[0, c] = 1
    levels[0, c] = 3  # skill term 0.5
    need_bits[1, [c, t]] = 1
    levels[1, [c, t]] = (5, 3)  # skill term 0.25
    levels[2, c] = 1  # nothing asked: 0
    distance = np.array([2.0, 0.0, 10.0])
    rating_t = np.array([0.25, 0.125, 0.0])
    fairness_t = np.array([0.0, 0.5, 0.75])
    got = cost_terms(policy, distance, need_bits, levels, rating_t, fairness_t)
    expected = np.array(
        [
            [1.0, 1.5, 1.75, 0.0],
            [0.0, 0.75, 0.875, 5.5],
            [5.0, 0.0, 0.0, 8.25],
        ]
    )
    assert got.shape == (3, 4)
    assert np.allclose(got, expected, atol=1e-12)


def test_zero_weights_zero_cost() -> None:
    policy = Policy(distance_weight=0.0, skill_weight=0.0, rating_weight=0.0, fairness_weight=0.0)
    need_bits, levels = _need_and_levels({"cleaning": 1}, {"cleaning": 1})
    got = cost_terms(policy, one(12.0), need_bits, levels, one(1.0), one(0.9))
    assert np.array_equal(got, np.zeros((1, 4)))


def test_policy_values_and_max_pair_cost() -> None:
    policy = Policy(routine_value=1, urgent_value=7, difficult_value=3)
    codes = np.array([Urgency.URGENT, Urgency.ROUTINE, Urgency.DIFFICULT, Urgency.URGENT])
    assert policy.values(codes.astype(np.int32)).tolist() == [7, 1, 3, 7]
    assert policy.value_of(Urgency.DIFFICULT) == 3
    default = Policy()
    assert default.max_pair_cost == pytest.approx(15.0 + 2.0 + 2.0 + 1.0)


@settings(max_examples=60, deadline=None)
@given(
    km=st.floats(0, 15),
    level=st.integers(1, 5),
    rating=st.floats(0, 5),
    count=st.integers(0, 1000),
    hours=st.floats(0, 1e4),
)
def test_any_pair_cost_within_max_pair_cost(
    km: float, level: int, rating: float, count: int, hours: float
) -> None:
    policy = Policy()
    need_bits, levels = _need_and_levels({"cleaning": 1}, {"cleaning": level})
    terms = cost_terms(
        policy,
        one(km),
        need_bits,
        levels,
        rating_term(one(rating), np.array([count], dtype=np.int64)),
        fairness_term(one(hours)),
    )
    assert np.all(terms >= 0)
    assert float(terms.sum()) <= policy.max_pair_cost
