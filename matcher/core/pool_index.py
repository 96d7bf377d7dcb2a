"""An immutable, query-ready view of a volunteer pool: per-window columns and k-d trees
keyed by (skill, time bucket).

A request's candidates are searched in the tree of its *rarest* required skill (all
windows when it asks for none), restricted to the windows that overlap the time bucket of
the request's start: every window that contains the request's window contains its start,
so it is in that bucket. The skill and time filters then reject few of the points a tree
returns. Buckets are ``bucket_seconds`` wide, chosen per pool so that a window is listed
in about two buckets on average. Trees are built lazily, once per key, and shared by
every Match that uses the same index (the registered pool keeps one index until the pool
changes).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from matcher.core.arrays import F64, I64, U64
from matcher.core.model import VolunteerPool
from matcher.core.scoring import fairness_term, rating_term, unit_xyz
from matcher.core.skills import N_SKILLS

ALL_SKILLS = -1  # skill key for requests that ask for no particular skill
ANY_TIME = -(2**62)  # bucket key for a tree over every window, whatever its time
_MIN_BUCKET_SECONDS = 3600
_LISTINGS_PER_WINDOW = 2


@dataclass(frozen=True)
class SkillTree:
    """Some windows (by skill and time bucket) and a k-d tree over their homes."""

    windows: I64
    tree: cKDTree | None  # None when there is no such window

    @property
    def size(self) -> int:
        return len(self.windows)


class PoolIndex:
    """Columns of a pool laid out per availability window, plus lazily built trees."""

    def __init__(self, pool: VolunteerPool) -> None:
        self.pool = pool
        owner = pool.window_owner.astype(np.int64)
        self.window_owner: I64 = owner
        self.window_mask: U64 = pool.skill_mask[owner]
        self.window_xyz: F64 = unit_xyz(pool.lat, pool.lon)[owner]
        self.rating_t: F64 = rating_term(pool.rating, pool.rating_count)
        self.fairness_t: F64 = fairness_term(pool.recent_hours)
        self.skill_window_counts: tuple[int, ...] = tuple(
            int(np.count_nonzero(self.window_mask & np.uint64(1 << s))) for s in range(N_SKILLS)
        )
        self.bucket_seconds = _bucket_seconds(pool.window_start, pool.window_end)
        self._bucket_of, self._bucket_windows = self._list_buckets()
        self._trees: dict[tuple[int, int], SkillTree] = {}
        self._lock = threading.Lock()

    @classmethod
    def build(cls, pool: VolunteerPool) -> PoolIndex:
        """Index ``pool``; trees are built on first use."""
        return cls(pool)

    def skill_key(self, need_mask: int) -> int:
        """The skill whose tree a request with ``need_mask`` searches (its rarest skill)."""
        if need_mask == 0:
            return ALL_SKILLS
        bits = [s for s in range(N_SKILLS) if (need_mask >> s) & 1]
        return min(bits, key=lambda s: (self.skill_window_counts[s], s))

    def bucket(self, start: I64) -> I64:
        """The time bucket of each instant (epoch seconds)."""
        out: I64 = np.floor_divide(start, self.bucket_seconds).astype(np.int64)
        return out

    def tree(self, skill: int, bucket: int = ANY_TIME) -> SkillTree:
        """The tree over windows holding ``skill`` that overlap ``bucket`` (every window of
        the skill with ``ANY_TIME``), built once."""
        key = (skill, bucket)
        found = self._trees.get(key)
        if found is not None:
            return found
        with self._lock:
            found = self._trees.get(key)
            if found is None:
                found = self._build_tree(skill, bucket)
                self._trees[key] = found
            return found

    def _list_buckets(self) -> tuple[I64, I64]:
        """Every (bucket, window) listing, sorted by bucket then window."""
        first = self.bucket(self.pool.window_start)
        last = self.bucket(np.maximum(self.pool.window_end - 1, self.pool.window_start))
        count = last - first + 1
        window = np.repeat(np.arange(self.pool.n_windows, dtype=np.int64), count)
        offset = np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
        bucket = np.repeat(first, count) + offset
        order = np.lexsort((window, bucket))
        return bucket[order], window[order]

    def _build_tree(self, skill: int, bucket: int) -> SkillTree:
        if bucket == ANY_TIME:
            windows = np.arange(self.pool.n_windows, dtype=np.int64)
        else:
            lo, hi = np.searchsorted(self._bucket_of, [bucket, bucket + 1])
            windows = self._bucket_windows[lo:hi]
        if skill != ALL_SKILLS:
            windows = windows[(self.window_mask[windows] & np.uint64(1 << skill)) != 0]
        if len(windows) == 0:
            return SkillTree(windows=windows, tree=None)
        return SkillTree(windows=windows, tree=_tree(self.window_xyz[windows]))


def _bucket_seconds(start: I64, end: I64) -> int:
    """Bucket width so that a window is listed in about ``_LISTINGS_PER_WINDOW`` buckets."""
    if len(start) == 0:
        return _MIN_BUCKET_SECONDS
    mean_length = float(np.mean(end - start))
    width = mean_length / max(_LISTINGS_PER_WINDOW - 1, 1)
    return max(_MIN_BUCKET_SECONDS, int(np.ceil(width)))


def _tree(points: F64) -> cKDTree:
    """A k-d tree built for speed of construction (trees are built lazily inside a Match):
    unbalanced, uncompacted nodes build about twice as fast and query as fast here."""
    return cKDTree(points, balanced_tree=False, compact_nodes=False)
