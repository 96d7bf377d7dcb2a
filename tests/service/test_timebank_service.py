"""TimeBankService over a real channel on both stores: completion credits, the ledger always
balances, redemptions, statements and the head bank's roll-up of its branches."""

from __future__ import annotations

import grpc
import pytest

from matcher.v1 import orders_pb2, timebank_pb2
from tests.support.orders import OrderSystem, system
from tests.support.registry import north_km, rpc_error, upsert, violations

__all__ = ["system"]  # the fixture

T = timebank_pb2


def served(system: OrderSystem, key: str, branch: str, hours: float, start_h: float) -> str:
    """An order of ``branch`` dispatched, accepted and completed with ``hours``."""
    order = system.submit(key, branch=branch, start_h=start_h, end_h=start_h + 1)
    [offer] = system.round().offers
    system.accept(offer.offer_id)
    assert system.complete(order.order_id, hours).credited
    return offer.volunteer_id


def ledger_sum(system: OrderSystem) -> int:
    assert system.app.orders is not None
    return sum(e.minutes for e in system.app.orders.store.entries())


def balance(system: OrderSystem, vid: str) -> T.GetBalanceResponse:
    return system.bank.GetBalance(T.GetBalanceRequest(volunteer_id=vid), timeout=10)


def redeem(system: OrderSystem, vid: str, hours: float, **kw: str) -> T.RedeemHoursResponse:
    kw.setdefault("reason", "a ride to the clinic")
    request = T.RedeemHoursRequest(volunteer_id=vid, hours=hours, **kw)
    return system.bank.RedeemHours(request, timeout=10)


@pytest.fixture
def busy(system: OrderSystem) -> OrderSystem:
    """Two volunteers; three orders served over two branches (1 h, 2 h, 0.5 h)."""
    system.register(
        upsert("vol-a", at=north_km(1), branch="grid-1"),
        upsert("vol-b", at=north_km(30), branch="grid-2"),
    )
    assert served(system, "k1", "grid-1", 1.0, 1) == "vol-a"
    assert served(system, "k2", "grid-1", 2.0, 3) == "vol-a"
    assert served(system, "k3", "grid-2", 0.5, 5) == "vol-a"
    return system


def test_completions_credit_volunteers_and_debit_branches(busy: OrderSystem) -> None:
    got = balance(busy, "vol-a")
    assert (got.balance_minutes, got.balance_hours, got.earned_minutes) == (210, 3.5, 210)
    assert ledger_sum(busy) == 0
    head = busy.bank.GetBranchSummary(T.GetBranchSummaryRequest(), timeout=10)
    assert (head.total.earned_minutes, head.total.completed_orders) == (210, 3)
    rows = {b.branch_id: (b.earned_minutes, b.completed_orders) for b in head.branches}
    assert rows == {"grid-1": (180, 2), "grid-2": (30, 1)}
    one = busy.bank.GetBranchSummary(T.GetBranchSummaryRequest(branch_id="grid-2"), timeout=10)
    assert (one.total.branch_id, one.total.outstanding_minutes, list(one.branches)) == (
        "grid-2",
        30,
        [],
    )


def test_redeeming_spends_hours_once_and_never_below_zero(busy: OrderSystem) -> None:
    err = rpc_error(lambda: redeem(busy, "vol-a", 4.0))
    assert err.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "3.5 hours" in (err.details() or "")
    first = redeem(busy, "vol-a", 1.5, branch_id="grid-2", idempotency_key="r-1")
    again = redeem(busy, "vol-a", 1.5, branch_id="grid-2", idempotency_key="r-1")
    assert (first.posted, first.balance_minutes) == (True, 120)
    assert (again.posted, again.balance_minutes) == (False, 120)
    got = balance(busy, "vol-a")
    assert (got.earned_minutes, got.redeemed_minutes) == (210, 90)
    assert ledger_sum(busy) == 0
    two = busy.bank.GetBranchSummary(T.GetBranchSummaryRequest(branch_id="grid-2"), timeout=10)
    assert (two.total.redeemed_minutes, two.total.outstanding_minutes) == (90, -60)


def test_the_statement_pages_through_the_entries(busy: OrderSystem) -> None:
    redeem(busy, "vol-a", 0.5)
    request = T.GetStatementRequest(volunteer_id="vol-a", page_size=3)
    first = busy.bank.GetStatement(request, timeout=10)
    assert [e.minutes for e in first.entries] == [60, 120, 30]
    assert first.total_size == 4 and first.balance_minutes == 180
    assert first.entries[0].kind == T.LEDGER_ENTRY_KIND_EARNED
    assert first.entries[0].transaction_id.startswith("earn:ord-")
    request.page_token = first.next_page_token
    rest = busy.bank.GetStatement(request, timeout=10)
    [spent] = rest.entries
    assert (spent.minutes, spent.hours, spent.reason) == (-30, -0.5, "a ride to the clinic")
    assert (spent.kind, spent.account, rest.next_page_token) == (
        T.LEDGER_ENTRY_KIND_REDEEMED,
        "volunteer:vol-a",
        "",
    )


def test_a_retried_completion_credits_nothing(busy: OrderSystem) -> None:
    [done] = busy.orders.ListOrders(
        orders_pb2.ListOrdersRequest(states=[orders_pb2.ORDER_STATE_COMPLETED], page_size=1),
        timeout=10,
    ).orders
    for _ in range(3):
        assert not busy.complete(done.order_id, done.hours_served).credited
    assert balance(busy, "vol-a").balance_minutes == 210 and ledger_sum(busy) == 0


def test_a_multi_volunteer_order_credits_each_and_balances(system: OrderSystem) -> None:
    system.register(upsert("vol-a", at=north_km(1)), upsert("vol-b", at=north_km(2)))
    order = system.submit("k", needed=2, branch="grid-9")
    for offer in system.round().offers:
        system.accept(offer.offer_id)
    system.complete(order.order_id, 1.25)
    assert [balance(system, v).balance_minutes for v in ("vol-a", "vol-b")] == [75, 75]
    assert ledger_sum(system) == 0
    nine = system.bank.GetBranchSummary(T.GetBranchSummaryRequest(branch_id="grid-9"), timeout=10)
    assert (nine.total.earned_minutes, nine.total.completed_orders) == (150, 1)


def test_unknown_volunteers_and_bad_input(system: OrderSystem) -> None:
    err = rpc_error(lambda: balance(system, "nobody"))
    assert err.code() == grpc.StatusCode.NOT_FOUND
    system.register(upsert("vol-a"))
    assert balance(system, "vol-a").balance_minutes == 0  # registered, nothing earned yet
    for hours, reason, field in ((0.0, "x", "hours"), (1e4, "x", "hours"), (1.0, " ", "reason")):
        err = rpc_error(lambda h=hours, r=reason: redeem(system, "vol-a", h, reason=r))
        assert err.code() == grpc.StatusCode.INVALID_ARGUMENT and set(violations(err)) == {field}
    err = rpc_error(
        lambda: system.bank.GetStatement(
            T.GetStatementRequest(volunteer_id="vol-a", page_token="junk"), timeout=10
        )
    )
    assert set(violations(err)) == {"page_token"}
