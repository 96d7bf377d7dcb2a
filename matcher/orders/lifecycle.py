"""The order state machine: pure functions from an order and an event to the next order.

No I/O and no clock: every function takes ``now_ms``. A function either returns the new
order (with the event appended to its history) or raises ``ConflictError`` naming the
order's current state (FAILED_PRECONDITION over gRPC). The order-level rules are the tables
of ``states`` (``ALLOWED_FROM``, checked by ``states.check``); offer-level rules (the offer
must be OPEN and within its deadline) are checked on top.

An order needing several volunteers has one offer per slot: it is PENDING while some slot has
neither an open nor an accepted offer, OFFERED while every unfilled slot is offered, and
ACCEPTED once every slot is accepted. Retries are harmless: cancelling a cancelled order,
completing a completed one with the same hours and rating a rated one with the same rating
return the order unchanged (``states.IDEMPOTENT``), so the caller writes and credits nothing.
"""

from __future__ import annotations

import dataclasses

from matcher.errors import ConflictError, NotFoundError
from matcher.orders.model import (
    Actor,
    Event,
    HistoryEvent,
    Hold,
    HoldChanges,
    Offer,
    OfferState,
    Order,
    OrderState,
    Resident,
    ServiceSpec,
)
from matcher.orders.states import check

S = OrderState


class OfferExpiredError(ConflictError):
    """An answer came after the offer's deadline (the caller records the expiry first)."""


def submit(
    order_id: str,
    branch_id: str,
    resident: Resident,
    spec: ServiceSpec,
    fingerprint: str,
    now_ms: int,
    owner: str = "",
) -> Order:
    """A new PENDING order (``owner``: the id of the API key that submits it)."""
    first = HistoryEvent(now_ms, Event.SUBMIT, None, S.PENDING, Actor.RESIDENT)
    return Order(
        order_id=order_id,
        branch_id=branch_id,
        resident=resident,
        spec=spec,
        fingerprint=fingerprint,
        state=S.PENDING,
        history=(first,),
        created_ms=now_ms,
        updated_ms=now_ms,
        owner=owner,
    )


def offer(
    order: Order,
    volunteer_id: str,
    window: tuple[int, int],
    distance_km: float,
    deadline_ms: int,
    now_ms: int,
) -> Order:
    """Offer an open slot to ``volunteer_id`` (never to someone offered this order before)."""
    check(order, Event.OFFER)
    if order.open_slots == 0:
        raise ConflictError(f"order {order.order_id} has no open slot")
    if volunteer_id in order.offered_volunteers:
        raise ConflictError(f"order {order.order_id} was already offered to {volunteer_id}")
    made = Offer(
        offer_id=f"{order.order_id}.{len(order.offers) + 1}",
        volunteer_id=volunteer_id,
        state=OfferState.OPEN,
        created_ms=now_ms,
        deadline_ms=deadline_ms,
        window_start=window[0],
        window_end=window[1],
        distance_km=distance_km,
    )
    changed = dataclasses.replace(order, offers=(*order.offers, made))
    return _record(order, changed, Event.OFFER, Actor.DISPATCHER, made, now_ms)


def accept(order: Order, offer_id: str, now_ms: int) -> Order:
    """The volunteer accepts an open offer before its deadline."""
    made = _open_offer(order, offer_id, Event.ACCEPT, now_ms)
    return _decide(order, made, OfferState.ACCEPTED, Event.ACCEPT, Actor.VOLUNTEER, now_ms)


def decline(order: Order, offer_id: str, now_ms: int) -> Order:
    """The volunteer declines an open offer: the slot goes back to the pending set."""
    made = _open_offer(order, offer_id, Event.DECLINE, now_ms)
    return _decide(order, made, OfferState.DECLINED, Event.DECLINE, Actor.VOLUNTEER, now_ms)


def expire_offers(order: Order, now_ms: int) -> Order:
    """Every open offer whose deadline has passed expires (unchanged if there is none)."""
    for made in order.open_offers:
        if made.deadline_ms <= now_ms:
            order = _decide(
                order, made, OfferState.EXPIRED, Event.OFFER_EXPIRE, Actor.DISPATCHER, now_ms
            )
    return order


def lapse(order: Order, now_ms: int) -> Order:
    """The service time came before every slot was accepted: open offers are withdrawn and
    the order is EXPIRED, or ACCEPTED with the volunteers who did accept."""
    check(order, Event.LAPSE)
    if order.spec.start * 1000 > now_ms:
        raise ConflictError(f"order {order.order_id} has not started yet")
    offers = _withdraw_open(order, now_ms)
    accepted = any(o.state is OfferState.ACCEPTED for o in offers)
    state = S.ACCEPTED if accepted else S.EXPIRED
    changed = dataclasses.replace(order, offers=offers, state=state)
    return _append(changed, order.state, Event.LAPSE, Actor.DISPATCHER, now_ms)


def cancel(order: Order, actor: Actor, now_ms: int, detail: str = "") -> Order:
    """Cancel an order that is not done yet; open offers are withdrawn."""
    if order.state is S.CANCELLED:
        return order
    check(order, Event.CANCEL)
    changed = dataclasses.replace(order, offers=_withdraw_open(order, now_ms), state=S.CANCELLED)
    return _append(changed, order.state, Event.CANCEL, actor, now_ms, detail=detail)


def close_uncompleted(order: Order, grace_ms: int, now_ms: int) -> Order:
    """Close an ACCEPTED order nobody completed within ``grace_ms`` after its service ended:
    it is CANCELLED by the dispatcher (event ``closed_uncompleted``), which releases its
    volunteers' holds; nothing is credited, and the past time is not given back."""
    check(order, Event.CLOSE)
    if order.spec.end * 1000 + grace_ms > now_ms:
        raise ConflictError(f"order {order.order_id} is within its completion grace")
    changed = dataclasses.replace(order, state=S.CANCELLED)
    return _append(changed, order.state, Event.CLOSE, Actor.DISPATCHER, now_ms)


def complete(order: Order, minutes: int, actor: Actor, volunteer_id: str, now_ms: int) -> Order:
    """Mark the service done with ``minutes`` served by each accepted volunteer.

    A volunteer may complete only an order they accepted. Completing again with the same
    minutes returns the order unchanged; with other minutes it is a conflict.
    """
    if order.state in (S.COMPLETED, S.RATED):
        if minutes == order.minutes_served:
            return order
        raise ConflictError(
            f"order {order.order_id} is {order.state.name}: it was completed with "
            f"{order.minutes_served / 60:g} hours"
        )
    check(order, Event.COMPLETE)
    if actor is Actor.VOLUNTEER and volunteer_id not in order.accepted_volunteers:
        raise ConflictError(f"volunteer {volunteer_id} did not accept order {order.order_id}")
    changed = dataclasses.replace(order, state=S.COMPLETED, minutes_served=minutes)
    return _append(changed, order.state, Event.COMPLETE, actor, now_ms, volunteer_id=volunteer_id)


def rate(order: Order, stars: int, comment: str, now_ms: int) -> Order:
    """The resident rates a completed order (once; the same rating again is a no-op)."""
    if order.state is S.RATED and (stars, comment) == (order.stars, order.comment):
        return order
    check(order, Event.RATE)
    changed = dataclasses.replace(order, state=S.RATED, stars=stars, comment=comment)
    return _append(changed, order.state, Event.RATE, Actor.RESIDENT, now_ms, detail=f"{stars}")


def hold_changes(before: Order | None, after: Order) -> HoldChanges:
    """The volunteer holds a write from ``before`` to ``after`` adds and releases.

    A new open offer holds the service window until its deadline; an accepted one holds it
    until released; a declined, expired or withdrawn offer releases it, and so does the end
    of an accepted order (completed or cancelled).
    """
    add: list[Hold] = []
    release: list[tuple[str, str]] = []
    ends = after.state in (S.COMPLETED, S.RATED, S.CANCELLED)
    for made in after.offers:
        old = before.offer(made.offer_id) if before is not None else None
        was = old.state if old is not None else None
        key = (made.volunteer_id, made.offer_id)
        if made.state is OfferState.ACCEPTED and ends:
            if before is None or before.state not in (S.COMPLETED, S.RATED, S.CANCELLED):
                release.append(key)
        elif made.state is OfferState.OPEN and was is None:
            add.append(_hold(after, made, made.deadline_ms))
        elif made.state is OfferState.ACCEPTED and was is OfferState.OPEN:
            add.append(_hold(after, made, 0))
        elif made.state not in (OfferState.OPEN, OfferState.ACCEPTED) and was is OfferState.OPEN:
            release.append(key)
    return HoldChanges(tuple(add), tuple(release))


def _hold(order: Order, made: Offer, deadline_ms: int) -> Hold:
    return Hold(made.volunteer_id, made.offer_id, order.spec.start, order.spec.end, deadline_ms)


def _open_offer(order: Order, offer_id: str, event: Event, now_ms: int) -> Offer:
    made = order.offer(offer_id)
    if made is None:
        raise NotFoundError(f"offer {offer_id} does not exist")
    if made.state is not OfferState.OPEN:
        raise ConflictError(
            f"offer {offer_id} is {made.state.name}, not OPEN "
            f"(order {order.order_id} is {order.state.name})"
        )
    if made.deadline_ms <= now_ms:
        raise OfferExpiredError(f"offer {offer_id} is EXPIRED: its deadline has passed")
    check(order, event)
    return made


def _decide(
    order: Order, made: Offer, to: OfferState, event: Event, actor: Actor, now_ms: int
) -> Order:
    decided = dataclasses.replace(made, state=to, decided_ms=now_ms)
    offers = tuple(decided if o.offer_id == made.offer_id else o for o in order.offers)
    return _record(order, dataclasses.replace(order, offers=offers), event, actor, decided, now_ms)


def _record(
    before: Order, changed: Order, event: Event, actor: Actor, made: Offer, now_ms: int
) -> Order:
    """Derive the state from the slots and append the event."""
    changed = dataclasses.replace(changed, state=_slot_state(changed))
    return _append(
        changed,
        before.state,
        event,
        actor,
        now_ms,
        volunteer_id=made.volunteer_id,
        offer_id=made.offer_id,
    )


def _slot_state(order: Order) -> OrderState:
    if len(order.accepted_volunteers) >= order.spec.volunteers_needed:
        return S.ACCEPTED
    return S.PENDING if order.open_slots > 0 else S.OFFERED


def _withdraw_open(order: Order, now_ms: int) -> tuple[Offer, ...]:
    return tuple(
        dataclasses.replace(o, state=OfferState.WITHDRAWN, decided_ms=now_ms)
        if o.state is OfferState.OPEN
        else o
        for o in order.offers
    )


def _append(
    order: Order,
    from_state: OrderState,
    event: Event,
    actor: Actor,
    now_ms: int,
    *,
    volunteer_id: str = "",
    offer_id: str = "",
    detail: str = "",
) -> Order:
    entry = HistoryEvent(
        now_ms, event, from_state, order.state, actor, volunteer_id, offer_id, detail
    )
    return dataclasses.replace(order, history=(*order.history, entry), updated_ms=now_ms)
