"""Columnar volunteer pools from registry records.

``records_to_pool`` reads each record once; the pool view calls it only for the records
that changed, and follows the rest with ``VolunteerPool.take`` / ``concat`` (whole columns).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from matcher.core.arrays import F64
from matcher.core.model import VolunteerPool
from matcher.core.skills import N_SKILLS, SKILL_BIT, held_masks
from matcher.registry.model import VolunteerRecord


def records_to_pool(records: Sequence[VolunteerRecord]) -> VolunteerPool:
    """Columnar arrays of ``records`` (in order), windows flattened in record order."""
    n = len(records)
    profiles = [r.profile for r in records]
    levels = np.zeros((n, N_SKILLS), dtype=np.uint8)
    cells = [(i, SKILL_BIT[c], lv) for i, p in enumerate(profiles) for c, lv in p.skills]
    if cells:
        rows, cols, vals = zip(*cells, strict=True)
        levels[list(rows), list(cols)] = vals
    counts = np.fromiter((len(p.windows) for p in profiles), dtype=np.int64, count=n)
    flat = [w for p in profiles for w in p.windows]
    windows = np.array(flat, dtype=np.int64).reshape(-1, 2)

    def col(name: str) -> F64:
        return np.fromiter((getattr(p, name) for p in profiles), dtype=np.float64, count=n)

    return VolunteerPool(
        ids=tuple(r.id for r in records),
        skill_mask=held_masks(levels),
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
