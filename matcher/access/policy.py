"""Object-level access: whose order, whose offer, and what of an order each role sees.

The role table (``roles``) says which rpcs a role may call; these checks, called by the
servicers, say which objects. ``resident_app`` keys own the orders they submit (the key id
is kept on the order) and touch no other order; ``volunteer_app`` keys act for one volunteer
and touch only that volunteer's offers, balance and statement, and orders it accepted.
Other roles, and the open (development) mode, are not restricted here. Someone else's
object is ``PermissionDeniedError`` (PERMISSION_DENIED).

Privacy: a volunteer sees an order only through its own offers (the meeting point is the
order's place, and its distance) and, once it accepted, the order with the resident's
contact; ``visible_order`` strips other volunteers' offers and events from it. A resident
app sees who is coming and when (each offer's volunteer, state and times, and the service's
own window), never where a volunteer lives: ``offer_view`` leaves out the volunteer's
distance from home and the availability window the order was matched into, and the
converter (``service/convert/orders_out.py``) writes what it allows. The centre's staff
(dispatcher) and admin see everything.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

from matcher.access.principal import Principal
from matcher.access.roles import Role
from matcher.errors import PermissionDeniedError
from matcher.orders.desk import offer_order_id
from matcher.orders.model import Actor, Order

Load = Callable[[], Order]


@dataclass(frozen=True)
class OfferView:
    """Which of an offer's fields about the volunteer a caller sees."""

    volunteer_details: bool  # distance from the volunteer's home, its availability window


def offer_view(principal: Principal) -> OfferView:
    """What ``principal`` sees of offers: a resident app not where the volunteer lives."""
    return OfferView(volunteer_details=principal.role is not Role.RESIDENT_APP)


def owner_filter(principal: Principal) -> str | None:
    """The owner ListOrders must keep to (a resident app's own key), or None for all."""
    return principal.key_id if principal.role is Role.RESIDENT_APP else None


def check_order(principal: Principal, order: Order) -> None:
    """A resident app may touch only the orders its key submitted."""
    if principal.role is Role.RESIDENT_APP and order.owner != principal.key_id:
        raise PermissionDeniedError(
            f"order {order.order_id} was not submitted with API key {principal.key_id}"
        )


def check_order_id(principal: Principal, load: Load) -> None:
    """``check_order`` on the order ``load`` reads (read only when the role needs it)."""
    if principal.role is Role.RESIDENT_APP:
        check_order(principal, load())


def check_volunteer(principal: Principal, volunteer_id: str) -> None:
    """A volunteer app may ask only about its own volunteer."""
    if principal.role is Role.VOLUNTEER_APP and volunteer_id != principal.volunteer_id:
        raise PermissionDeniedError(
            f"API key {principal.key_id} acts for volunteer {principal.volunteer_id}, "
            f"not {volunteer_id or '(none)'}"
        )


def check_offer(principal: Principal, offer_id: str, load_order: Callable[[str], Order]) -> None:
    """A volunteer app may answer only offers made to its volunteer (an unknown offer stays
    NOT_FOUND, raised by the read)."""
    if principal.role is not Role.VOLUNTEER_APP:
        return
    made = load_order(offer_order_id(offer_id)).offer(offer_id)
    if made is not None:
        check_volunteer(principal, made.volunteer_id)


def cancel_actor(principal: Principal, actor: Actor) -> Actor:
    """Who a cancellation is recorded as: a resident app cancels as the resident (the centre,
    the default, becomes the resident); it cannot cancel as a volunteer or the engine."""
    if principal.role is not Role.RESIDENT_APP:
        return actor
    if actor not in (Actor.RESIDENT, Actor.CENTRE):
        raise PermissionDeniedError(f"API key {principal.key_id} cancels as the resident only")
    return Actor.RESIDENT


def check_completion(principal: Principal, actor: Actor, volunteer_id: str, load: Load) -> None:
    """A volunteer app completes as its own volunteer, and only an order that volunteer
    accepted."""
    if principal.role is not Role.VOLUNTEER_APP:
        return
    if actor is not Actor.VOLUNTEER:
        raise PermissionDeniedError(f"API key {principal.key_id} completes as ACTOR_VOLUNTEER only")
    check_volunteer(principal, volunteer_id)
    order = load()
    if principal.volunteer_id not in order.accepted_volunteers:
        raise PermissionDeniedError(
            f"volunteer {principal.volunteer_id} did not accept order {order.order_id}"
        )


def visible_order(principal: Principal, order: Order) -> Order:
    """The order as ``principal`` may see it: a volunteer app sees only its own offers and
    the events concerning them (never other volunteers' distances or windows)."""
    if principal.role is not Role.VOLUNTEER_APP:
        return order
    own = principal.volunteer_id
    return dataclasses.replace(
        order,
        offers=tuple(o for o in order.offers if o.volunteer_id == own),
        history=tuple(e for e in order.history if e.volunteer_id in ("", own)),
    )
