"""The time bank (时间银行): posting rules and the figures the centre reads.

Rules (each transaction balances: its postings sum to zero, so the whole ledger always sums
to zero):

* **Earn.** Completing an order credits each accepted volunteer's account with the minutes
  served and debits the order's branch account (``branch:<id>``; ``branch:`` is the head bank,
  总行) with the total: the branch issues the hours. Transaction id ``earn:<order id>``,
  posted in the same atomic write as the completion, so a retried completion never credits
  twice.
* **Redeem.** A volunteer spends hours at a branch: the volunteer's account is debited and
  the branch's credited (the hours return to the bank). Refused when the balance is short.
  With an idempotency key the transaction id is ``redeem:<volunteer>:<key>`` (``matcher.ids``
  escapes the volunteer id, so no two volunteers' keys meet): a retry with the same hours,
  branch and reason is posted once (``posted`` false), the same key with anything else is
  refused (``ReusedKeyError``, naming the key, as a reused order key is).
* **Roll-up.** Each branch (网格分行) reports the minutes it issued and took back and its
  completed orders; the head bank's figures are the sum over every branch.

Amounts are whole minutes; the API shows hours as minutes / 60 alongside.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from matcher import ids
from matcher.errors import NotFoundError
from matcher.orders.model import (
    BranchFigures,
    EntryKind,
    LedgerEntry,
    Order,
    Posting,
    Transaction,
)
from matcher.orders.store.base import (
    OrderStore,
    ReusedKeyError,
    branch_account,
    volunteer_account,
)
from matcher.registry.store.base import VolunteerStore


def earn_transaction(order: Order, now_ms: int) -> Transaction:
    """The credit of a completed order: each accepted volunteer earns ``minutes_served``."""
    minutes = order.minutes_served
    volunteers = order.accepted_volunteers
    postings = [Posting(volunteer_account(v), minutes) for v in volunteers]
    postings.append(Posting(branch_account(order.branch_id), -minutes * len(volunteers)))
    return Transaction(
        txn_id=earn_id(order.order_id),
        kind=EntryKind.EARNED,
        branch_id=order.branch_id,
        postings=tuple(postings),
        at_ms=now_ms,
        order_id=order.order_id,
    )


def earn_id(order_id: str) -> str:
    """The transaction id of an order's completion."""
    return ids.join("earn", order_id)


def redemption_id(volunteer_id: str, key: str) -> str:
    """The transaction id of the volunteer's redemption with idempotency ``key``."""
    return ids.join("redeem", volunteer_id, key)


#: Entries read per page while looking for the first use of a reused key.
_SEARCH_PAGE = 200


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
        call posted (False: a retry of ``key``, posted before with the same content) and the
        balance after. ``ReusedKeyError`` if ``key`` was posted with other content."""
        account = self._known(volunteer_id)
        txn = Transaction(
            txn_id=redemption_id(volunteer_id, key or uuid.uuid4().hex),
            kind=EntryKind.REDEEMED,
            branch_id=branch_id,
            postings=(Posting(account, -minutes), Posting(branch_account(branch_id), minutes)),
            at_ms=int(self._clock() * 1000),
            reason=reason,
            guard_account=account,
            guard_minutes=minutes,
        )
        posted = self._orders.post(txn)
        if not posted:
            first = self._entry_of(account, txn.txn_id)
            same = first is not None and (first.minutes, first.branch_id, first.reason) == (
                -minutes,
                branch_id,
                reason,
            )
            if not same:
                raise ReusedKeyError(key, f"redemption {txn.txn_id}")
        return posted, self.balance(volunteer_id)

    def _entry_of(self, account: str, txn_id: str) -> LedgerEntry | None:
        """The account's entry of transaction ``txn_id``, searched newest first (a retry
        mostly follows its first call closely), or None."""
        end = self._orders.entry_count(account)
        while end > 0:
            start = max(0, end - _SEARCH_PAGE)
            page = self._orders.entries(account, start, end - start)
            found = next((e for e in reversed(page) if e.txn_id == txn_id), None)
            if found is not None:
                return found
            end = start
        return None

    def _known(self, volunteer_id: str) -> str:
        account = volunteer_account(volunteer_id)
        if self._orders.entry_count(account) == 0 and self._registry.get(volunteer_id) is None:
            raise NotFoundError(f"volunteer {volunteer_id} is not registered")
        return account
