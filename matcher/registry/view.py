"""The server's columnar, in-memory view of the registered pool, kept in step with the store.

Every Match reads the store's registry version (one cheap GET on Redis) and, only when it
moved, applies the changes since the view's version (or reloads a snapshot when the change
log no longer reaches back). So a Match never re-reads the registry, and never uses a
volunteer after an update or delete has been acknowledged by any server sharing the store.
"""

from __future__ import annotations

import base64
import bisect
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from matcher.core.arrays import Bool
from matcher.core.model import VolunteerPool
from matcher.core.pool_index import PoolIndex
from matcher.core.scoring import haversine_km
from matcher.core.skills import SKILL_BIT
from matcher.errors import FieldViolation, ValidationError
from matcher.registry.columns import records_to_pool
from matcher.registry.model import Changes, Selector, VolunteerRecord
from matcher.registry.store.base import VolunteerStore

_SELECTION_CACHE = 32


@dataclass
class PoolState:
    """The registry at one version: every record (sorted by id), the same as columns (row i
    of ``pool`` is ``records[i]``), and an index over the active ones."""

    version: int
    records: tuple[VolunteerRecord, ...]
    refreshed_ms: int
    pool: VolunteerPool  # every record, active or not
    ids: tuple[str, ...] = field(init=False)  # sorted
    active: Bool = field(init=False)
    index: PoolIndex = field(init=False)  # the active volunteers
    _selections: dict[Selector, PoolIndex] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.ids = self.pool.ids
        self.active = np.fromiter(
            (r.active for r in self.records), dtype=np.bool_, count=len(self.records)
        )
        self.index = PoolIndex.build(self.pool.take(np.flatnonzero(self.active)))

    @classmethod
    def from_records(
        cls, version: int, records: tuple[VolunteerRecord, ...], refreshed_ms: int
    ) -> PoolState:
        """The state of ``records`` (sorted by id), reading every one."""
        return cls(version, records, refreshed_ms, records_to_pool(records))

    def apply(self, changes: Changes, refreshed_ms: int) -> PoolState:
        """The state after ``changes`` (complete ones): only the changed records are read,
        the other rows' columns are carried over, and the id order is kept by merging."""
        changed = {r.id for r in changes.upserted} | set(changes.deleted)
        ids = self.ids
        gone = [i for i in (bisect.bisect_left(ids, c) for c in changed) if i < len(ids)]
        keep = np.ones(len(ids), dtype=np.bool_)
        keep[[i for i in gone if ids[i] in changed]] = False
        kept = [r for r, k in zip(self.records, keep.tolist(), strict=True) if k]
        fresh = sorted(changes.upserted, key=lambda r: r.id)
        kept_ids = [r.id for r in kept]
        slot = np.array([bisect.bisect_left(kept_ids, r.id) for r in fresh], dtype=np.int64)
        # Row of each merged position in concat(kept, fresh): fresh[j] lands at slot[j] + j.
        merged = len(kept) + len(fresh)
        order = np.empty(merged, dtype=np.int64)
        fresh_at = slot + np.arange(len(fresh), dtype=np.int64)
        is_fresh = np.zeros(merged, dtype=np.bool_)
        is_fresh[fresh_at] = True
        order[fresh_at] = len(kept) + np.arange(len(fresh), dtype=np.int64)
        order[~is_fresh] = np.arange(len(kept), dtype=np.int64)
        both = VolunteerPool.concat([self.pool.take(np.flatnonzero(keep)), records_to_pool(fresh)])
        rows = [*kept, *fresh]
        records = tuple(rows[i] for i in order.tolist())
        return PoolState(changes.version, records, refreshed_ms, both.take(order))

    def select(self, selector: Selector) -> PoolIndex:
        """The index over the active volunteers ``selector`` picks (cached per selector)."""
        if selector == Selector():
            return self.index
        with self._lock:
            found = self._selections.get(selector)
            if found is None:
                keep = self.active & self.matching(selector)
                found = PoolIndex.build(self.pool.take(np.flatnonzero(keep)))
                if len(self._selections) >= _SELECTION_CACHE:
                    self._selections.pop(next(iter(self._selections)))
                self._selections[selector] = found
            return found

    def matching(self, selector: Selector, skill: str = "") -> Bool:
        """Which records (active or not) meet ``selector`` and hold ``skill``."""
        keep = np.ones(len(self.records), dtype=np.bool_)
        if selector.branch_ids:
            wanted = set(selector.branch_ids)
            keep &= np.fromiter((r.branch_id in wanted for r in self.records), dtype=np.bool_)
        if selector.team_ids:
            teams = set(selector.team_ids)
            keep &= np.fromiter(
                (not teams.isdisjoint(r.team_ids) for r in self.records), dtype=np.bool_
            )
        if selector.center is not None:
            lat, lon = selector.center
            n = len(self.records)
            dist = haversine_km(np.full(n, lat), np.full(n, lon), self.pool.lat, self.pool.lon)
            keep &= dist <= selector.radius_km
        if skill:
            keep &= (self.pool.skill_mask & np.uint64(1 << SKILL_BIT[skill])) != 0
        return keep

    def page(
        self, keep: Bool, page_size: int, page_token: str
    ) -> tuple[list[VolunteerRecord], str, int]:
        """One page of the records where ``keep`` holds, after ``page_token``."""
        after = _decode_token(page_token)
        chosen = np.flatnonzero(keep)
        start = int(np.searchsorted(chosen, bisect.bisect_right(self.ids, after))) if after else 0
        page = [self.records[i] for i in chosen[start : start + page_size].tolist()]
        more = start + page_size < len(chosen)
        return page, _encode_token(page[-1].id) if more and page else "", len(chosen)


class PoolView:
    """Follows a store: ``current()`` returns the state at the store's latest version."""

    def __init__(self, store: VolunteerStore, clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self._clock = clock
        self._lock = threading.Lock()
        self._state: PoolState | None = None
        self._checked_ms = 0

    @property
    def store(self) -> VolunteerStore:
        return self._store

    @property
    def last(self) -> PoolState | None:
        """The state of the last refresh, without asking the store."""
        return self._state

    @property
    def checked_ms(self) -> int:
        """When the view was last known to be at the store's version (epoch ms; 0: never)."""
        return self._checked_ms

    def current(self) -> PoolState:
        """The state at the store's current version (refreshing if the store moved on)."""
        checked_ms = int(self._clock() * 1000)
        latest = self._store.version()
        state = self._state
        if state is None or state.version != latest:
            with self._lock:
                state = self._state
                if state is None or state.version != latest:
                    state = self._refresh(state)
                    self._state = state
        self._checked_ms = max(self._checked_ms, checked_ms)
        return state

    def _refresh(self, state: PoolState | None) -> PoolState:
        now_ms = int(self._clock() * 1000)
        if state is not None:
            changes = self._store.changes_since(state.version)
            if changes.complete:
                return state.apply(changes, now_ms)
        snapshot = self._store.snapshot()
        records = tuple(sorted(snapshot.records, key=lambda r: r.id))
        return PoolState.from_records(snapshot.version, records, now_ms)


def _encode_token(last_id: str) -> str:
    return base64.urlsafe_b64encode(f"v1:{last_id}".encode()).decode()


def _decode_token(token: str) -> str:
    if not token:
        return ""
    try:
        raw = base64.urlsafe_b64decode(token.encode()).decode()
    except (ValueError, UnicodeDecodeError):
        raw = ""
    if not raw.startswith("v1:"):
        raise ValidationError([FieldViolation("page_token", "is not a token this server issued")])
    return raw[3:]
