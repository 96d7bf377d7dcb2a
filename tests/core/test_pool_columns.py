"""``VolunteerPool.take`` and ``concat``: rows move with every column and their windows."""

from __future__ import annotations

import numpy as np

from matcher.core.model import VolunteerPool
from tests.support.core import H, north, pool, vol


def _three() -> VolunteerPool:
    return pool(
        [
            vol("a", at=north(1), windows=((8, 9), (10, 11)), rating=4.0, rating_count=2),
            vol("b", {"tutoring": 5}, at=north(2), windows=((12, 13),), hours=3.0),
            vol("c", at=north(3), windows=((14, 15), (16, 17)), travel_km=5.0),
        ]
    )


def _windows(p: VolunteerPool) -> list[tuple[str, int, int]]:
    return [
        (p.ids[o], s // H, e // H)
        for o, s, e in zip(
            p.window_owner.tolist(), p.window_start.tolist(), p.window_end.tolist(), strict=True
        )
    ]


def test_take_a_subset_keeps_the_rows_their_columns_and_their_windows() -> None:
    full = _three()
    part = full.take(np.flatnonzero(np.array([True, False, True])))
    assert part.ids == ("a", "c")
    assert part.lat.tolist() == [full.lat[0], full.lat[2]]
    assert part.max_travel_km.tolist() == [0.0, 5.0]
    assert part.rating_count.tolist() == [2, 0]
    assert part.window_owner.dtype == np.int32
    assert _windows(part) == [("a", 8, 9), ("a", 10, 11), ("c", 14, 15), ("c", 16, 17)]


def test_take_a_permutation_groups_the_windows_by_new_row() -> None:
    moved = _three().take(np.array([2, 0, 1], dtype=np.int64))
    assert moved.ids == ("c", "a", "b")
    assert moved.skill_mask.tolist() == [_three().skill_mask[i] for i in (2, 0, 1)]
    assert moved.levels.tolist() == _three().levels[[2, 0, 1]].tolist()
    assert _windows(moved) == [
        ("c", 14, 15),
        ("c", 16, 17),
        ("a", 8, 9),
        ("a", 10, 11),
        ("b", 12, 13),
    ]


def test_concat_renumbers_the_window_owners_of_later_pools() -> None:
    full = _three()
    first, second = full.take(np.array([0])), full.take(np.array([1, 2]))
    joined = VolunteerPool.concat([first, second])
    assert joined.ids == full.ids
    assert _windows(joined) == _windows(full)
    assert joined.recent_hours.tolist() == full.recent_hours.tolist()
    assert VolunteerPool.concat([full]).ids == full.ids
    empty = full.take(np.zeros(0, dtype=np.int64))
    assert len(empty) == 0 and empty.n_windows == 0
    assert _windows(VolunteerPool.concat([empty, full])) == _windows(full)
