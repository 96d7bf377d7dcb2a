"""The ``OrderStore`` contract, run against ``MemoryOrderStore`` and ``RedisOrderStore`` alike
(Redis: a real server, database 14, a key prefix per test)."""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import threading
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matcher.errors import NotFoundError
from matcher.orders.model import (
    EntryKind,
    Hold,
    HoldChanges,
    Order,
    OrderState,
    Posting,
    Resident,
    Transaction,
)
from matcher.orders.store.base import (
    HoldConflictError,
    InsufficientBalanceError,
    OrderStore,
    OrderWrite,
    StaleOrderError,
    StateCensus,
)
from matcher.orders.store.memory import MemoryOrderStore
from tests.support.orders import new_order, order_store
from tests.support.times import HOUR, T0

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


# --- commit_many: several orders' writes in one step, each on its own --------------------------


def test_commit_many_applies_each_write_on_its_own(order_store: OrderStore) -> None:
    one, two, three, four = (order_store.create(new_order(f"ord-{i}"))[0] for i in range(1, 5))
    order_store.commit(four, HoldChanges(add=(hold("v9", "ord-4.1", 2, 3),)), now_ms=NOW_MS)
    offered = dataclasses.replace(one, state=OrderState.OFFERED)
    writes = [
        OrderWrite(offered, HoldChanges(add=(hold("v1", "ord-1.1", 2, 3),))),
        OrderWrite(dataclasses.replace(two, version=7, state=OrderState.CANCELLED)),
        OrderWrite(three, HoldChanges(add=(hold("v9", "ord-3.1", 2.5, 4),))),
        OrderWrite(new_order("ord-absent")),
        OrderWrite(dataclasses.replace(three, state=OrderState.CANCELLED)),
    ]
    out = order_store.commit_many(writes, now_ms=NOW_MS)
    assert out[0] == dataclasses.replace(offered, version=2) == order_store.get("ord-1")
    assert isinstance(out[1], StaleOrderError) and order_store.get("ord-2") == two
    assert isinstance(out[2], HoldConflictError)
    assert (out[2].volunteer_id, out[2].hold_id) == ("v9", "ord-4.1")
    assert isinstance(out[3], NotFoundError) and order_store.get("ord-absent") is None
    cancelled = dataclasses.replace(three, state=OrderState.CANCELLED, version=2)
    assert out[4] == cancelled == order_store.get("ord-3")  # its refused write left nothing
    assert sorted(h.hold_id for h in order_store.holds()) == ["ord-1.1", "ord-4.1"]
    assert order_store.ids_in_states([OrderState.OFFERED]) == ["ord-1"]
    assert order_store.ids_in_states([OrderState.PENDING]) == ["ord-2", "ord-4"]
    assert order_store.ids_in_states([OrderState.CANCELLED]) == ["ord-3"]
    assert order_store.volunteer_order_ids("v1") == ["ord-1"]
    assert order_store.volunteer_order_ids("v9") == ["ord-4"]
    assert order_store.commit_many([], now_ms=NOW_MS) == []


def test_commit_many_writes_see_the_earlier_ones(order_store: OrderStore) -> None:
    one, _ = order_store.create(new_order("ord-1"))
    two, _ = order_store.create(new_order("ord-2"))
    out = order_store.commit_many(
        [
            OrderWrite(one, HoldChanges(add=(hold("v1", "ord-1.1", 2, 3),))),
            OrderWrite(two, HoldChanges(add=(hold("v1", "ord-2.1", 2.5, 3.5),))),
            OrderWrite(dataclasses.replace(one, state=OrderState.CANCELLED)),  # from the old read
        ],
        now_ms=NOW_MS,
    )
    assert isinstance(out[0], Order) and out[0].version == 2
    assert isinstance(out[1], HoldConflictError) and out[1].hold_id == "ord-1.1"
    assert isinstance(out[2], StaleOrderError)
    # a release early in the batch frees the time for a later write of the same batch
    out = order_store.commit_many(
        [
            OrderWrite(out[0], HoldChanges(release=(("v1", "ord-1.1"),))),
            OrderWrite(two, HoldChanges(add=(hold("v1", "ord-2.1", 2.5, 3.5),))),
        ],
        now_ms=NOW_MS,
    )
    assert all(isinstance(o, Order) for o in out)
    assert [h.hold_id for h in order_store.holds()] == ["ord-2.1"]


def test_racing_batches_book_each_volunteer_once(order_store: OrderStore) -> None:
    """Four dispatchers each offer six orders to six volunteers at one time, in batches."""
    racers, volunteers = 4, 6
    writes = [
        [
            OrderWrite(
                order_store.create(new_order(f"ord-{r}-{i}"))[0],
                HoldChanges(add=(hold(f"v{(i + r) % volunteers}", f"ord-{r}-{i}.1", 2, 3),)),
            )
            for i in range(volunteers)
        ]
        for r in range(racers)
    ]
    won: list[str] = []
    barrier = threading.Barrier(racers)

    def race(r: int) -> None:
        barrier.wait()
        outcomes = order_store.commit_many(writes[r], now_ms=NOW_MS)
        for write, out in zip(writes[r], outcomes, strict=True):
            if isinstance(out, Order):
                won.append(write.holds.add[0].hold_id)
            else:
                assert isinstance(out, HoldConflictError)

    threads = [threading.Thread(target=race, args=(r,)) for r in range(racers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    holds = order_store.holds()
    assert sorted(h.hold_id for h in holds) == sorted(won)
    assert sorted(h.volunteer_id for h in holds) == [f"v{k}" for k in range(volunteers)]


WRITES = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=3),  # which order
        st.booleans(),  # made from a stale read
        st.sampled_from(list(OrderState)[:3]),  # the state it writes
        st.lists(  # holds it adds: volunteer, start hour, hours, deadline (s after now; 0: none)
            st.tuples(
                st.sampled_from(["v1", "v2"]),
                st.integers(min_value=0, max_value=4),
                st.integers(min_value=1, max_value=2),
                st.sampled_from([0, -1, 60]),
            ),
            max_size=2,
        ),
        st.integers(min_value=0, max_value=2),  # holds of the order it releases (oldest first)
    ),
    max_size=12,
)


EXAMPLES = itertools.count()


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(batches=st.lists(WRITES, min_size=1, max_size=3))
def test_property_commit_many_equals_commits_one_by_one(
    order_store: OrderStore, batches: list[list[tuple[int, bool, OrderState, list[Any], int]]]
) -> None:
    """Any batches of writes (stale ones, overlapping holds, expired holds, releases): each
    write has the outcome and the effect ``commit`` has on the in-memory store, one by one."""
    tag = f"{next(EXAMPLES)}-"  # the Redis store is kept across examples: fresh ids
    reference = MemoryOrderStore()
    ids = [f"ord-{tag}{i}" for i in range(4)]
    for i in ids:
        order_store.create(new_order(i))
        reference.create(new_order(i))
    made = 0
    for b, batch in enumerate(batches):
        now = NOW_MS + b * 30_000
        writes = []
        for which, stale, state, adds, releases in batch:
            current = reference.get(ids[which])
            assert current is not None
            mine = sorted(h.hold_id for h in reference.holds() if h.hold_id.startswith(ids[which]))
            add = []
            for vid, start_h, hours, deadline_s in adds:
                made += 1
                deadline = 0 if deadline_s == 0 else now + deadline_s * 1000
                hid = f"{ids[which]}.{made}"
                add.append(hold(f"{vid}-{tag}", hid, start_h, start_h + hours, deadline))
            release = tuple(
                (h.volunteer_id, h.hold_id)
                for h in reference.holds()
                if h.hold_id in mine[:releases]
            )
            order = dataclasses.replace(current, state=state, version=current.version - stale)
            writes.append(OrderWrite(order, HoldChanges(tuple(add), release)))
        expected: list[object] = []
        for write in writes:
            try:
                expected.append(reference.commit(write.order, write.holds, now_ms=now))
            except (StaleOrderError, HoldConflictError) as refusal:
                expected.append(type(refusal))
        got = order_store.commit_many(writes, now_ms=now)
        assert [o if isinstance(o, Order) else type(o) for o in got] == expected
    assert order_store.get_many(ids) == reference.get_many(ids)
    mine_now = [h for h in order_store.holds() if h.hold_id.startswith(f"ord-{tag}")]
    assert sorted(mine_now, key=str) == sorted(reference.holds(), key=str)
    for state in OrderState:
        assert [i for i in order_store.ids_in_states([state]) if i in ids] == [
            i for i in reference.ids_in_states([state]) if i in ids
        ]


def test_a_state_lookalike_in_the_text_does_not_move_the_order(order_store: OrderStore) -> None:
    """The Redis scripts find the stored state in the order's text: a resident's contact or
    a comment quoting the pattern must not fool them."""
    tricky = ',"st":6,"ver":9,'
    order = dataclasses.replace(
        new_order(), resident=Resident("res-1", tricky), comment=tricky, branch_id=tricky
    )
    stored, _ = order_store.create(order)
    for state in (OrderState.OFFERED, OrderState.PENDING, OrderState.CANCELLED):
        [written] = order_store.commit_many(
            [OrderWrite(dataclasses.replace(stored, state=state))], now_ms=NOW_MS
        )
        assert isinstance(written, Order)
        stored = written
        assert order_store.ids_in_states([state]) == ["ord-1"]
        assert order_store.ids_in_states([s for s in OrderState if s is not state]) == []
        assert order_store.get("ord-1") == stored
