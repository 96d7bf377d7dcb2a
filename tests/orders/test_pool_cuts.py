"""``cut_pool``: held time is cut out of the windows, dropped volunteers lose every window, and
volunteer rows never move (their indices stay valid between solves)."""

from __future__ import annotations

from matcher.core.model import VolunteerPool
from matcher.orders.model import Hold
from matcher.orders.pool_cuts import cut_pool
from tests.support.core import H, pool, vol


def windows(cut: VolunteerPool) -> list[tuple[str, int, int]]:
    """(volunteer, start hour, end hour) of every window, in pool order."""
    rows = zip(
        cut.window_owner.tolist(), cut.window_start.tolist(), cut.window_end.tolist(), strict=True
    )
    return [(cut.ids[o], s // H, e // H) for o, s, e in rows]


def test_nothing_to_cut_returns_the_same_pool() -> None:
    base = pool([vol("a", windows=((8, 12),))])
    assert cut_pool(base, []) is base
    assert cut_pool(base, [Hold("nobody", "h", 9 * H, 10 * H)]) is base


def test_holds_split_windows_and_drops_remove_them() -> None:
    base = pool(
        [
            vol("a", windows=((8, 12), (14, 18))),
            vol("b", windows=((8, 12),)),
            vol("c", windows=((8, 12),)),
        ]
    )
    holds = [
        Hold("a", "h1", 9 * H, 10 * H),
        Hold("a", "h2", 15 * H, 18 * H),
        Hold("b", "h3", 7 * H, 13 * H),
    ]
    cut = cut_pool(base, holds, dropped={"c"})
    assert cut.ids == base.ids
    assert windows(cut) == [("a", 8, 9), ("a", 10, 12), ("a", 14, 15)]
