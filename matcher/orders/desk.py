"""``OrderDesk``: every operation on an order, as read -> transition -> atomic commit.

Each operation names the pure ``lifecycle`` function of its event; ``commits.Committer``
reads the order, applies it and commits the result with the holds and the ledger transaction
it implies, re-reading when another process wrote first (see ``commits``). A dispatch round's
expiries and offers go through ``offer_many`` / ``sweep_many``: many orders at once, their
writes sent together.

A write's registry side effects go into the order store's outbox in the same atomic commit;
after the write the desk applies them (``registry_sync.RegistryOutbox``, exactly once), wakes
the offer streams of the volunteers involved (``OfferFeed``) and tells the observer.

Sweeping (a round's first step) expires overdue offers, lapses orders whose service time
came, and closes ACCEPTED orders nobody completed within ``completion_grace_hours`` after
their service ended (``lifecycle.close_uncompleted``), so no hold lives for ever.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from matcher.core.model import Urgency
from matcher.errors import NotFoundError
from matcher.orders import lifecycle, registry_sync
from matcher.orders.commits import Committer, Step, TxnFor
from matcher.orders.model import (
    Actor,
    Event,
    Offer,
    Order,
    OrderState,
    RegistryEffect,
    Resident,
    ServiceSpec,
    Transaction,
)
from matcher.orders.observer import LifecycleObserver, NoObserver
from matcher.orders.offer_feed import OfferFeed
from matcher.orders.states import ALLOWED_FROM
from matcher.orders.store.base import OrderStore, ReusedKeyError, WriteOutcome
from matcher.orders.timebank import earn_transaction
from matcher.registry.store.base import VolunteerStore

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Sweep:
    """What sweeping does to an order, given the completion grace (ms)."""

    grace_ms: int

    def overdue(self, order: Order, now_ms: int) -> bool:
        """Whether an ACCEPTED order's completion grace after its service end has passed."""
        ended_ms = order.spec.end * 1000
        return order.state is OrderState.ACCEPTED and ended_ms + self.grace_ms <= now_ms

    def due(self, order: Order, now_ms: int) -> bool:
        """Whether sweeping changes the order: an open offer is past its deadline, the
        service time came while the order can still lapse, or it is overdue."""
        if any(o.deadline_ms <= now_ms for o in order.open_offers):
            return True
        lapsing = order.state in ALLOWED_FROM[Event.LAPSE]
        return (lapsing and order.spec.start * 1000 <= now_ms) or self.overdue(order, now_ms)

    def step(self, o: Order, at: int) -> Order:
        """Expire the overdue offers, lapse the order if its service time came, and close it
        if it is overdue."""
        o = lifecycle.expire_offers(o, at)
        if o.state in ALLOWED_FROM[Event.LAPSE] and o.spec.start * 1000 <= at:
            o = lifecycle.lapse(o, at)
        if self.overdue(o, at):
            o = lifecycle.close_uncompleted(o, self.grace_ms, at)
        return o


def order_id_for(idempotency_key: str, owner: str = "") -> str:
    """The order id a submission with this key gets: the same key, the same order. With API
    keys the idempotency key is scoped by the submitting key's id (``owner``), so two apps
    can neither collide nor find each other's orders."""
    scoped = f"{owner}\x00{idempotency_key}" if owner else idempotency_key
    return "ord-" + hashlib.sha256(scoped.encode()).hexdigest()[:24]


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
        *,
        completion_grace_hours: float = 48.0,
        outbox_lease_seconds: float = 30.0,
        crash_at: str = "",
    ) -> None:
        self.orders = orders
        self.registry = registry
        self.clock = clock
        self.offer_ttl_ms = int(offer_ttl_seconds * 1000)
        self.sweep = Sweep(int(completion_grace_hours * 3_600_000))
        self.feed = feed if feed is not None else OfferFeed()
        self.on_urgent: Callable[[], None] | None = None  # set by the dispatcher
        self.observer: LifecycleObserver = observer or NoObserver()
        self.outbox = registry_sync.RegistryOutbox(
            orders, registry, self.now_ms, outbox_lease_seconds, crash_at
        )
        self._commits = Committer(orders, self.now_ms, self._written, self._effects_for)

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
        order_id = order_id_for(idempotency_key, owner)
        now = self.now_ms()
        order = lifecycle.submit(order_id, branch_id, resident, spec, digest, now, owner)
        stored, created = self.orders.create(order)
        if not created and stored.fingerprint != digest:
            raise ReusedKeyError(idempotency_key, f"order {order_id}")
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
        return self._answer(offer_id, lifecycle.accept)

    def decline(self, offer_id: str) -> Order:
        """The volunteer declines: the order goes back to the pending set."""
        return self._answer(offer_id, lifecycle.decline)

    def _answer(self, offer_id: str, answer: Callable[[Order, str, int], Order]) -> Order:
        """Apply the volunteer's ``answer`` to the offer; an answer past the deadline writes
        the offer's expiry and raises ``OfferExpiredError``."""
        order_id = offer_order_id(offer_id)
        try:
            return self.transition(order_id, lambda o, now: answer(o, offer_id, now))
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
        return self._commits.one(
            order_id,
            lambda o, now: lifecycle.complete(o, minutes, actor, volunteer_id, now),
            earn_transaction,
        )

    def rate(self, order_id: str, stars: int, comment: str) -> Order:
        return self.transition(order_id, lambda o, now: lifecycle.rate(o, stars, comment, now))

    def offer_many(
        self, offers: Sequence[tuple[Order, str, tuple[int, int], float]]
    ) -> list[WriteOutcome]:
        """Offer an open slot of each order (a recent read; each order at most once) to a
        volunteer: (order, volunteer id, window, distance_km) each, holding their time
        atomically. Per offer the order, or why it was refused: ``HoldConflictError`` (the
        time is taken: that offer only), another ``ConflictError`` or ``NotFoundError``."""
        deadline = self.now_ms() + self.offer_ttl_ms

        def offer(vid: str, window: tuple[int, int], km: float) -> Step:
            return lambda o, at: lifecycle.offer(o, vid, window, km, deadline, at)

        return self.transition_many([(o, offer(v, w, km)) for o, v, w, km in offers])

    def sweep_many(self, orders: Sequence[Order]) -> list[WriteOutcome]:
        """Expire each order's overdue offers, lapse it if its service time has come, close
        it if it is ACCEPTED past its completion grace; per order (a recent read, each at most
        once) the order after it, or the error."""
        now = self.now_ms()
        due = [(k, o) for k, o in enumerate(orders) if self.sweep.due(o, now)]
        out: list[WriteOutcome] = list(orders)
        swept = self.transition_many([(o, self.sweep.step) for _, o in due])
        for (k, _), outcome in zip(due, swept, strict=True):
            out[k] = outcome
        return out

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
        txn_for: TxnFor | None = None,
        *,
        first: Order | None = None,
    ) -> Order:
        """Apply ``step`` to the current order and commit it (see ``commits``)."""
        return self._commits.one(order_id, step, txn_for, first=first)[0]

    def transition_many(self, items: Sequence[tuple[Order, Step]]) -> list[WriteOutcome]:
        """``transition`` of several orders (each at most once), committed together with
        ``OrderStore.commit_many`` (one round trip on Redis); per item the order after it, or
        the ``ConflictError`` / ``NotFoundError`` ``transition`` would raise."""
        return self._commits.many(items)

    def _effects_for(self, before: Order, after: Order, now_ms: int) -> list[RegistryEffect]:
        """The registry effects a write commits into the outbox, leased to this process."""
        found = registry_sync.effects_of(before, after, after.version + 1)
        return self.outbox.leased(found, now_ms)

    def _written(
        self,
        before: Order,
        after: Order,
        txn: Transaction | None,
        effects: Sequence[RegistryEffect],
    ) -> None:
        """After a write: the registry side effects, the offer streams, the observer."""
        if effects:
            self.outbox.crash_point("after-order-commit")
            self.outbox.apply(effects)
        touched = {o.volunteer_id for o in after.offers if before.offer(o.offer_id) != o}
        if after.state is not before.state:
            touched |= set(after.accepted_volunteers)
        if touched:
            self.feed.touch(touched)
        self.observer.order_written(before, after, txn)
