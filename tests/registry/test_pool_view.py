"""The pool view: following a store by applying changes gives exactly the state a full
rebuild gives; selectors, filters and pages read that state."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matcher.errors import ValidationError
from matcher.registry.model import Profile, Selector, VolunteerRecord
from matcher.registry.store.memory import MemoryStore
from matcher.registry.view import PoolState, PoolView
from tests.support.times import HOUR, T0

IDS = [f"v{i:02d}" for i in range(12)]
SKILLS = ("elderly_care", "cleaning", "tutoring")


def record(vid: str, k: int, active: bool = True) -> VolunteerRecord:
    """A record whose every column depends on ``k`` (so changes show in the columns)."""
    profile = Profile(
        skills=((SKILLS[k % 3], 1 + k % 5),) + ((("live_stream", 2),) if k % 2 else ()),
        lat=36.0 + k / 100,
        lon=100.0 + k / 50,
        windows=tuple((T0 + 2 * HOUR * w, T0 + 2 * HOUR * w + HOUR) for w in range(k % 3)),
        max_travel_km=float(k % 4),
        rating=0.0 if k % 5 == 0 else 3.5,
        rating_count=0 if k % 5 == 0 else k,
        recent_hours=k / 2,
    )
    return VolunteerRecord(vid, profile, f"grid-{k % 3}", (f"team-{k % 2}",), active)


def assert_same_state(got: PoolState, want: PoolState) -> None:
    assert got.version == want.version
    assert got.records == want.records
    assert got.ids == want.ids == tuple(sorted(want.ids))
    for f in dataclasses.fields(want.pool):
        a, b = getattr(got.pool, f.name), getattr(want.pool, f.name)
        if isinstance(b, np.ndarray):
            assert a.dtype == b.dtype and np.array_equal(a, b), f.name
        else:
            assert a == b, f.name
    assert np.array_equal(got.active, want.active)
    assert got.index.pool.ids == want.index.pool.ids


writes = st.lists(
    st.tuples(st.sampled_from(IDS), st.integers(0, 30), st.booleans(), st.booleans()),
    min_size=1,
    max_size=6,
)


@settings(max_examples=60, deadline=None)
@given(st.lists(writes, min_size=1, max_size=8))
def test_following_changes_equals_a_rebuild(steps: list[list[tuple[str, int, bool, bool]]]) -> None:
    store = MemoryStore()
    view = PoolView(store)
    view.current()
    for step in steps:
        upserts = {vid: record(vid, k, active) for vid, k, active, delete in step if not delete}
        if upserts:
            store.upsert(list(upserts.values()))
        for vid, _, _, delete in step:
            if delete and vid not in upserts:
                store.delete(vid)
        snapshot = store.snapshot()
        assert_same_state(
            view.current(), PoolState.from_records(snapshot.version, snapshot.records, 0)
        )


def test_a_short_change_log_falls_back_to_a_snapshot() -> None:
    store = MemoryStore(change_log_length=1)
    view = PoolView(store)
    store.upsert([record("a", 1)])
    assert view.current().ids == ("a",)
    store.upsert([record("b", 2)])
    store.upsert([record("c", 3)])  # the log holds only this write now
    state = view.current()
    assert state.ids == ("a", "b", "c") and state.version == 3


def test_current_reads_the_version_only_when_nothing_changed() -> None:
    store = MemoryStore()
    clock = iter(range(1_000, 100_000, 1_000))
    view = PoolView(store, clock=lambda: float(next(clock)))
    store.upsert([record("a", 1)])
    first = view.current()
    assert view.current() is first
    assert view.checked_ms > first.refreshed_ms  # checked again, not rebuilt


def seeded() -> PoolState:
    store = MemoryStore()
    store.upsert([record(vid, k, active=k != 4) for k, vid in enumerate(IDS[:8])])
    return PoolView(store).current()


def test_selectors_pick_active_volunteers_by_branch_team_and_area() -> None:
    state = seeded()
    assert state.select(Selector()).pool.ids == ("v00", "v01", "v02", "v03", "v05", "v06", "v07")
    assert state.select(Selector(branch_ids=("grid-1",))).pool.ids == ("v01", "v07")  # v04 off
    assert state.select(Selector(team_ids=("team-1",))).pool.ids == ("v01", "v03", "v05", "v07")
    near = Selector(center=(36.0, 100.0), radius_km=3.0)
    assert state.select(near).pool.ids == ("v00", "v01")
    assert state.select(near) is state.select(near)  # cached per state


def test_matching_and_pages() -> None:
    state = seeded()
    cleaners = state.matching(Selector(), skill="cleaning")
    assert [state.ids[i] for i in np.flatnonzero(cleaners)] == ["v01", "v04", "v07"]
    everyone = np.ones(len(state.ids), dtype=np.bool_)
    first, token, total = state.page(everyone, 3, "")
    assert [r.id for r in first] == ["v00", "v01", "v02"] and total == 8
    second, token, _ = state.page(everyone, 3, token)
    third, last, _ = state.page(everyone, 3, token)
    assert [r.id for r in second + third] == IDS[3:8] and last == ""
    with pytest.raises(ValidationError, match="page_token"):
        state.page(everyone, 3, "bogus")
