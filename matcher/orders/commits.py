"""``Committer``: how an order transition is written, one order or a round's many at once.

A transition is read -> step -> atomic commit at the version read, with the holds the change
implies (``lifecycle.hold_changes``) and, for one order, the ledger transaction it posts. If
another process wrote the order in between (``StaleOrderError``) it reads again and re-decides,
so concurrent callers never lose an update and every decision is made on the current state.
An unchanged result (an idempotent retry) writes nothing. ``many`` does the same for several
orders, their writes sent together (``OrderStore.commit_many``), each still atomic and checked
on its own, and a stale one re-read and retried alone. A write with registry side effects
(``registry_sync``) commits them into the outbox in its atomic step, so such a write goes
through ``one`` (``commit_many`` writes carry none). After each write the ``written``
callback runs (the desk's side effects and observer).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from matcher.errors import ConflictError, NotFoundError
from matcher.orders import lifecycle
from matcher.orders.model import Order, RegistryEffect, Transaction
from matcher.orders.store.base import OrderStore, OrderWrite, StaleOrderError, WriteOutcome

#: Re-reads of one order when other writers keep changing it.
COMMIT_ATTEMPTS = 16

#: A transition: the order after an event, from the order before it and the time (epoch ms).
Step = Callable[[Order, int], Order]
#: The ledger transaction a transition posts, from the order after it and the time.
TxnFor = Callable[[Order, int], Transaction]
#: The registry effects a write commits into the outbox: from the order before, the order
#: after (at the version read) and the time.
EffectsFor = Callable[[Order, Order, int], Sequence[RegistryEffect]]
#: What runs after a write: (order before, order written, transaction posted or None,
#: registry effects committed).
Written = Callable[[Order, Order, Transaction | None, Sequence[RegistryEffect]], None]


class Committer:
    """Commits transitions to ``orders`` at ``now_ms()``, calling ``written`` after each write."""

    def __init__(
        self,
        orders: OrderStore,
        now_ms: Callable[[], int],
        written: Written,
        effects_for: EffectsFor = lambda before, after, now: (),
    ) -> None:
        self.orders = orders
        self.now_ms = now_ms
        self.written = written
        self.effects_for = effects_for

    def one(
        self,
        order_id: str,
        step: Step,
        txn_for: TxnFor | None = None,
        *,
        first: Order | None = None,
    ) -> tuple[Order, bool]:
        """Apply ``step`` to the current order (``first`` if given: a recent read) and commit
        it; the order after it, and whether anything was written."""
        before = first
        for _ in range(COMMIT_ATTEMPTS):
            if before is None:
                before = self.orders.get(order_id)
                if before is None:
                    raise NotFoundError(f"order {order_id} does not exist")
            now = self.now_ms()
            after = step(before, now)
            if after == before:
                return before, False
            holds = lifecycle.hold_changes(before, after)
            txn = txn_for(after, now) if txn_for is not None else None
            effects = self.effects_for(before, after, now)
            try:
                written = self.orders.commit(after, holds, txn, now_ms=now, effects=effects)
            except StaleOrderError:
                before = None
                continue
            self.written(before, written, txn, effects)
            return written, True
        raise ConflictError(f"order {order_id} kept changing; try again")

    def many(self, items: Sequence[tuple[Order, Step]]) -> list[WriteOutcome]:
        """``one`` for several orders (each at most once), committed together. Each item is
        (a recent read of the order, its step); per item the order after it, or the
        ``ConflictError`` / ``NotFoundError`` ``one`` would raise."""
        now = self.now_ms()
        out: list[WriteOutcome] = []
        writes: list[OrderWrite] = []
        written_at: list[int] = []
        alone: list[int] = []  # writes with registry effects: committed by ``one``
        for order, step in items:
            try:
                after = step(order, now)
            except (ConflictError, NotFoundError) as error:
                out.append(error)
                continue
            out.append(order)
            if after != order and self.effects_for(order, after, now):
                alone.append(len(out) - 1)
            elif after != order:
                writes.append(OrderWrite(after, lifecycle.hold_changes(order, after)))
                written_at.append(len(out) - 1)
        outcomes = self.orders.commit_many(writes, now_ms=now) if writes else []
        for k, outcome in zip(written_at, outcomes, strict=True):
            before = items[k][0]
            if isinstance(outcome, Order):
                self.written(before, outcome, None, ())
            out[k] = outcome
        stale = {k for k in written_at if isinstance(out[k], StaleOrderError)}
        for k in alone + sorted(stale):
            order, step = items[k]
            try:
                out[k] = self.one(order.order_id, step, first=None if k in stale else order)[0]
            except (ConflictError, NotFoundError) as error:
                out[k] = error
        return out
