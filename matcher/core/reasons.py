"""Why a request was left (partly) unserved.

Only called for requests whose every feasible pair was in the final graph (``solve``
guarantees that for any request with an unfilled slot), so the counts are exact.
"""

from __future__ import annotations

import numpy as np

from matcher.core.arrays import I32, I64
from matcher.core.candidates import SolveContext
from matcher.core.model import Reason
from matcher.core.scoring import chord_for_km, haversine_km


def diagnose(ctx: SolveContext, rows: I64, filled: I64, feasible_volunteers: I64) -> I32:
    """One ``Reason`` per entry of ``rows``.

    OUTCOMPETED when more volunteers could serve the request than it got; otherwise the
    first hard constraint that leaves too few volunteers: skills, then range, then time.
    """
    skilled_cache: dict[int, int] = {}
    out = np.zeros(len(rows), dtype=np.int32)
    for i, (row, got, feasible) in enumerate(
        zip(rows.tolist(), filled.tolist(), feasible_volunteers.tolist(), strict=True)
    ):
        if feasible > got:
            out[i] = Reason.OUTCOMPETED
            continue
        need = int(ctx.requests.skill_mask[row])
        if need not in skilled_cache:
            mask = ctx.index.pool.skill_mask
            skilled_cache[need] = int(np.count_nonzero((mask & np.uint64(need)) == need))
        if skilled_cache[need] <= got:
            out[i] = Reason.NO_SKILL
        elif not ctx.requests.remote[row] and _in_range(ctx, row) <= got:
            out[i] = Reason.OUT_OF_RANGE
        else:
            out[i] = Reason.NOT_AVAILABLE
    return out


def _in_range(ctx: SolveContext, row: int) -> int:
    """Distinct skilled volunteers within the request's distance limits."""
    ix = ctx.index
    skill_tree = ix.tree(int(ctx.skill_keys[row]))
    if skill_tree.tree is None:
        return 0
    radius = float(chord_for_km(float(ctx.radius_km[row]) + 1e-6))
    hits = np.asarray(
        skill_tree.tree.query_ball_point(ctx.request_xyz[row], r=radius), dtype=np.int64
    )
    win = skill_tree.windows[hits]
    need = ctx.requests.skill_mask[row]
    win = win[(ix.window_mask[win] & need) == need]
    owner = np.unique(ix.window_owner[win])
    pool = ix.pool
    dist = haversine_km(
        np.full(len(owner), ctx.requests.lat[row]),
        np.full(len(owner), ctx.requests.lon[row]),
        pool.lat[owner],
        pool.lon[owner],
    )
    travel = pool.max_travel_km[owner]
    limit = np.minimum(ctx.radius_km[row], np.where(travel > 0, travel, np.inf))
    return int(np.count_nonzero(dist <= limit))
