"""Seeded synthetic data for demos, tests and benchmarks: one day of requests and volunteers.

``gonghe_day`` clusters people around the eleven towns of Gonghe County (most in the county
seat, Qabqa), which is the realistic, hard shape: dense towns tens of kilometres apart.
``uniform_day`` spreads them evenly over the county's bounding box instead, for benchmarks
that want a neutral geography. Both return the core's columnar types directly.

Generation is vectorised numpy (the only per-row Python is the id tuple), so 200,000
volunteers take a fraction of a second. The same seed always gives the same data.
Times are local (China Standard Time, UTC+8) on the given day, as epoch seconds.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from matcher.core.arrays import F64, I32, I64, U64, Bool
from matcher.core.model import RequestBatch, Urgency, VolunteerPool
from matcher.core.skills import N_SKILLS, SKILL_BIT, SKILL_CODES


class Town(NamedTuple):
    """A place people cluster around; ``weight`` is its share of the county's people."""

    name_en: str
    name_zh: str
    lat: float
    lon: float
    weight: float


#: The towns and townships of Gonghe County (DOMAIN.md); weights sum to 1.
TOWNS: tuple[Town, ...] = (
    Town("Qabqa", "恰卜恰镇", 36.27, 100.62, 0.46),
    Town("Daotanghe", "倒淌河镇", 36.41, 100.97, 0.07),
    Town("Longyangxia", "龙羊峡镇", 36.07, 100.91, 0.07),
    Town("Tanggemu", "塘格木镇", 35.97, 100.21, 0.06),
    Town("Heimahe", "黑马河镇", 36.73, 99.78, 0.05),
    Town("Shinaihai", "石乃亥镇", 36.83, 99.59, 0.04),
    Town("Jiangxigou", "江西沟镇", 36.62, 100.30, 0.05),
    Town("Shazhuyu", "沙珠玉乡", 36.30, 100.26, 0.05),
    Town("Tiegai", "铁盖乡", 36.17, 100.55, 0.06),
    Town("Niandi", "廿地乡", 36.07, 100.72, 0.05),
    Town("Qieji", "切吉乡", 36.10, 99.70, 0.04),
)
TOWN_LAT: F64 = np.array([t.lat for t in TOWNS])
TOWN_LON: F64 = np.array([t.lon for t in TOWNS])
TOWN_WEIGHT: F64 = np.array([t.weight for t in TOWNS])
#: Spread (standard deviation, km) of people around each town; the seat is larger.
TOWN_SPREAD_KM: F64 = np.where(np.arange(len(TOWNS)) == 0, 4.0, 2.5)
MAX_TOWN_RADIUS_KM = 15.0
#: The county's bounding box, (lat_min, lat_max, lon_min, lon_max), for ``uniform_day``.
COUNTY_BOX = (35.90, 36.90, 99.50, 101.05)

EARTH_RADIUS_KM = 6371.0088
KM_PER_DEG = EARTH_RADIUS_KM * np.pi / 180.0
CST = dt.timezone(dt.timedelta(hours=8), "CST")
DEFAULT_DAY = dt.date(2022, 6, 15)
HOUR = 3600

# How often each skill appears among volunteers and in requests (relative weights).
_COMMON = {"community_service": 10.0, "elderly_care": 8.0, "cleaning": 8.0}
_COMMON |= {"policy_explanation": 7.0, "epidemic_prevention": 5.0, "help_the_weak": 4.0}
_RARE = {"calligraphy": 0.8, "fire_safety": 0.8, "live_stream": 0.7, "folk_handicraft": 0.8}
_RARE |= {"film_screening": 0.9, "custom_reform": 1.0}
SKILL_WEIGHT: F64 = np.array([_COMMON.get(c, _RARE.get(c, 2.0)) for c in SKILL_CODES])
_SKILL_COUNT_P = (0.35, 0.35, 0.2, 0.1)  # 1..4 skills per volunteer
_LEVEL_P = (0.15, 0.25, 0.3, 0.2, 0.1)  # levels 1..5
# Day blocks (start hour, end hour, weight): volunteers have at most one window per block,
# so their windows never overlap; requests fall inside one block.
_BLOCKS: I64 = np.array([[7, 12], [12, 18], [18, 22]], dtype=np.int64) * HOUR
_BLOCK_P: F64 = np.array([0.45, 0.4, 0.15])
_WINDOW_COUNT_P = (0.5, 0.35, 0.15)  # 1..3 windows per volunteer
# Remote (online) requests ask for one of these.
_ONLINE = ("live_stream", "theory_lecture", "policy_explanation")
_REMOTE_SKILLS = np.array([SKILL_BIT[c] for c in _ONLINE], dtype=np.uint64)

Placer = Callable[[np.random.Generator, int], tuple[F64, F64]]


def gonghe_day(
    seed: int, n_requests: int, n_volunteers: int, *, day: dt.date | None = None
) -> tuple[RequestBatch, VolunteerPool]:
    """One day in Gonghe County: people clustered around the towns by ``TOWNS`` weight."""
    return _generate(seed, n_requests, n_volunteers, day or DEFAULT_DAY, _near_towns)


def uniform_day(
    seed: int, n_requests: int, n_volunteers: int, *, day: dt.date | None = None
) -> tuple[RequestBatch, VolunteerPool]:
    """One day with people spread uniformly over the county's bounding box."""
    return _generate(seed, n_requests, n_volunteers, day or DEFAULT_DAY, _uniform_box)


def nearest_town(lat: F64, lon: F64) -> I64:
    """Index into ``TOWNS`` of the nearest town to each point (great-circle distance)."""
    lat1 = np.radians(np.asarray(lat, dtype=np.float64))[:, None]
    lon1 = np.radians(np.asarray(lon, dtype=np.float64))[:, None]
    lat2, lon2 = np.radians(TOWN_LAT)[None, :], np.radians(TOWN_LON)[None, :]
    h = (
        np.sin((lat2 - lat1) / 2) ** 2
        + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    )
    out: I64 = np.argmin(h, axis=1).astype(np.int64)
    return out


def day_start(day: dt.date) -> int:
    """Local midnight of ``day`` as epoch seconds."""
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=CST).timestamp())


def _generate(
    seed: int, n_requests: int, n_volunteers: int, day: dt.date, place: Placer
) -> tuple[RequestBatch, VolunteerPool]:
    if n_requests < 0 or n_volunteers < 0:
        raise ValueError("n_requests and n_volunteers must be >= 0")
    req_rng, vol_rng = np.random.default_rng(seed).spawn(2)
    midnight = day_start(day)
    return (
        _requests(req_rng, n_requests, midnight, place),
        _volunteers(vol_rng, n_volunteers, midnight, place),
    )


def _near_towns(rng: np.random.Generator, n: int) -> tuple[F64, F64]:
    """Points around towns: gaussian offsets, capped at ``MAX_TOWN_RADIUS_KM``."""
    town = rng.choice(len(TOWNS), size=n, p=TOWN_WEIGHT / TOWN_WEIGHT.sum())
    offset = rng.normal(size=(n, 2)) * TOWN_SPREAD_KM[town][:, None]
    radius = np.hypot(offset[:, 0], offset[:, 1])
    offset *= np.minimum(1.0, MAX_TOWN_RADIUS_KM / np.maximum(radius, 1e-9))[:, None]
    lat = TOWN_LAT[town] + offset[:, 0] / KM_PER_DEG
    lon = TOWN_LON[town] + offset[:, 1] / (KM_PER_DEG * np.cos(np.radians(TOWN_LAT[town])))
    return lat, lon


def _uniform_box(rng: np.random.Generator, n: int) -> tuple[F64, F64]:
    lat_min, lat_max, lon_min, lon_max = COUNTY_BOX
    return rng.uniform(lat_min, lat_max, n), rng.uniform(lon_min, lon_max, n)


def _ids(prefix: str, n: int) -> tuple[str, ...]:
    return tuple(f"{prefix}-{i:06d}" for i in range(n))


def _top_k(rng: np.random.Generator, weights: F64, k: I64) -> Bool:
    """Per row, a weighted sample of ``k[row]`` distinct columns, as a mask.

    Exponential races (Efraimidis-Spirakis): column ``j`` arrives at ``E_j / w_j`` with
    ``E_j ~ Exp(1)``; the first ``k`` arrivals are a weighted sample without replacement.
    """
    arrival = rng.standard_exponential((len(k), len(weights)), dtype=np.float32)
    arrival /= weights.astype(np.float32)[None, :]
    k_max = int(k.max(initial=1))
    first = np.sort(np.partition(arrival, k_max - 1, axis=1)[:, :k_max], axis=1)
    held: Bool = arrival <= first[np.arange(len(k)), k - 1][:, None]
    return held


def _bits(held: Bool) -> U64:
    """Skill bit masks from a boolean (rows, N_SKILLS) matrix."""
    weights = np.left_shift(np.uint64(1), np.arange(held.shape[1], dtype=np.uint64))
    out: U64 = (held.astype(np.uint64) * weights[None, :]).sum(axis=1, dtype=np.uint64)
    return out


def _volunteers(rng: np.random.Generator, n: int, midnight: int, place: Placer) -> VolunteerPool:
    lat, lon = place(rng, n)
    held = _top_k(rng, SKILL_WEIGHT, rng.choice(4, size=n, p=_SKILL_COUNT_P) + 1)
    levels = np.zeros((n, N_SKILLS), dtype=np.uint8)
    levels[held] = rng.choice(5, size=int(held.sum()), p=_LEVEL_P) + 1
    rated = rng.random(n) >= 0.25
    rating_count = np.where(rated, 1 + rng.geometric(0.12, n), 0).astype(np.int64)
    rating = np.where(rated, np.round(np.clip(rng.normal(4.3, 0.5, n), 1.0, 5.0), 2), 0.0)
    hours = np.round(rng.exponential(8.0, n) * 2) / 2 * (rng.random(n) >= 0.2)
    limited = rng.random(n) < 0.2
    max_travel = np.where(limited, rng.integers(5, 31, n), 0).astype(np.float64)
    owner, start, end = _availability(rng, n, midnight)
    return VolunteerPool(
        ids=_ids("vol", n),
        skill_mask=_bits(held),
        levels=levels,
        lat=lat,
        lon=lon,
        max_travel_km=max_travel,
        rating=rating,
        rating_count=rating_count,
        recent_hours=hours,
        window_owner=owner,
        window_start=start,
        window_end=end,
    )


def _availability(rng: np.random.Generator, n: int, midnight: int) -> tuple[I32, I64, I64]:
    """1-3 windows of 2-5 hours per volunteer, at most one per day block, in time order."""
    in_block = _top_k(rng, _BLOCK_P, rng.choice(3, size=n, p=_WINDOW_COUNT_P) + 1)
    owner, block = np.nonzero(in_block)  # row-major: by owner, then block (time order)
    lo, hi = _BLOCKS[block, 0], _BLOCKS[block, 1]
    longest = np.minimum(5 * HOUR, hi - lo)
    length = 2 * HOUR + _steps(rng, longest - 2 * HOUR, HOUR // 2)
    start = midnight + lo + _steps(rng, hi - lo - length, HOUR // 2)
    return owner.astype(np.int32), start, start + length


def _steps(rng: np.random.Generator, span: I64, step: int) -> I64:
    """A uniform multiple of ``step`` in ``[0, span]`` for each element."""
    out: I64 = rng.integers(0, span // step + 1) * step
    return out


def _requests(rng: np.random.Generator, n: int, midnight: int, place: Placer) -> RequestBatch:
    lat, lon = place(rng, n)
    urgency = rng.choice(
        np.array([Urgency.ROUTINE, Urgency.URGENT, Urgency.DIFFICULT], dtype=np.int32),
        size=n,
        p=(0.7, 0.15, 0.15),
    )
    slots = np.where(urgency == Urgency.DIFFICULT, rng.integers(2, 5, n), 1)
    slots[(urgency == Urgency.ROUTINE) & (rng.random(n) < 0.05)] = 2
    remote = rng.random(n) < 0.05
    need = _bits(_top_k(rng, SKILL_WEIGHT, rng.choice(2, size=n, p=(0.7, 0.3)) + 1))
    need[rng.random(n) < 0.08] = 0  # "anyone will do"
    online = np.left_shift(np.uint64(1), rng.choice(_REMOTE_SKILLS, n))
    need = np.where(remote, online, need).astype(np.uint64)
    block = rng.choice(len(_BLOCKS), size=n, p=_BLOCK_P)
    length = HOUR // 2 + _steps(rng, np.full(n, HOUR + HOUR // 2), HOUR // 4)
    span = _BLOCKS[block, 1] - _BLOCKS[block, 0] - length
    start = midnight + _BLOCKS[block, 0] + _steps(rng, span, HOUR // 4)
    limited = rng.random(n) < 0.1
    max_distance = np.where(limited, rng.choice(np.array([5.0, 10.0, 20.0]), n), 0.0)
    return RequestBatch(
        ids=_ids("req", n),
        skill_mask=need,
        lat=lat,
        lon=lon,
        start=start.astype(np.int64),
        end=(start + length).astype(np.int64),
        urgency=urgency,
        slots=slots.astype(np.int32),
        remote=remote,
        max_distance_km=max_distance,
    )
