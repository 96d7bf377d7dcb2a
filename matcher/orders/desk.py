"""``OrderDesk``: every operation on an order, as read -> transition -> atomic commit.

Each operation reads the order, computes the next order with the pure ``lifecycle``
function, and commits it with the holds and the ledger transaction the change implies, at
the version it read. If another process wrote the order in between (``StaleOrderError``) it
reads again and re-decides, so concurrent callers never lose an update and every decision
is made on the current state. An unchanged result (an idempotent retry) writes nothing.

After a successful write the desk applies the registry side effects (``registry_sync``) and
wakes the offer streams of the volunteers involved (``OfferFeed``).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from typing import Any

from matcher.core.model import Urgency
from matcher.errors import ConflictError, NotFoundError
from matcher.orders import lifecycle, registry_sync
from matcher.orders.model import (
    Actor,
    Event,
    Offer,
    Order,
    OrderState,
    Resident,
    ServiceSpec,
    Transaction,
)
from matcher.orders.observer import LifecycleObserver, NoObserver
from matcher.orders.offer_feed import OfferFeed
from matcher.orders.store import OrderStore, StaleOrderError
from matcher.orders.timebank import earn_transaction
from matcher.store.base import VolunteerStore

logger = logging.getLogger(__name__)

#: Re-reads of one order when other writers keep changing it.
COMMIT_ATTEMPTS = 16

Step = Callable[[Order, int], Order]


def order_id_for(idempotency_key: str) -> str:
    """The order id a submission with this key gets: the same key, the same order."""
    return "ord-" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:24]


def fingerprint(branch_id: str, resident: Resident, spec: ServiceSpec) -> str:
    """A digest of what was submitted, to tell a retry from a reused key."""
    content: list[Any] = [branch_id, resident.resident_id, resident.contact]
    content += [list(spec.skills), spec.lat, spec.lon, spec.start, spec.end]
    content += [int(spec.urgency), spec.volunteers_needed, spec.remote, spec.max_distance_km]
    text = json.dumps(content, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def offer_order_id(offer_id: str) -> str:
    """The order an offer id belongs to (offer ids are ``<order id>.<n>``)."""
    order_id, dot, n = offer_id.rpartition(".")
    if not dot or not n.isdigit() or not order_id:
        raise NotFoundError(f"offer {offer_id} does not exist")
    return order_id


class OrderDesk:
    """Submissions, answers to offers, cancellations, completions and ratings."""

    def __init__(
        self,
        orders: OrderStore,
        registry: VolunteerStore,
        clock: Callable[[], float],
        offer_ttl_seconds: float,
        feed: OfferFeed | None = None,
        observer: LifecycleObserver | None = None,
    ) -> None:
        self.orders = orders
        self.registry = registry
        self.clock = clock
        self.offer_ttl_ms = int(offer_ttl_seconds * 1000)
        self.feed = feed if feed is not None else OfferFeed()
        self.on_urgent: Callable[[], None] | None = None  # set by the dispatcher
        self.observer: LifecycleObserver = observer or NoObserver()

    def now_ms(self) -> int:
        return int(self.clock() * 1000)

    def submit(
        self,
        branch_id: str,
        resident: Resident,
        spec: ServiceSpec,
        idempotency_key: str,
        owner: str = "",
    ) -> tuple[Order, bool]:
        """Create the order (or find the one this key created); returns it and whether this
        call created it. An URGENT order wakes the dispatcher at once. ``owner`` (the
        submitting API key's id) is kept on the order and scopes the idempotency key, so two
        apps' keys never meet."""
        digest = fingerprint(branch_id, resident, spec)
        order_id = order_id_for(f"{owner}\x00{idempotency_key}" if owner else idempotency_key)
        now = self.now_ms()
        order = lifecycle.submit(order_id, branch_id, resident, spec, digest, now, owner)
        stored, created = self.orders.create(order)
        if not created and stored.fingerprint != digest:
            raise ConflictError(
                f"idempotency key already used for order {order_id} with different content"
            )
        if created:
            self.observer.order_written(None, stored, None)
        if created and spec.urgency is Urgency.URGENT and self.on_urgent is not None:
            self.on_urgent()
        return stored, created

    def get(self, order_id: str) -> Order:
        found = self.orders.get(order_id)
        if found is None:
            raise NotFoundError(f"order {order_id} does not exist")
        return found

    def accept(self, offer_id: str) -> Order:
        """The volunteer accepts; past the deadline the offer is expired (and that written)."""
        order_id = offer_order_id(offer_id)
        try:
            return self.transition(order_id, lambda o, now: lifecycle.accept(o, offer_id, now))
        except lifecycle.OfferExpiredError:
            self.transition(order_id, lifecycle.expire_offers)
            raise

    def decline(self, offer_id: str) -> Order:
        """The volunteer declines: the order goes back to the pending set."""
        order_id = offer_order_id(offer_id)
        try:
            return self.transition(order_id, lambda o, now: lifecycle.decline(o, offer_id, now))
        except lifecycle.OfferExpiredError:
            self.transition(order_id, lifecycle.expire_offers)
            raise

    def cancel(self, order_id: str, actor: Actor, detail: str = "") -> Order:
        return self.transition(
            order_id, lambda o, now: lifecycle.cancel(o, actor, now, detail=detail)
        )

    def complete(
        self, order_id: str, minutes: int, actor: Actor, volunteer_id: str
    ) -> tuple[Order, bool]:
        """Mark the service done and credit the hours; returns the order and whether this
        call credited them (False for a retry of a completion)."""
        return self._transition(
            order_id,
            lambda o, now: lifecycle.complete(o, minutes, actor, volunteer_id, now),
            earn_transaction,
        )

    def rate(self, order_id: str, stars: int, comment: str) -> Order:
        return self.transition(order_id, lambda o, now: lifecycle.rate(o, stars, comment, now))

    def offer(
        self, order: Order, volunteer_id: str, window: tuple[int, int], distance_km: float
    ) -> Order:
        """Offer an open slot of ``order`` to a volunteer, holding their time atomically
        (``HoldConflictError`` if it is taken). ``order`` is a recent read, re-read if stale."""
        now = self.now_ms()
        deadline = now + self.offer_ttl_ms

        def step(o: Order, at: int) -> Order:
            return lifecycle.offer(o, volunteer_id, window, distance_km, deadline, at)

        return self.transition(order.order_id, step, first=order)

    def sweep(self, order: Order) -> Order:
        """Expire the order's overdue offers, and lapse it if its service time has come."""
        now = self.now_ms()
        due = any(o.deadline_ms <= now for o in order.open_offers)
        lapsing = order.state in lifecycle.ALLOWED_FROM[Event.LAPSE] and (
            order.spec.start * 1000 <= now
        )
        if not due and not lapsing:
            return order

        def step(o: Order, at: int) -> Order:
            o = lifecycle.expire_offers(o, at)
            if o.state in lifecycle.ALLOWED_FROM[Event.LAPSE] and o.spec.start * 1000 <= at:
                o = lifecycle.lapse(o, at)
            return o

        return self.transition(order.order_id, step, first=order)

    def list_orders(
        self,
        states: tuple[OrderState, ...],
        branch_ids: tuple[str, ...],
        offset: int,
        limit: int,
        owner: str | None = None,
    ) -> tuple[list[Order], int]:
        """One page of the orders in ``states`` (of ``branch_ids`` if any, submitted by API key
        ``owner`` if not None), oldest first, and how many there are in all."""
        ids = self.orders.ids_in_states(states)
        if branch_ids or owner is not None:
            wanted = set(branch_ids)
            found = [
                o
                for o in self.orders.get_many(ids)
                if o is not None
                and (not wanted or o.branch_id in wanted)
                and (owner is None or o.owner == owner)
            ]
            return found[offset : offset + limit], len(found)
        page = [o for o in self.orders.get_many(ids[offset : offset + limit]) if o is not None]
        return page, len(ids)

    def volunteer_offers(self, volunteer_id: str) -> list[tuple[Order, Offer]]:
        """Every offer ever made to the volunteer, oldest first, with its order."""
        ids = self.orders.volunteer_order_ids(volunteer_id)
        found = [o for o in self.orders.get_many(ids) if o is not None]
        pairs = [(o, made) for o in found for made in o.offers if made.volunteer_id == volunteer_id]
        return sorted(pairs, key=lambda p: (p[1].created_ms, p[1].offer_id))

    def transition(
        self,
        order_id: str,
        step: Step,
        txn_for: Callable[[Order, int], Transaction] | None = None,
        *,
        first: Order | None = None,
    ) -> Order:
        """Apply ``step`` to the current order and commit it (see the module docstring)."""
        return self._transition(order_id, step, txn_for, first=first)[0]

    def _transition(
        self,
        order_id: str,
        step: Step,
        txn_for: Callable[[Order, int], Transaction] | None = None,
        *,
        first: Order | None = None,
    ) -> tuple[Order, bool]:
        """``transition``, also saying whether anything was written."""
        before = first
        for _ in range(COMMIT_ATTEMPTS):
            if before is None:
                before = self.get(order_id)
            now = self.now_ms()
            after = step(before, now)
            if after == before:
                return before, False
            holds = lifecycle.hold_changes(before, after)
            txn = txn_for(after, now) if txn_for is not None else None
            try:
                written = self.orders.commit(after, holds, txn, now_ms=now)
            except StaleOrderError:
                before = None
                continue
            self._after_write(before, written)
            self.observer.order_written(before, written, txn)
            return written, True
        raise ConflictError(f"order {order_id} kept changing; try again")

    def _after_write(self, before: Order, after: Order) -> None:
        registry_sync.apply_changes(self.registry, before, after)
        touched = {o.volunteer_id for o in after.offers if before.offer(o.offer_id) != o}
        if after.state is not before.state:
            touched |= set(after.accepted_volunteers)
        if touched:
            self.feed.touch(touched)
