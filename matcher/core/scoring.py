"""Geometry and the cost of a (request, volunteer) pair.

The cost of a pair is the weighted sum of four terms (see ``Policy``):

* distance: great-circle km from the volunteer's home to the request (0 when remote);
* skill: ``(5 - mean level of the required skills) / 4`` in [0, 1] (0 with no skills asked);
* rating: ``(5 - shrunk mean rating) / 4`` in [0, 1]; the mean is shrunk towards
  ``RATING_PRIOR`` by ``RATING_PSEUDO_COUNT`` pseudo-ratings so one rating does not dominate;
* fairness: ``recent_hours / (recent_hours + FAIRNESS_HALF_HOURS)`` in [0, 1).

The rating and fairness terms depend on the volunteer only ("static" costs); the skill and
distance terms depend on the pair. Every term is non-negative, which the optimality proof in
``solve`` relies on (a pruned pair costs at least its distance term).
"""

from __future__ import annotations

import numpy as np

from matcher.core.arrays import F64, I64, U8, U64
from matcher.core.model import Policy
from matcher.core.skills import SKILL_BITS

EARTH_RADIUS_KM = 6371.0088
RATING_PRIOR = 4.0
RATING_PSEUDO_COUNT = 5.0
FAIRNESS_HALF_HOURS = 20.0


def unit_xyz(lat: F64, lon: F64) -> F64:
    """Points on the unit sphere, shape (n, 3): chord length is monotone in great-circle
    distance, so a k-d tree over these answers nearest-by-distance exactly."""
    la = np.radians(lat)
    lo = np.radians(lon)
    cos_la = np.cos(la)
    return np.column_stack((cos_la * np.cos(lo), cos_la * np.sin(lo), np.sin(la)))


def chord_for_km(km: F64 | float) -> F64:
    """Unit-sphere chord length of a great-circle distance in km."""
    angle = np.minimum(np.asarray(km, dtype=np.float64) / EARTH_RADIUS_KM, np.pi)
    out: F64 = 2.0 * np.sin(angle / 2.0)
    return out


def km_for_chord(chord: F64) -> F64:
    """Great-circle km of a unit-sphere chord length."""
    out: F64 = 2.0 * EARTH_RADIUS_KM * np.arcsin(np.clip(chord / 2.0, 0.0, 1.0))
    return out


def haversine_km(lat1: F64, lon1: F64, lat2: F64, lon2: F64) -> F64:
    """Great-circle distance in km, element-wise (haversine formula)."""
    p1 = np.radians(lat1)
    p2 = np.radians(lat2)
    dp = p2 - p1
    dl = np.radians(lon2 - lon1)
    a = np.sin(dp / 2.0) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2.0) ** 2
    out: F64 = 2.0 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))
    return out


def mask_bits(mask: U64) -> U8:
    """Unpack skill masks to a (n, N_SKILLS) 0/1 matrix."""
    out: U8 = ((mask[:, None] & SKILL_BITS[None, :]) != 0).astype(np.uint8)
    return out


def rating_term(rating: F64, rating_count: I64) -> F64:
    """``(5 - shrunk mean) / 4``; an unrated volunteer sits at the prior."""
    count = rating_count.astype(np.float64)
    shrunk = (rating * count + RATING_PRIOR * RATING_PSEUDO_COUNT) / (count + RATING_PSEUDO_COUNT)
    out: F64 = np.clip((5.0 - shrunk) / 4.0, 0.0, 1.0)
    return out


def fairness_term(recent_hours: F64) -> F64:
    """``h / (h + FAIRNESS_HALF_HOURS)``: more hours already served, higher cost."""
    h = np.maximum(recent_hours, 0.0)
    out: F64 = h / (h + FAIRNESS_HALF_HOURS)
    return out


def skill_term(need_bits: U8, levels: U8) -> F64:
    """``(5 - mean level of the required skills) / 4`` per pair, in [0, 1].

    ``need_bits`` (pairs, N_SKILLS) marks the required skills, ``levels`` (pairs, N_SKILLS)
    holds the volunteer's levels. A request asking for no skill gets 0.
    """
    n_need = need_bits.sum(axis=1, dtype=np.int64)
    total = (need_bits.astype(np.int64) * levels).sum(axis=1)
    return skill_term_of_sum(total, n_need)


def skill_term_of_sum(level_sum: I64, n_need: I64) -> F64:
    """The skill term from the sum of the required skills' levels and their count."""
    mean = np.where(n_need > 0, level_sum / np.maximum(n_need, 1), 5.0)
    out: F64 = np.clip((5.0 - mean) / 4.0, 0.0, 1.0)
    return out


def cost_terms(
    policy: Policy,
    distance_km: F64,
    need_bits: U8,
    levels: U8,
    rating_t: F64,
    fairness_t: F64,
) -> F64:
    """The four weighted cost terms per pair, shape (pairs, 4):
    distance, skill, rating, fairness (column order of ``CostBreakdown``)."""
    return weighted_terms(policy, distance_km, skill_term(need_bits, levels), rating_t, fairness_t)


def weighted_terms(
    policy: Policy, distance_km: F64, skill_t: F64, rating_t: F64, fairness_t: F64
) -> F64:
    """Stack the four unweighted terms, multiplied by the policy's weights."""
    return np.column_stack(
        (
            policy.distance_weight * distance_km,
            policy.skill_weight * skill_t,
            policy.rating_weight * rating_t,
            policy.fairness_weight * fairness_t,
        )
    )
