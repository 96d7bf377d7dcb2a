"""Columnar volunteer pools from registry records, and the column surgery the pool view uses
to follow changes without rebuilding: concatenate two pools, reorder one.

All of it is numpy over whole columns except ``records_to_pool``, which reads each record
once; the pool view calls that only for the records that changed.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from matcher.core.arrays import F64, I64
from matcher.core.model import VolunteerPool
from matcher.core.skills import N_SKILLS, SKILL_BIT
from matcher.registry.model import VolunteerRecord

_BITS = np.uint64(1) << np.arange(N_SKILLS, dtype=np.uint64)


def records_to_pool(records: Sequence[VolunteerRecord]) -> VolunteerPool:
    """Columnar arrays of ``records`` (in order), windows flattened in record order."""
    n = len(records)
    profiles = [r.profile for r in records]
    levels = np.zeros((n, N_SKILLS), dtype=np.uint8)
    cells = [(i, SKILL_BIT[c], lv) for i, p in enumerate(profiles) for c, lv in p.skills]
    if cells:
        rows, cols, vals = zip(*cells, strict=True)
        levels[list(rows), list(cols)] = vals
    mask = np.bitwise_or.reduce(np.where(levels > 0, _BITS, np.uint64(0)), axis=1)
    counts = np.fromiter((len(p.windows) for p in profiles), dtype=np.int64, count=n)
    flat = [w for p in profiles for w in p.windows]
    windows = np.array(flat, dtype=np.int64).reshape(-1, 2)

    def col(name: str) -> F64:
        return np.fromiter((getattr(p, name) for p in profiles), dtype=np.float64, count=n)

    return VolunteerPool(
        ids=tuple(r.id for r in records),
        skill_mask=mask.astype(np.uint64),
        levels=levels,
        lat=col("lat"),
        lon=col("lon"),
        max_travel_km=col("max_travel_km"),
        rating=col("rating"),
        rating_count=np.fromiter((p.rating_count for p in profiles), dtype=np.int64, count=n),
        recent_hours=col("recent_hours"),
        window_owner=np.repeat(np.arange(n, dtype=np.int32), counts),
        window_start=windows[:, 0].copy(),
        window_end=windows[:, 1].copy(),
    )


def concat_pools(first: VolunteerPool, second: VolunteerPool) -> VolunteerPool:
    """The volunteers of ``first`` then those of ``second``."""
    return VolunteerPool(
        ids=first.ids + second.ids,
        skill_mask=np.concatenate([first.skill_mask, second.skill_mask]),
        levels=np.concatenate([first.levels, second.levels]),
        lat=np.concatenate([first.lat, second.lat]),
        lon=np.concatenate([first.lon, second.lon]),
        max_travel_km=np.concatenate([first.max_travel_km, second.max_travel_km]),
        rating=np.concatenate([first.rating, second.rating]),
        rating_count=np.concatenate([first.rating_count, second.rating_count]),
        recent_hours=np.concatenate([first.recent_hours, second.recent_hours]),
        window_owner=np.concatenate(
            [first.window_owner, second.window_owner + np.int32(len(first))]
        ).astype(np.int32),
        window_start=np.concatenate([first.window_start, second.window_start]),
        window_end=np.concatenate([first.window_end, second.window_end]),
    )


def reorder_pool(pool: VolunteerPool, order: I64) -> VolunteerPool:
    """The volunteers in ``order`` (a permutation of the rows); windows grouped by their new
    row, each volunteer's windows kept in their order."""
    new_row = np.empty(len(pool), dtype=np.int64)
    new_row[order] = np.arange(len(order), dtype=np.int64)
    owner = new_row[pool.window_owner]
    by_owner = np.argsort(owner, kind="stable")
    ids = pool.ids
    return VolunteerPool(
        ids=tuple(ids[i] for i in order.tolist()),
        skill_mask=pool.skill_mask[order],
        levels=pool.levels[order],
        lat=pool.lat[order],
        lon=pool.lon[order],
        max_travel_km=pool.max_travel_km[order],
        rating=pool.rating[order],
        rating_count=pool.rating_count[order],
        recent_hours=pool.recent_hours[order],
        window_owner=owner[by_owner].astype(np.int32),
        window_start=pool.window_start[by_owner],
        window_end=pool.window_end[by_owner],
    )
