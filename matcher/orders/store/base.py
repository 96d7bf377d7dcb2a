"""The ``OrderStore`` protocol: where orders, volunteer holds and the time-bank ledger live.

Two implementations pass one contract suite (``tests/contract/test_order_store_contract.py``):
``MemoryOrderStore`` (the embedded default) and ``RedisOrderStore`` (shared by several
dispatcher processes). The transitions themselves are computed outside (``lifecycle``); the
store's job is to apply one transition *atomically*:

* ``commit`` writes an order only if its stored version is still the one the caller read
  (optimistic concurrency: ``StaleOrderError`` otherwise), and in the same atomic step adds
  and releases volunteer holds and posts a ledger transaction. A hold is refused
  (``HoldConflictError``, nothing written) when it overlaps a *live* hold of the same
  volunteer: one held by an accepted order, or by an open offer whose deadline has not
  passed at ``now_ms``. So no volunteer is ever booked twice for the same time, whichever
  process commits, and a hold whose offer was abandoned (a dispatcher died) stops counting
  at its deadline even before anyone releases it.
* ``commit_many`` applies several orders' writes (without ledger transactions) in one step
  (one Lua call on Redis): each write is checked and applied exactly as ``commit`` would,
  all or nothing on its own, against the store as the writes before it in the list left it,
  and a refused write (stale, held, missing) refuses only itself. A dispatch round commits
  its expiries and its offers this way, in a few round trips instead of one or two per order.
* A transaction is posted at most once per ``txn_id`` (a retried completion never credits
  twice) and only when its ``guard_account`` holds at least ``guard_minutes``
  (``InsufficientBalanceError`` otherwise, nothing written).
* The **outbox**: ``commit`` adds the write's registry side effects (``RegistryEffect``) in
  the same atomic step; they stay until ``settle_effect`` removes them, and
  ``replace_effect`` changes one only if it is still exactly as the caller read it (how a
  process claims one, see ``registry_sync``). ``commit_many`` writes carry none.

Every method may raise ``StoreUnavailableError``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeAlias

from matcher import ids
from matcher.errors import ConflictError, MatcherError
from matcher.orders.model import (
    NO_HOLD_CHANGES,
    BranchFigures,
    Hold,
    HoldChanges,
    LedgerEntry,
    Order,
    OrderState,
    RegistryEffect,
    Transaction,
)


class StaleOrderError(ConflictError):
    """The order changed since the caller read it; read it again and retry."""


class HoldConflictError(ConflictError):
    """The volunteer's time is already held by another offer or accepted order."""

    def __init__(self, volunteer_id: str, hold_id: str) -> None:
        self.volunteer_id = volunteer_id
        self.hold_id = hold_id
        super().__init__(f"volunteer {volunteer_id} is already booked at that time ({hold_id})")


class InsufficientBalanceError(ConflictError):
    """A transaction's guard account holds fewer minutes than it needs."""

    def __init__(self, account: str, balance: int, needed: int) -> None:
        self.account = account
        self.balance = balance
        self.needed = needed
        super().__init__(
            f"account {account} holds {balance / 60:g} hours, fewer than {needed / 60:g}"
        )


class ReusedKeyError(ConflictError):
    """An idempotency key came back with other content than the call that first used it
    (``first_use`` names what that call made: an order, a redemption)."""

    def __init__(self, key: str, first_use: str) -> None:
        self.key = key
        super().__init__(
            f"idempotency key {key!r} was already used for {first_use} with different content"
        )


@dataclass(frozen=True)
class StateCensus:
    """How many orders are in one state, and when the oldest of them was submitted."""

    count: int
    oldest_created_ms: int  # 0 when there are none


@dataclass(frozen=True)
class OrderWrite:
    """One order's write in ``commit_many``: the order at the version read, and its holds."""

    order: Order
    holds: HoldChanges = NO_HOLD_CHANGES


#: What ``commit_many`` returns per write: the order written (at the next version), or why
#: it was refused (``StaleOrderError``, ``HoldConflictError`` or ``NotFoundError``).
WriteOutcome: TypeAlias = Order | MatcherError


class OrderStore(Protocol):
    """Orders, holds and the ledger (see the module docstring for the guarantees)."""

    @property
    def description(self) -> str:
        """What this store is, for logs; never contains a password."""
        ...

    def create(self, order: Order) -> tuple[Order, bool]:
        """Store a new order at version 1 unless one with its id exists.

        Returns the stored order and whether this call created it (False: the existing order,
        unchanged, which is how a retried submission finds the first one).
        """
        ...

    def get(self, order_id: str) -> Order | None:
        """The order, or None."""
        ...

    def get_many(self, order_ids: Sequence[str]) -> list[Order | None]:
        """The orders (None where absent), in order."""
        ...

    def ids_in_states(self, states: Iterable[OrderState]) -> list[str]:
        """Ids of the orders in any of ``states``, oldest first (creation time, then id)."""
        ...

    def census(self) -> dict[OrderState, StateCensus]:
        """Orders per state (every state present), for the operators' gauges."""
        ...

    def commit(
        self,
        order: Order,
        holds: HoldChanges = NO_HOLD_CHANGES,
        txn: Transaction | None = None,
        *,
        now_ms: int,
        effects: Sequence[RegistryEffect] = (),
    ) -> Order:
        """Write ``order`` if the stored version equals ``order.version``; returns it at the
        next version. Holds, the transaction and the registry ``effects`` (into the outbox)
        are applied in the same atomic step.

        Raises ``StaleOrderError``, ``HoldConflictError`` or ``InsufficientBalanceError``
        (nothing written), or ``NotFoundError`` if the order does not exist.
        """
        ...

    def commit_many(self, writes: Sequence[OrderWrite], *, now_ms: int) -> list[WriteOutcome]:
        """``commit`` each write (no transactions) in turn, in one step; per write, the order
        written or the error ``commit`` would have raised (nothing of that write written).
        Writes of the same order in one call see each other (the second is stale unless it
        was made from the first's result)."""
        ...

    def holds(self) -> list[Hold]:
        """Every stored hold, live or past its deadline (callers filter with ``live``)."""
        ...

    def volunteer_order_ids(self, volunteer_id: str) -> list[str]:
        """Ids of the orders ever offered to ``volunteer_id``, in the order of first offer."""
        ...

    def pending_effects(self) -> list[RegistryEffect]:
        """The outbox: every registry effect not settled yet, in no particular order."""
        ...

    def replace_effect(self, expected: RegistryEffect, new: RegistryEffect) -> bool:
        """Store ``new`` in place of the effect of its id if that is still equal to
        ``expected``; False (nothing written) if it changed or was settled."""
        ...

    def settle_effect(self, effect_id: str) -> None:
        """Remove an applied effect from the outbox (nothing if it is gone already)."""
        ...

    def post(self, txn: Transaction) -> bool:
        """Post a transaction not tied to an order write; False if ``txn_id`` was posted
        before (nothing posted again). Raises ``InsufficientBalanceError``."""
        ...

    def entries(self, account: str = "", start: int = 0, limit: int = 0) -> list[LedgerEntry]:
        """Ledger entries in posting order: of ``account`` (every entry when empty), skipping
        the first ``start``, at most ``limit`` (0: all)."""
        ...

    def entry_count(self, account: str = "") -> int:
        """How many entries ``entries(account)`` holds in all."""
        ...

    def balances(self, accounts: Sequence[str]) -> list[int]:
        """Each account's balance in minutes (0 for an account never posted to)."""
        ...

    def branch_figures(self) -> list[BranchFigures]:
        """Time-bank totals of every branch that has any, sorted by branch id."""
        ...

    def ping(self) -> None:
        """Return if the store is reachable, else raise ``StoreUnavailableError``."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


def volunteer_account(volunteer_id: str) -> str:
    """The ledger account of a volunteer (``matcher.ids``)."""
    return ids.join("volunteer", volunteer_id)


def branch_account(branch_id: str) -> str:
    """The ledger account of a branch (``branch:`` alone is the head bank, 总行)."""
    return ids.join("branch", branch_id)


def moved_minutes(txn: Transaction) -> int:
    """How many minutes a transaction moves (the sum of its positive legs)."""
    return sum(p.minutes for p in txn.postings if p.minutes > 0)
