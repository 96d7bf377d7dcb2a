"""The order state machine as tables: in which states each event may happen, where it
leads, and which retries answer with the unchanged order. ``check`` enforces the first;
``lifecycle`` computes the transitions.

::

    submit ─▶ PENDING ─offer─▶ OFFERED ─accept─▶ ACCEPTED ─complete─▶ COMPLETED ─rate─▶ RATED
                 ▲                  │
                 └─decline/expire───┘
    PENDING, OFFERED ─lapse (service time came)─▶ EXPIRED  (ACCEPTED if some slot accepted)
    PENDING, OFFERED, ACCEPTED ─cancel─▶ CANCELLED
    ACCEPTED ─close (not completed within the grace after its end)─▶ CANCELLED
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from matcher.errors import ConflictError
from matcher.orders.model import Event, Order, OrderState

S = OrderState

#: The states each event may happen in (submission creates the order: no "from" state).
ALLOWED_FROM: Mapping[Event, frozenset[OrderState]] = MappingProxyType(
    {
        Event.SUBMIT: frozenset(),
        Event.OFFER: frozenset({S.PENDING}),
        Event.ACCEPT: frozenset({S.PENDING, S.OFFERED}),
        Event.DECLINE: frozenset({S.PENDING, S.OFFERED}),
        Event.OFFER_EXPIRE: frozenset({S.PENDING, S.OFFERED}),
        Event.CANCEL: frozenset({S.PENDING, S.OFFERED, S.ACCEPTED}),
        Event.COMPLETE: frozenset({S.ACCEPTED}),
        Event.RATE: frozenset({S.COMPLETED}),
        Event.LAPSE: frozenset({S.PENDING, S.OFFERED}),
        Event.CLOSE: frozenset({S.ACCEPTED}),
    }
)
#: The states each event may lead to.
LEADS_TO: Mapping[Event, frozenset[OrderState]] = MappingProxyType(
    {
        Event.SUBMIT: frozenset({S.PENDING}),
        Event.OFFER: frozenset({S.PENDING, S.OFFERED}),
        Event.ACCEPT: frozenset({S.PENDING, S.OFFERED, S.ACCEPTED}),
        Event.DECLINE: frozenset({S.PENDING}),
        Event.OFFER_EXPIRE: frozenset({S.PENDING}),
        Event.CANCEL: frozenset({S.CANCELLED}),
        Event.COMPLETE: frozenset({S.COMPLETED}),
        Event.RATE: frozenset({S.RATED}),
        Event.LAPSE: frozenset({S.EXPIRED, S.ACCEPTED}),
        Event.CLOSE: frozenset({S.CANCELLED}),
    }
)
#: Every (from, to) pair some event allows.
TRANSITIONS: frozenset[tuple[OrderState, OrderState]] = frozenset(
    (a, b) for e, froms in ALLOWED_FROM.items() for a in froms for b in LEADS_TO[e]
)
#: (state, event) pairs answered with the unchanged order when the retry is the same request.
IDEMPOTENT: frozenset[tuple[OrderState, Event]] = frozenset(
    {
        (S.CANCELLED, Event.CANCEL),
        (S.COMPLETED, Event.COMPLETE),
        (S.RATED, Event.COMPLETE),
        (S.RATED, Event.RATE),
    }
)


def check(order: Order, event: Event) -> None:
    """Raise ``ConflictError`` unless ``event`` may happen in the order's current state."""
    if order.state not in ALLOWED_FROM[event]:
        allowed = ", ".join(s.name for s in sorted(ALLOWED_FROM[event])) or "never"
        raise ConflictError(
            f"order {order.order_id} is {order.state.name}: {event.value} is allowed only "
            f"when it is {allowed}"
        )
