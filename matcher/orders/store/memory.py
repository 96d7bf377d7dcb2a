"""``MemoryOrderStore``: the embedded default ``OrderStore``, dicts behind one lock.

A real implementation (the contract suite runs it and ``RedisOrderStore`` alike): each
``commit`` checks the version, the holds and the guard before changing anything, then applies
every part under the lock, so it is atomic for every thread of the process.
"""

from __future__ import annotations

import dataclasses
import threading
from collections import defaultdict
from collections.abc import Iterable, Sequence

from matcher.errors import NotFoundError
from matcher.orders.model import (
    NO_HOLD_CHANGES,
    BranchFigures,
    EntryKind,
    Hold,
    HoldChanges,
    LedgerEntry,
    Order,
    OrderState,
    RegistryEffect,
    Transaction,
)
from matcher.orders.store.base import (
    HoldConflictError,
    InsufficientBalanceError,
    OrderWrite,
    StaleOrderError,
    StateCensus,
    WriteOutcome,
    moved_minutes,
)


class MemoryOrderStore:
    """Orders, holds and the ledger in this process's memory; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._orders: dict[str, Order] = {}
        self._holds: dict[str, dict[str, Hold]] = defaultdict(dict)
        self._offered: dict[str, dict[str, None]] = defaultdict(dict)
        self._entries: list[LedgerEntry] = []
        self._by_account: dict[str, list[int]] = defaultdict(list)
        self._balances: dict[str, int] = defaultdict(int)
        self._posted: set[str] = set()
        self._figures: dict[str, BranchFigures] = {}
        self._outbox: dict[str, RegistryEffect] = {}

    @property
    def description(self) -> str:
        return "memory"

    def create(self, order: Order) -> tuple[Order, bool]:
        with self._lock:
            found = self._orders.get(order.order_id)
            if found is not None:
                return found, False
            stored = dataclasses.replace(order, version=1)
            self._orders[order.order_id] = stored
            return stored, True

    def get(self, order_id: str) -> Order | None:
        with self._lock:
            return self._orders.get(order_id)

    def get_many(self, order_ids: Sequence[str]) -> list[Order | None]:
        with self._lock:
            return [self._orders.get(i) for i in order_ids]

    def ids_in_states(self, states: Iterable[OrderState]) -> list[str]:
        wanted = set(states)
        with self._lock:
            found = [o for o in self._orders.values() if o.state in wanted]
        return [o.order_id for o in sorted(found, key=lambda o: (o.created_ms, o.order_id))]

    def census(self) -> dict[OrderState, StateCensus]:
        counts = dict.fromkeys(OrderState, 0)
        oldest = dict.fromkeys(OrderState, 0)
        with self._lock:
            for order in self._orders.values():
                counts[order.state] += 1
                if not oldest[order.state] or order.created_ms < oldest[order.state]:
                    oldest[order.state] = order.created_ms
        return {state: StateCensus(counts[state], oldest[state]) for state in OrderState}

    def commit(
        self,
        order: Order,
        holds: HoldChanges = NO_HOLD_CHANGES,
        txn: Transaction | None = None,
        *,
        now_ms: int,
        effects: Sequence[RegistryEffect] = (),
    ) -> Order:
        with self._lock:
            written = self._commit(order, holds, txn, now_ms)
            self._outbox.update((e.effect_id, e) for e in effects)
            return written

    def commit_many(self, writes: Sequence[OrderWrite], *, now_ms: int) -> list[WriteOutcome]:
        out: list[WriteOutcome] = []
        with self._lock:
            for write in writes:
                try:
                    out.append(self._commit(write.order, write.holds, None, now_ms))
                except (NotFoundError, StaleOrderError, HoldConflictError) as refusal:
                    out.append(refusal)
        return out

    def holds(self) -> list[Hold]:
        with self._lock:
            return [h for by_id in self._holds.values() for h in by_id.values()]

    def volunteer_order_ids(self, volunteer_id: str) -> list[str]:
        with self._lock:
            return list(self._offered.get(volunteer_id, {}))

    def pending_effects(self) -> list[RegistryEffect]:
        with self._lock:
            return list(self._outbox.values())

    def replace_effect(self, expected: RegistryEffect, new: RegistryEffect) -> bool:
        with self._lock:
            if self._outbox.get(expected.effect_id) != expected:
                return False
            self._outbox[new.effect_id] = new
            return True

    def settle_effect(self, effect_id: str) -> None:
        with self._lock:
            self._outbox.pop(effect_id, None)

    def post(self, txn: Transaction) -> bool:
        with self._lock:
            if txn.txn_id in self._posted:
                return False
            self._check_guard(txn)
            self._post(txn)
            return True

    def entries(self, account: str = "", start: int = 0, limit: int = 0) -> list[LedgerEntry]:
        with self._lock:
            if account:
                rows = self._by_account.get(account, [])
                chosen = rows[start : start + limit] if limit else rows[start:]
                return [self._entries[i] for i in chosen]
            return self._entries[start : start + limit] if limit else self._entries[start:]

    def entry_count(self, account: str = "") -> int:
        with self._lock:
            return len(self._by_account.get(account, [])) if account else len(self._entries)

    def balances(self, accounts: Sequence[str]) -> list[int]:
        with self._lock:
            return [self._balances.get(a, 0) for a in accounts]

    def branch_figures(self) -> list[BranchFigures]:
        with self._lock:
            return [self._figures[b] for b in sorted(self._figures)]

    def ping(self) -> None:
        return None

    def close(self) -> None:
        return None

    def _commit(
        self, order: Order, holds: HoldChanges, txn: Transaction | None, now_ms: int
    ) -> Order:
        """Check everything, then write (the lock is held)."""
        stored = self._orders.get(order.order_id)
        if stored is None:
            raise NotFoundError(f"order {order.order_id} does not exist")
        if stored.version != order.version:
            raise StaleOrderError(
                f"order {order.order_id} changed (version {stored.version}, not {order.version})"
            )
        released = set(holds.release)
        for hold in holds.add:
            self._check_free(hold, released, now_ms)
        post = txn is not None and txn.txn_id not in self._posted
        if post and txn is not None:
            self._check_guard(txn)
        for volunteer_id, hold_id in holds.release:
            self._holds[volunteer_id].pop(hold_id, None)
        for hold in holds.add:
            self._holds[hold.volunteer_id][hold.hold_id] = hold
            self._offered[hold.volunteer_id].setdefault(order.order_id)
        if post and txn is not None:
            self._post(txn)
        written = dataclasses.replace(order, version=stored.version + 1)
        self._orders[order.order_id] = written
        return written

    def _check_free(self, hold: Hold, released: set[tuple[str, str]], now_ms: int) -> None:
        """Raise unless ``hold`` overlaps no live hold of its volunteer (the lock is held)."""
        for other in self._holds.get(hold.volunteer_id, {}).values():
            if other.hold_id == hold.hold_id or (other.volunteer_id, other.hold_id) in released:
                continue
            if other.live(now_ms) and other.start < hold.end and hold.start < other.end:
                raise HoldConflictError(hold.volunteer_id, other.hold_id)

    def _check_guard(self, txn: Transaction) -> None:
        if txn.guard_account:
            balance = self._balances.get(txn.guard_account, 0)
            if balance < txn.guard_minutes:
                raise InsufficientBalanceError(txn.guard_account, balance, txn.guard_minutes)

    def _post(self, txn: Transaction) -> None:
        """Append the transaction's entries and update the totals (the lock is held)."""
        self._posted.add(txn.txn_id)
        for p in txn.postings:
            entry = txn.entry(p, sequence=len(self._entries) + 1)
            self._by_account[p.account].append(len(self._entries))
            self._entries.append(entry)
            self._balances[p.account] += p.minutes
        old = self._figures.get(txn.branch_id, BranchFigures(txn.branch_id))
        moved = moved_minutes(txn)
        if txn.kind is EntryKind.EARNED:
            new = dataclasses.replace(
                old,
                earned_minutes=old.earned_minutes + moved,
                completed_orders=old.completed_orders + 1,
            )
        else:
            new = dataclasses.replace(old, redeemed_minutes=old.redeemed_minutes + moved)
        self._figures[txn.branch_id] = new
