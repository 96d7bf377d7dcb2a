"""The time bank as a hypothesis state machine, on a real server over a real channel, on both
stores: random completions (submit -> round -> accept -> complete), retried and changed
completions, ratings, redemptions with keys that hold ``:`` and other reserved characters,
retries, reused keys with other content, cancels, and races of redemptions in threads.

After every step the books are checked against a model: every transaction sums to zero;
each volunteer's balance equals their statement and the model, and never goes below zero;
each branch's figures equal the model and the head bank's total is the sum of its branches
and of the volunteers; each idempotency key posted one transaction of two entries; and a
reused key with other content was FAILED_PRECONDITION naming the key on every rpc that
takes one (RedeemHours, SubmitOrder)."""

from __future__ import annotations

import contextlib
import itertools
from collections import Counter, defaultdict
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import grpc
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from matcher.orders.model import EntryKind
from matcher.orders.store.base import volunteer_account
from matcher.v1 import orders_pb2, timebank_pb2
from tests.support.orders import ORDER_SETTINGS, OrderSystem, submit_request, system_on
from tests.support.redis_db import shared_redis_or_skip
from tests.support.registry import rpc_error, upsert

T = timebank_pb2
#: Volunteer ids that met under the old ``:``-joined transaction ids, and one full of the
#: characters ``matcher.ids`` escapes; each has a skill of their own and one they share.
VOLUNTEERS = {"adv": "elderly_care", "adv:x": "tutoring", "x%3Ak{}": "cleaning"}
SHARED_SKILL = "community_service"
BRANCHES = ["grid-1", "grid:2", ""]  # "" is the head bank's own account
KEYS = ["k", "x:k", "k%3A", "{k}", ""]  # "" posts without a key (never a retry)
MINUTES = st.sampled_from([15, 30, 60, 90])
REASONS = st.sampled_from(["a ride to the clinic", "a haircut"])


@dataclass
class Books:
    """What the time bank should show."""

    balance: Counter[str] = field(default_factory=Counter)
    earned: Counter[str] = field(default_factory=Counter)
    redeemed: Counter[str] = field(default_factory=Counter)
    branch_earned: Counter[str] = field(default_factory=Counter)
    branch_redeemed: Counter[str] = field(default_factory=Counter)
    branch_orders: Counter[str] = field(default_factory=Counter)
    keys: dict[tuple[str, str], tuple[int, str, str]] = field(default_factory=dict)
    redemptions: int = 0


@dataclass(frozen=True)
class Done:
    """A completed order and how it was completed."""

    order_id: str
    hours: float


class TimeBankMachine(RuleBasedStateMachine):
    """Steps on a fresh server per example (``kind``: the store)."""

    kind = "memory"
    completed = Bundle("completed")

    def __init__(self) -> None:
        super().__init__()
        self.stack = contextlib.ExitStack()
        chosen = ORDER_SETTINGS.with_overrides(max_windows_per_volunteer=64)
        self.system: OrderSystem = self.stack.enter_context(system_on(self.kind, chosen))
        self.books = Books()
        self.slots = itertools.count(1)  # one service hour per order: no two overlap
        self.submitted: dict[str, orders_pb2.SubmitOrderRequest] = {}

    def teardown(self) -> None:
        self.stack.close()

    @initialize(hours=st.sampled_from([0.5, 1.5, 3.0]))
    def register(self, hours: float) -> None:
        """Register the volunteers; each earns ``hours`` first, so redemptions soon meet."""
        self.system.register(
            *(upsert(v, skills=(s, SHARED_SKILL), hours=(0, 500)) for v, s in VOLUNTEERS.items())
        )
        for skill in VOLUNTEERS.values():
            self.complete(skill, "grid-1", hours)

    # --- orders -------------------------------------------------------------------------

    def _served(self, key: str, skill: str, needed: int, branch: str) -> tuple[str, list[str]]:
        """Submit an order at the next free hour, dispatch it and accept every offer."""
        slot = next(self.slots)
        request = submit_request(
            key, skills=(skill,), needed=needed, branch=branch, start_h=slot, end_h=slot + 1
        )
        self.submitted[key] = request
        order = self.system.orders.SubmitOrder(request, timeout=10).order
        offers = self.system.round().offers
        assert len(offers) == needed, offers
        for offer in offers:
            self.system.accept(offer.offer_id)
        return order.order_id, [o.volunteer_id for o in offers]

    @rule(
        target=completed,
        who=st.sampled_from([*VOLUNTEERS.values(), SHARED_SKILL]),
        branch=st.sampled_from(BRANCHES),
        hours=st.sampled_from([0.25, 0.5, 1.0, 1.5]),
    )
    def complete(self, who: str, branch: str, hours: float) -> Done:
        needed = 2 if who == SHARED_SKILL else 1
        order_id, volunteers = self._served(f"order-{len(self.submitted)}", who, needed, branch)
        assert self.system.complete(order_id, hours).credited
        minutes = round(hours * 60)
        for vid in volunteers:
            self.books.balance[vid] += minutes
            self.books.earned[vid] += minutes
        self.books.branch_earned[branch] += minutes * needed
        self.books.branch_orders[branch] += 1
        return Done(order_id, hours)

    @rule(done=completed, other=st.booleans())
    def retry_completion(self, done: Done, other: bool) -> None:
        if not other:
            assert not self.system.complete(done.order_id, done.hours).credited
            return
        err = rpc_error(lambda: self.system.complete(done.order_id, done.hours + 1))
        assert err.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert f"order {done.order_id} is " in (err.details() or "")

    @rule(done=consumes(completed), stars=st.integers(1, 5))
    def rate(self, done: Done, stars: int) -> None:
        assert self.system.rate(done.order_id, stars).rating == stars
        assert self.system.rate(done.order_id, stars).rating == stars  # again: a no-op

    @rule(stage=st.sampled_from(["pending", "offered", "accepted"]))
    def cancel(self, stage: str) -> None:
        key = f"order-{len(self.submitted)}"
        if stage == "accepted":
            order_id, _ = self._served(key, SHARED_SKILL, 1, "grid-1")
        else:
            slot = next(self.slots)
            request = submit_request(key, start_h=slot, end_h=slot + 1)
            self.submitted[key] = request
            order_id = self.system.orders.SubmitOrder(request, timeout=10).order.order_id
            if stage == "offered":
                assert len(self.system.round().offers) == 1
        cancel = orders_pb2.CancelOrderRequest(order_id=order_id, reason="not needed")
        self.system.orders.CancelOrder(cancel, timeout=10)
        err = rpc_error(lambda: self.system.complete(order_id, 1.0))
        assert err.code() == grpc.StatusCode.FAILED_PRECONDITION

    @rule(data=st.data())
    def reuse_an_order_key(self, data: st.DataObject) -> None:
        if not self.submitted:
            return
        key = data.draw(st.sampled_from(sorted(self.submitted)))
        same = self.system.orders.SubmitOrder(self.submitted[key], timeout=10)
        assert not same.created
        slot = next(self.slots)
        err = rpc_error(lambda: self.system.submit(key, start_h=slot, end_h=slot + 1))
        assert err.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert f"idempotency key {key!r} was already used for order" in (err.details() or "")

    # --- redemptions --------------------------------------------------------------------

    @rule(
        vid=st.sampled_from(sorted(VOLUNTEERS)),
        key=st.sampled_from(KEYS),
        minutes=MINUTES,
        branch=st.sampled_from(BRANCHES),
        reason=REASONS,
    )
    def redeem(self, vid: str, key: str, minutes: int, branch: str, reason: str) -> None:
        content = (minutes, branch, reason)
        first = self.books.keys.get((vid, key)) if key else None
        try:
            reply = self._redeem(vid, key, content)
        except grpc.RpcError as err:
            assert err.code() == grpc.StatusCode.FAILED_PRECONDITION, err
            details = err.details() or ""
            if first is not None:
                assert first != content
                assert f"idempotency key {key!r} was already used for redemption" in details
            else:
                assert self.books.balance[vid] < minutes and "fewer than" in details
            return
        if first is not None:
            assert first == content and not reply.posted
        else:
            assert reply.posted
            self._posted(vid, key, content)
        assert reply.balance_minutes == self.books.balance[vid]

    @rule(data=st.data())
    def retry_redemption(self, data: st.DataObject) -> None:
        if not self.books.keys:
            return
        (vid, key), content = data.draw(st.sampled_from(sorted(self.books.keys.items())))
        reply = self._redeem(vid, key, content)
        assert not reply.posted and reply.balance_minutes == self.books.balance[vid]

    @rule(vid=st.sampled_from(sorted(VOLUNTEERS)), minutes=MINUTES, same_key=st.booleans())
    def race(self, vid: str, minutes: int, same_key: bool) -> None:
        """Four redemptions at once: with one key exactly one posts (if the balance holds
        it); with four keys as many as the balance holds, never more."""
        keys = [f"race-{self.books.redemptions}-{k}" for k in range(4)]
        if same_key:
            keys = keys[:1] * 4
        content = (minutes, "grid-1", "a ride to the clinic")
        with ThreadPoolExecutor(4) as pool:
            futures = [pool.submit(self._redeem, vid, key, content) for key in keys]
        posted = [key for key, f in zip(keys, futures, strict=True) if _posted(f)]
        fits = self.books.balance[vid] // minutes
        assert len(posted) == min(fits, len(set(keys))), (posted, fits)
        for key in posted:
            self._posted(vid, key, content)

    def _redeem(self, vid: str, key: str, content: tuple[int, str, str]) -> T.RedeemHoursResponse:
        minutes, branch, reason = content
        request = T.RedeemHoursRequest(
            volunteer_id=vid,
            hours=minutes / 60,
            branch_id=branch,
            reason=reason,
            idempotency_key=key,
        )
        return self.system.bank.RedeemHours(request, timeout=10)

    def _posted(self, vid: str, key: str, content: tuple[int, str, str]) -> None:
        minutes, branch, _ = content
        if key:
            self.books.keys[vid, key] = content
        self.books.balance[vid] -= minutes
        self.books.redeemed[vid] += minutes
        self.books.branch_redeemed[branch] += minutes
        self.books.redemptions += 1

    # --- the books ----------------------------------------------------------------------

    @invariant()
    def volunteers_match_their_statements(self) -> None:
        bank = self.system.bank
        for vid in VOLUNTEERS:
            got = bank.GetBalance(T.GetBalanceRequest(volunteer_id=vid), timeout=10)
            want = (self.books.balance[vid], self.books.earned[vid], self.books.redeemed[vid])
            assert (got.balance_minutes, got.earned_minutes, got.redeemed_minutes) == want, vid
            assert got.balance_minutes >= 0  # no overdraft
            request = T.GetStatementRequest(volunteer_id=vid, page_size=1000)
            entries = bank.GetStatement(request, timeout=10).entries
            assert sum(e.minutes for e in entries) == got.balance_minutes
            assert {e.account for e in entries} <= {volunteer_account(vid)}

    @invariant()
    def branches_and_the_head_bank_match(self) -> None:
        head = self.system.bank.GetBranchSummary(T.GetBranchSummaryRequest(), timeout=10)
        rows = {
            b.branch_id: (b.earned_minutes, b.redeemed_minutes, b.completed_orders)
            for b in head.branches
        }
        books = self.books
        want = {
            b: (books.branch_earned[b], books.branch_redeemed[b], books.branch_orders[b])
            for b in {*books.branch_earned, *books.branch_redeemed}
        }
        assert rows == want
        total = (head.total.earned_minutes, head.total.redeemed_minutes)
        assert total == (sum(books.earned.values()), sum(books.redeemed.values()))
        assert head.total.completed_orders == sum(books.branch_orders.values())
        for branch in filter(None, rows):
            one = self.system.bank.GetBranchSummary(
                T.GetBranchSummaryRequest(branch_id=branch), timeout=10
            ).total
            assert (one.earned_minutes, one.redeemed_minutes, one.completed_orders) == rows[branch]

    @invariant()
    def every_transaction_balances_and_each_key_posted_once(self) -> None:
        assert self.system.app.orders is not None
        entries = self.system.app.orders.store.entries()
        sums: dict[str, int] = defaultdict(int)
        legs: Counter[str] = Counter()
        for entry in entries:
            sums[entry.txn_id] += entry.minutes
            legs[entry.txn_id] += 1
        assert set(sums.values()) <= {0}
        redemptions = {e.txn_id for e in entries if e.kind is EntryKind.REDEEMED}
        assert len(redemptions) == self.books.redemptions
        assert all(legs[txn] == 2 for txn in redemptions)


def _posted(call: Future[T.RedeemHoursResponse]) -> bool:
    """Whether a race's call posted (a refusal for the balance posts nothing)."""
    try:
        reply = call.result()
    except grpc.RpcError as err:
        assert err.code() == grpc.StatusCode.FAILED_PRECONDITION, err
        return False
    return bool(reply.posted)


@pytest.mark.parametrize("kind", ["memory", pytest.param("redis", marks=pytest.mark.redis)])
def test_the_time_bank_keeps_its_books(kind: str) -> None:
    if kind == "redis":
        shared_redis_or_skip().close()
    machine = type(f"{kind.title()}TimeBank", (TimeBankMachine,), {"kind": kind})
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=30,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
