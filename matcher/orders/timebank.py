"""The time bank (时间银行): posting rules and the figures the centre reads.

Rules (each transaction balances: its postings sum to zero, so the whole ledger always sums
to zero):

* **Earn.** Completing an order credits each accepted volunteer's account with the minutes
  served and debits the order's branch account (``branch:<id>``; ``branch:`` is the head bank,
  总行) with the total: the branch issues the hours. Transaction id ``earn:<order id>``,
  posted in the same atomic write as the completion, so a retried completion never credits
  twice.
* **Redeem.** A volunteer spends hours at a branch: the volunteer's account is debited and
  the branch's credited (the hours return to the bank). Refused when the balance is short;
  with an idempotency key a retried redemption is posted once.
* **Roll-up.** Each branch (网格分行) reports the minutes it issued and took back and its
  completed orders; the head bank's figures are the sum over every branch.

Amounts are whole minutes; the API shows hours as minutes / 60 alongside.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from matcher.errors import NotFoundError
from matcher.orders.model import (
    BranchFigures,
    EntryKind,
    LedgerEntry,
    Order,
    Posting,
    Transaction,
)
from matcher.orders.store.base import OrderStore, branch_account, volunteer_account
from matcher.registry.store.base import VolunteerStore


def earn_transaction(order: Order, now_ms: int) -> Transaction:
    """The credit of a completed order: each accepted volunteer earns ``minutes_served``."""
    minutes = order.minutes_served
    volunteers = order.accepted_volunteers
    postings = [Posting(volunteer_account(v), minutes) for v in volunteers]
    postings.append(Posting(branch_account(order.branch_id), -minutes * len(volunteers)))
    return Transaction(
        txn_id=f"earn:{order.order_id}",
        kind=EntryKind.EARNED,
        branch_id=order.branch_id,
        postings=tuple(postings),
        at_ms=now_ms,
        order_id=order.order_id,
    )


@dataclass(frozen=True)
class Balance:
    """A volunteer's account: what is left, and what was earned and spent, in minutes."""

    volunteer_id: str
    minutes: int
    earned_minutes: int
    redeemed_minutes: int


@dataclass(frozen=True)
class Summary:
    """A branch's figures, or the head bank's total with one row per branch."""

    total: BranchFigures
    branches: tuple[BranchFigures, ...] = ()


class TimeBank:
    """Balances, statements, summaries and redemptions over an ``OrderStore``."""

    def __init__(
        self, orders: OrderStore, registry: VolunteerStore, clock: Callable[[], float]
    ) -> None:
        self._orders = orders
        self._registry = registry
        self._clock = clock

    def balance(self, volunteer_id: str) -> Balance:
        """The volunteer's balance; ``NotFoundError`` for someone neither registered nor in
        the ledger."""
        account = self._known(volunteer_id)
        entries = self._orders.entries(account)
        earned = sum(e.minutes for e in entries if e.minutes > 0)
        spent = -sum(e.minutes for e in entries if e.minutes < 0)
        [minutes] = self._orders.balances([account])
        return Balance(volunteer_id, minutes, earned, spent)

    def statement(self, volunteer_id: str, start: int, limit: int) -> tuple[list[LedgerEntry], int]:
        """One page of the volunteer's entries (oldest first) and how many there are."""
        account = self._known(volunteer_id)
        return self._orders.entries(account, start, limit), self._orders.entry_count(account)

    def summary(self, branch_id: str, *, head: bool) -> Summary:
        """One branch's figures, or (``head``) the head bank's roll-up over every branch."""
        figures = self._orders.branch_figures()
        if not head:
            found = next((f for f in figures if f.branch_id == branch_id), None)
            return Summary(found or BranchFigures(branch_id))
        total = BranchFigures(
            "",
            earned_minutes=sum(f.earned_minutes for f in figures),
            redeemed_minutes=sum(f.redeemed_minutes for f in figures),
            completed_orders=sum(f.completed_orders for f in figures),
        )
        return Summary(total, tuple(figures))

    def redeem(
        self, volunteer_id: str, minutes: int, branch_id: str, reason: str, key: str
    ) -> tuple[bool, Balance]:
        """Spend ``minutes`` of the volunteer's hours at ``branch_id``; returns whether this
        call posted (False: a retry of ``key``, posted before) and the balance after."""
        account = self._known(volunteer_id)
        txn = Transaction(
            txn_id=f"redeem:{volunteer_id}:{key or uuid.uuid4().hex}",
            kind=EntryKind.REDEEMED,
            branch_id=branch_id,
            postings=(Posting(account, -minutes), Posting(branch_account(branch_id), minutes)),
            at_ms=int(self._clock() * 1000),
            reason=reason,
            guard_account=account,
            guard_minutes=minutes,
        )
        posted = self._orders.post(txn)
        return posted, self.balance(volunteer_id)

    def _known(self, volunteer_id: str) -> str:
        account = volunteer_account(volunteer_id)
        if self._orders.entry_count(account) == 0 and self._registry.get(volunteer_id) is None:
            raise NotFoundError(f"volunteer {volunteer_id} is not registered")
        return account
