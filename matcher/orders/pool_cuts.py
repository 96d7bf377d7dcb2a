"""The pool a round solves against: the registered pool minus the time already held.

A live hold (an open offer before its deadline, or an accepted order) is cut out of its
volunteer's availability windows, so the core never proposes a pair the store would refuse
for that reason; a volunteer the round has given up on (another dispatcher took their time
first) loses every window. Volunteer rows are kept, so volunteer indices stay the same from
one solve of a round to the next. Only the affected volunteers' windows are rebuilt.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Collection, Sequence

import numpy as np

from matcher.core.arrays import I64
from matcher.core.intervals import Span, subtract
from matcher.core.model import VolunteerPool
from matcher.orders.model import Hold


def cut_pool(
    pool: VolunteerPool, holds: Sequence[Hold], dropped: Collection[str] = ()
) -> VolunteerPool:
    """``pool`` without the held intervals and without the ``dropped`` volunteers' windows
    (``pool`` itself when nothing applies). ``holds`` should be the live ones."""
    row_of = {vid: i for i, vid in enumerate(pool.ids)}
    cuts: dict[int, list[Span]] = defaultdict(list)
    for hold in holds:
        row = row_of.get(hold.volunteer_id)
        if row is not None:
            cuts[row].append((hold.start, hold.end))
    gone = {row_of[v] for v in dropped if v in row_of}
    if not cuts and not gone:
        return pool
    owner = pool.window_owner.astype(np.int64)
    affected = np.isin(owner, np.array(sorted(set(cuts) | gone), dtype=np.int64))
    extra = _pieces(pool, np.flatnonzero(affected).tolist(), cuts, gone)
    keep = ~affected
    all_owner = np.concatenate((owner[keep], extra[:, 0]))
    all_start = np.concatenate((pool.window_start[keep], extra[:, 1]))
    all_end = np.concatenate((pool.window_end[keep], extra[:, 2]))
    order = np.lexsort((all_start, all_owner))
    return dataclasses.replace(
        pool,
        window_owner=all_owner[order].astype(np.int32),
        window_start=all_start[order],
        window_end=all_end[order],
    )


def _pieces(
    pool: VolunteerPool,
    windows: list[int],
    cuts: dict[int, list[Span]],
    gone: set[int],
) -> I64:
    """What is left of ``windows`` after the cuts, as rows (volunteer row, start, end)."""
    pieces: list[tuple[int, int, int]] = []
    for w in windows:
        row = int(pool.window_owner[w])
        if row in gone:
            continue
        spans: tuple[Span, ...] = ((int(pool.window_start[w]), int(pool.window_end[w])),)
        for start, end in cuts.get(row, ()):
            spans = subtract(spans, start, end)
        pieces += [(row, s, e) for s, e in spans]
    return np.array(pieces, dtype=np.int64).reshape(-1, 3)
