"""An immutable, query-ready view of a volunteer pool: per-window columns and one k-d tree
per skill.

Candidates for a request are searched in the tree of its *rarest* required skill (the
tree of all windows when it asks for none), so skill filtering rejects few of the points
the tree returns. Trees are built lazily, once per skill, and shared by every Match that
uses the same index (the registered pool keeps one index until the pool changes).
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

ALL_SKILLS = -1  # tree key for requests that ask for no particular skill


@dataclass(frozen=True)
class SkillTree:
    """The windows whose volunteer holds one skill, and a k-d tree over their homes."""

    windows: I64
    tree: cKDTree | None  # None when no window has the skill

    @property
    def size(self) -> int:
        return len(self.windows)


class PoolIndex:
    """Columns of a pool laid out per availability window, plus lazily built skill trees."""

    def __init__(self, pool: VolunteerPool) -> None:
        self.pool = pool
        owner = pool.window_owner.astype(np.int64)
        self.window_owner: I64 = owner
        self.window_mask: U64 = pool.skill_mask[owner]
        self.window_xyz: F64 = unit_xyz(pool.lat, pool.lon)[owner]
        self.rating_t: F64 = rating_term(pool.rating, pool.rating_count)
        self.fairness_t: F64 = fairness_term(pool.recent_hours)
        self._trees: dict[int, SkillTree] = {}
        self._lock = threading.Lock()
        counts = [
            int(np.count_nonzero(self.window_mask & np.uint64(1 << s))) for s in range(N_SKILLS)
        ]
        self.skill_window_counts: tuple[int, ...] = tuple(counts)

    @classmethod
    def build(cls, pool: VolunteerPool) -> PoolIndex:
        """Index ``pool``; trees are built on first use."""
        return cls(pool)

    def tree_key(self, need_mask: int) -> int:
        """The skill whose tree a request with ``need_mask`` searches (its rarest skill)."""
        if need_mask == 0:
            return ALL_SKILLS
        bits = [s for s in range(N_SKILLS) if (need_mask >> s) & 1]
        return min(bits, key=lambda s: (self.skill_window_counts[s], s))

    def tree(self, key: int) -> SkillTree:
        """The tree for ``key`` (a skill bit or ``ALL_SKILLS``), built once."""
        found = self._trees.get(key)
        if found is not None:
            return found
        with self._lock:
            found = self._trees.get(key)
            if found is None:
                found = self._build_tree(key)
                self._trees[key] = found
            return found

    def _build_tree(self, key: int) -> SkillTree:
        if key == ALL_SKILLS:
            windows = np.arange(self.pool.n_windows, dtype=np.int64)
        else:
            windows = np.flatnonzero(self.window_mask & np.uint64(1 << key)).astype(np.int64)
        if len(windows) == 0:
            return SkillTree(windows=windows, tree=None)
        return SkillTree(windows=windows, tree=cKDTree(self.window_xyz[windows]))
