"""The ``OrderStore`` contract, run against ``MemoryOrderStore`` and ``RedisOrderStore`` alike
(Redis: a real server, database 14, a key prefix per test)."""

from __future__ import annotations

import contextlib
import dataclasses
import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matcher.errors import NotFoundError
from matcher.orders.model import (
    EntryKind,
    Hold,
    HoldChanges,
    OrderState,
    Posting,
    Transaction,
)
from matcher.orders.store import (
    HoldConflictError,
    InsufficientBalanceError,
    OrderStore,
    StaleOrderError,
    StateCensus,
)
from tests.order_builders import HOUR, T0, new_order, order_store

__all__ = ["order_store"]  # the fixture, imported for pytest

NOW_MS = T0 * 1000


def hold(vid: str, hid: str, start_h: float, end_h: float, deadline_ms: int = 0) -> Hold:
    return Hold(vid, hid, T0 + round(start_h * HOUR), T0 + round(end_h * HOUR), deadline_ms)


def earn(txn_id: str, minutes: int, vid: str = "v1", branch: str = "grid-1") -> Transaction:
    return Transaction(
        txn_id,
        EntryKind.EARNED,
        branch,
        (Posting(f"volunteer:{vid}", minutes), Posting(f"branch:{branch}", -minutes)),
        NOW_MS,
        order_id="ord-1",
    )


def redeem(txn_id: str, minutes: int, vid: str = "v1", branch: str = "grid-1") -> Transaction:
    return Transaction(
        txn_id,
        EntryKind.REDEEMED,
        branch,
        (Posting(f"volunteer:{vid}", -minutes), Posting(f"branch:{branch}", minutes)),
        NOW_MS,
        reason="a haircut",
        guard_account=f"volunteer:{vid}",
        guard_minutes=minutes,
    )


def test_create_once_then_find_the_existing_order(order_store: OrderStore) -> None:
    order = new_order("ord-1")
    stored, created = order_store.create(order)
    assert created and stored.version == 1 and stored == dataclasses.replace(order, version=1)
    again, created = order_store.create(dataclasses.replace(order, branch_id="other"))
    assert not created and again == stored
    assert order_store.get("ord-1") == stored
    assert order_store.get_many(["ord-1", "nope"]) == [stored, None]
    assert order_store.get("nope") is None


def test_commit_bumps_the_version_and_refuses_a_stale_write(order_store: OrderStore) -> None:
    stored, _ = order_store.create(new_order())
    changed = dataclasses.replace(stored, state=OrderState.CANCELLED)
    written = order_store.commit(changed, now_ms=NOW_MS)
    assert written.version == 2 and order_store.get("ord-1") == written
    with pytest.raises(StaleOrderError):
        order_store.commit(dataclasses.replace(stored, minutes_served=5), now_ms=NOW_MS)
    assert order_store.get("ord-1") == written
    with pytest.raises(NotFoundError):
        order_store.commit(new_order("ord-absent"), now_ms=NOW_MS)


def test_ids_by_state_follow_commits_oldest_first(order_store: OrderStore) -> None:
    for i, at in ((3, 30), (1, 10), (2, 20)):
        order_store.create(new_order(f"ord-{i}", now_ms=NOW_MS + at))
    assert order_store.ids_in_states([OrderState.PENDING]) == ["ord-1", "ord-2", "ord-3"]
    two = order_store.get("ord-2")
    assert two is not None
    order_store.commit(dataclasses.replace(two, state=OrderState.OFFERED), now_ms=NOW_MS)
    assert order_store.ids_in_states([OrderState.PENDING]) == ["ord-1", "ord-3"]
    assert order_store.ids_in_states([OrderState.OFFERED]) == ["ord-2"]
    both = order_store.ids_in_states([OrderState.OFFERED, OrderState.PENDING])
    assert both == ["ord-1", "ord-2", "ord-3"]


def test_census_counts_each_state_with_its_oldest_order(order_store: OrderStore) -> None:
    empty = order_store.census()
    assert set(empty) == set(OrderState)
    assert all(c == StateCensus(0, 0) for c in empty.values())
    for i, at in ((3, 30), (1, 10), (2, 20)):
        order_store.create(new_order(f"ord-{i}", now_ms=NOW_MS + at))
    one = order_store.get("ord-1")
    assert one is not None
    order_store.commit(dataclasses.replace(one, state=OrderState.OFFERED), now_ms=NOW_MS)
    census = order_store.census()
    assert census[OrderState.PENDING] == StateCensus(2, NOW_MS + 20)
    assert census[OrderState.OFFERED] == StateCensus(1, NOW_MS + 10)
    assert census[OrderState.ACCEPTED] == StateCensus(0, 0)


def test_overlapping_holds_of_one_volunteer_are_refused(order_store: OrderStore) -> None:
    one, _ = order_store.create(new_order("ord-1"))
    two, _ = order_store.create(new_order("ord-2"))
    one = order_store.commit(one, HoldChanges(add=(hold("v1", "ord-1.1", 2, 3),)), now_ms=NOW_MS)
    with pytest.raises(HoldConflictError) as caught:
        order_store.commit(two, HoldChanges(add=(hold("v1", "ord-2.1", 2.5, 4),)), now_ms=NOW_MS)
    assert (caught.value.volunteer_id, caught.value.hold_id) == ("v1", "ord-1.1")
    assert order_store.get("ord-2") == two  # nothing written
    # touching is not overlapping; another volunteer is free
    two = order_store.commit(two, HoldChanges(add=(hold("v1", "ord-2.1", 3, 4),)), now_ms=NOW_MS)
    two = order_store.commit(two, HoldChanges(add=(hold("v2", "ord-2.2", 2, 3),)), now_ms=NOW_MS)
    assert sorted(h.hold_id for h in order_store.holds()) == ["ord-1.1", "ord-2.1", "ord-2.2"]
    assert order_store.volunteer_order_ids("v1") == ["ord-1", "ord-2"]
    assert order_store.volunteer_order_ids("nobody") == []


def test_a_hold_past_its_deadline_stops_counting(order_store: OrderStore) -> None:
    one, _ = order_store.create(new_order("ord-1"))
    two, _ = order_store.create(new_order("ord-2"))
    deadline = NOW_MS + 60_000
    order_store.commit(
        one, HoldChanges(add=(hold("v1", "ord-1.1", 2, 3, deadline),)), now_ms=NOW_MS
    )
    with pytest.raises(HoldConflictError):
        order_store.commit(
            two, HoldChanges(add=(hold("v1", "ord-2.1", 2, 3),)), now_ms=deadline - 1
        )
    order_store.commit(two, HoldChanges(add=(hold("v1", "ord-2.1", 2, 3),)), now_ms=deadline)
    assert {h.hold_id for h in order_store.holds()} == {"ord-1.1", "ord-2.1"}


def test_release_frees_the_time_and_an_upgrade_keeps_the_hold(order_store: OrderStore) -> None:
    one, _ = order_store.create(new_order("ord-1"))
    two, _ = order_store.create(new_order("ord-2"))
    offered = hold("v1", "ord-1.1", 2, 3, NOW_MS + 60_000)
    one = order_store.commit(one, HoldChanges(add=(offered,)), now_ms=NOW_MS)
    accepted = dataclasses.replace(offered, deadline_ms=0)
    one = order_store.commit(one, HoldChanges(add=(accepted,)), now_ms=NOW_MS)
    assert order_store.holds() == [accepted]
    with pytest.raises(HoldConflictError):
        order_store.commit(two, HoldChanges(add=(hold("v1", "x", 2, 3),)), now_ms=NOW_MS + 10**9)
    order_store.commit(one, HoldChanges(release=(("v1", "ord-1.1"),)), now_ms=NOW_MS)
    assert order_store.holds() == []
    order_store.commit(two, HoldChanges(add=(hold("v1", "x", 2, 3),)), now_ms=NOW_MS)


def test_release_and_add_in_one_commit(order_store: OrderStore) -> None:
    one, _ = order_store.create(new_order("ord-1"))
    one = order_store.commit(one, HoldChanges(add=(hold("v1", "a", 2, 3),)), now_ms=NOW_MS)
    both = HoldChanges(add=(hold("v1", "b", 2, 3),), release=(("v1", "a"),))
    order_store.commit(one, both, now_ms=NOW_MS)
    assert [h.hold_id for h in order_store.holds()] == ["b"]


def test_a_transaction_is_posted_once(order_store: OrderStore) -> None:
    order, _ = order_store.create(new_order())
    order = order_store.commit(order, txn=earn("complete:ord-1", 90), now_ms=NOW_MS)
    order = order_store.commit(order, txn=earn("complete:ord-1", 90), now_ms=NOW_MS)
    assert order.version == 3  # the order was written; the ledger was not credited again
    assert order_store.balances(["volunteer:v1", "branch:grid-1", "none"]) == [90, -90, 0]
    assert order_store.entry_count() == 2
    assert order_store.post(earn("complete:ord-1", 90)) is False


def test_a_guarded_transaction_needs_the_balance(order_store: OrderStore) -> None:
    assert order_store.post(earn("e1", 60))
    with pytest.raises(InsufficientBalanceError) as caught:
        order_store.post(redeem("r1", 61))
    assert (caught.value.balance, caught.value.needed) == (60, 61)
    assert order_store.entry_count() == 2
    assert order_store.post(redeem("r1", 45))
    assert not order_store.post(redeem("r1", 45))
    assert order_store.balances(["volunteer:v1", "branch:grid-1"]) == [15, -15]


def test_a_guard_refusal_in_a_commit_writes_nothing(order_store: OrderStore) -> None:
    order, _ = order_store.create(new_order())
    with pytest.raises(InsufficientBalanceError):
        order_store.commit(
            order, HoldChanges(add=(hold("v1", "a", 2, 3),)), redeem("r", 5), now_ms=NOW_MS
        )
    assert order_store.get("ord-1") == order and order_store.holds() == []


def test_ledger_entries_statements_and_branch_figures(order_store: OrderStore) -> None:
    order_store.post(earn("e1", 60, "v1", "grid-1"))
    order_store.post(earn("e2", 120, "v2", "grid-2"))
    order_store.post(earn("e3", 30, "v1", "grid-2"))
    order_store.post(redeem("r1", 50, "v1", "grid-1"))
    entries = order_store.entries()
    assert [e.sequence for e in entries] == list(range(1, 9))
    assert sum(e.minutes for e in entries) == 0
    statement = order_store.entries("volunteer:v1")
    assert [(e.txn_id, e.minutes) for e in statement] == [("e1", 60), ("e3", 30), ("r1", -50)]
    assert statement[2].reason == "a haircut" and statement[2].kind is EntryKind.REDEEMED
    assert [e.txn_id for e in order_store.entries("volunteer:v1", start=1, limit=1)] == ["e3"]
    assert [e.sequence for e in order_store.entries(start=6, limit=5)] == [7, 8]
    assert order_store.entry_count("volunteer:v1") == 3
    figures = {f.branch_id: f for f in order_store.branch_figures()}
    assert (figures["grid-1"].earned_minutes, figures["grid-1"].redeemed_minutes) == (60, 50)
    assert (figures["grid-2"].earned_minutes, figures["grid-2"].completed_orders) == (150, 2)
    assert figures["grid-1"].outstanding_minutes == 10


def test_an_unbalanced_transaction_cannot_be_made() -> None:
    with pytest.raises(ValueError, match="does not balance"):
        Transaction("t", EntryKind.EARNED, "", (Posting("a", 1),), 0)


def test_racing_holds_on_one_volunteer_book_them_once(order_store: OrderStore) -> None:
    orders = [order_store.create(new_order(f"ord-{i}"))[0] for i in range(8)]
    won: list[str] = []
    barrier = threading.Barrier(len(orders))

    def book(i: int) -> None:
        barrier.wait()
        try:
            order_store.commit(
                orders[i], HoldChanges(add=(hold("v1", f"h{i}", 2, 3),)), now_ms=NOW_MS
            )
            won.append(f"h{i}")
        except HoldConflictError:
            pass

    threads = [threading.Thread(target=book, args=(i,)) for i in range(len(orders))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(won) == 1 and [h.hold_id for h in order_store.holds()] == won


MOVES = st.lists(
    st.tuples(
        st.sampled_from(["earn", "redeem"]),
        st.sampled_from(["v1", "v2", "v3"]),
        st.sampled_from(["", "grid-1", "grid-2"]),
        st.integers(min_value=1, max_value=300),
    ),
    max_size=25,
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(moves=MOVES)
def test_property_the_ledger_always_sums_to_zero(
    order_store: OrderStore, moves: list[tuple[str, str, str, int]]
) -> None:
    """Whatever mix of earnings and (possibly refused) redemptions: every entry pair balances,
    the whole ledger sums to zero and no guarded balance goes below zero."""
    for n, (kind, vid, branch, minutes) in enumerate(moves):
        txn_id = f"{kind}-{n}-{id(moves)}"
        txn = (
            earn(txn_id, minutes, vid, branch)
            if kind == "earn"
            else redeem(txn_id, minutes, vid, branch)
        )
        with contextlib.suppress(InsufficientBalanceError):
            order_store.post(txn)
    entries = order_store.entries()
    assert sum(e.minutes for e in entries) == 0
    accounts = sorted({e.account for e in entries})
    balances = dict(zip(accounts, order_store.balances(accounts), strict=True))
    assert sum(balances.values()) == 0
    assert all(b >= 0 for a, b in balances.items() if a.startswith("volunteer:"))
    for account in accounts:
        assert sum(e.minutes for e in order_store.entries(account)) == balances[account]
