"""The order state machine (``matcher.orders.lifecycle``): every (state, event) pair is either
allowed and lands in a state the table names, an idempotent retry, or refused with a
``ConflictError`` that names the current state."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from matcher.errors import ConflictError, NotFoundError
from matcher.orders import lifecycle
from matcher.orders.model import Actor, Event, Hold, OfferState, Order, OrderState
from matcher.orders.states import ALLOWED_FROM, IDEMPOTENT, LEADS_TO, TRANSITIONS
from tests.support.orders import new_order, spec
from tests.support.times import HOUR, T0

S = OrderState
NOW = T0 * 1000
DEADLINE = NOW + 600_000
START_MS = (T0 + 2 * HOUR) * 1000
WINDOW = (T0, T0 + 8 * HOUR)
CLOSE_MS = (T0 + 4 * HOUR) * 1000  # the service (2 h to 3 h) ended an hour ago


def offered(order: Order, vid: str = "v1") -> Order:
    return lifecycle.offer(order, vid, WINDOW, 1.5, DEADLINE, NOW)


def order_in(state: OrderState) -> Order:
    """An order in ``state``; PENDING and OFFERED ones carry an open offer ``ord-1.1``."""
    if state is S.PENDING:
        return offered(new_order(service=spec(needed=2)))  # one slot offered, one open
    order = offered(new_order())
    if state is S.EXPIRED:
        return lifecycle.lapse(order, START_MS)  # the open offer is withdrawn
    if state is S.CANCELLED:
        return lifecycle.cancel(order, Actor.RESIDENT, NOW)
    if state is S.OFFERED:
        return order
    order = lifecycle.accept(order, "ord-1.1", NOW + 1)
    if state is S.ACCEPTED:
        return order
    order = lifecycle.complete(order, 60, Actor.CENTRE, "", NOW + 2)
    if state is S.COMPLETED:
        return order
    return lifecycle.rate(order, 5, "thank you", NOW + 3)


APPLY: dict[Event, Callable[[Order], Order]] = {
    Event.OFFER: lambda o: offered(o, "v2"),
    Event.ACCEPT: lambda o: lifecycle.accept(o, "ord-1.1", NOW + 10),
    Event.DECLINE: lambda o: lifecycle.decline(o, "ord-1.1", NOW + 10),
    Event.OFFER_EXPIRE: lambda o: lifecycle.expire_offers(o, DEADLINE),
    Event.CANCEL: lambda o: lifecycle.cancel(o, Actor.CENTRE, NOW + 10),
    Event.COMPLETE: lambda o: lifecycle.complete(o, 60, Actor.CENTRE, "", NOW + 10),
    Event.RATE: lambda o: lifecycle.rate(o, 5, "thank you", NOW + 10),
    Event.LAPSE: lambda o: lifecycle.lapse(o, START_MS),
    Event.CLOSE: lambda o: lifecycle.close_uncompleted(o, HOUR * 1000, CLOSE_MS),
}
PAIRS = [(s, e) for s in OrderState for e in Event if e is not Event.SUBMIT]


def test_every_state_can_be_reached() -> None:
    assert {order_in(s).state for s in OrderState} == set(OrderState)


def test_the_transition_table() -> None:
    assert {
        (S.PENDING, S.PENDING),
        (S.PENDING, S.OFFERED),
        (S.PENDING, S.ACCEPTED),
        (S.PENDING, S.CANCELLED),
        (S.PENDING, S.EXPIRED),
        (S.OFFERED, S.PENDING),
        (S.OFFERED, S.OFFERED),
        (S.OFFERED, S.ACCEPTED),
        (S.OFFERED, S.CANCELLED),
        (S.OFFERED, S.EXPIRED),
        (S.ACCEPTED, S.COMPLETED),
        (S.ACCEPTED, S.CANCELLED),
        (S.COMPLETED, S.RATED),
    } == TRANSITIONS


@pytest.mark.parametrize(("state", "event"), PAIRS, ids=lambda x: getattr(x, "name", x))
def test_every_state_event_pair(state: OrderState, event: Event) -> None:
    before = order_in(state)
    if state in ALLOWED_FROM[event]:
        after = APPLY[event](before)
        assert after.state in LEADS_TO[event]
        assert (state, after.state) in TRANSITIONS
        assert after.history[-1].event is event and after.history[-1].from_state is state
    elif (state, event) in IDEMPOTENT:
        assert APPLY[event](before) == before
    elif event is Event.OFFER_EXPIRE:
        assert not before.open_offers and APPLY[event](before) == before  # nothing to expire
    else:
        with pytest.raises(ConflictError) as caught:
            APPLY[event](before)
        assert f"order ord-1 is {state.name}" in str(caught.value)


def test_an_accepted_order_is_closed_only_after_its_grace() -> None:
    order = order_in(S.ACCEPTED)
    with pytest.raises(ConflictError, match="within its completion grace"):
        lifecycle.close_uncompleted(order, HOUR * 1000 + 1, CLOSE_MS)
    closed = lifecycle.close_uncompleted(order, HOUR * 1000, CLOSE_MS)
    assert (closed.state, closed.history[-1].actor) == (S.CANCELLED, Actor.DISPATCHER)
    assert lifecycle.hold_changes(order, closed).release == (("v1", "ord-1.1"),)


def test_rate_before_completion_names_the_state() -> None:
    with pytest.raises(ConflictError, match="order ord-1 is ACCEPTED: rated is allowed only"):
        lifecycle.rate(order_in(S.ACCEPTED), 4, "", NOW)


def test_accept_twice_and_accept_after_the_deadline_are_refused() -> None:
    order = order_in(S.OFFERED)
    accepted = lifecycle.accept(order, "ord-1.1", NOW)
    with pytest.raises(ConflictError, match=r"offer ord-1\.1 is ACCEPTED, not OPEN"):
        lifecycle.accept(accepted, "ord-1.1", NOW)
    with pytest.raises(lifecycle.OfferExpiredError, match="is EXPIRED"):
        lifecycle.accept(order, "ord-1.1", DEADLINE)
    expired = lifecycle.expire_offers(order, DEADLINE)
    with pytest.raises(ConflictError, match=r"offer ord-1\.1 is EXPIRED, not OPEN"):
        lifecycle.accept(expired, "ord-1.1", NOW)
    with pytest.raises(NotFoundError):
        lifecycle.accept(order, "ord-1.9", NOW)


def test_a_declined_or_expired_order_is_pending_and_never_offered_to_them_again() -> None:
    for after in (
        lifecycle.decline(order_in(S.OFFERED), "ord-1.1", NOW),
        lifecycle.expire_offers(order_in(S.OFFERED), DEADLINE),
    ):
        assert after.state is S.PENDING and after.open_slots == 1
        assert after.offered_volunteers == {"v1"}
        with pytest.raises(ConflictError, match="already offered to v1"):
            offered(after, "v1")
        assert offered(after, "v2").state is S.OFFERED


def test_a_multi_volunteer_order_fills_slot_by_slot() -> None:
    order = new_order(service=spec(needed=2))
    order = offered(order, "v1")
    assert (order.state, order.open_slots) == (S.PENDING, 1)
    order = offered(order, "v2")
    assert (order.state, order.open_slots) == (S.OFFERED, 0)
    with pytest.raises(ConflictError, match="is OFFERED"):
        offered(order, "v3")
    order = lifecycle.accept(order, "ord-1.1", NOW)
    assert order.state is S.OFFERED
    order = lifecycle.decline(order, "ord-1.2", NOW)
    assert order.state is S.PENDING and order.accepted_volunteers == ("v1",)
    order = lifecycle.accept(offered(order, "v3"), "ord-1.3", NOW)
    assert order.state is S.ACCEPTED and order.accepted_volunteers == ("v1", "v3")


def test_lapse_keeps_the_volunteers_who_accepted() -> None:
    order = offered(offered(new_order(service=spec(needed=2)), "v1"), "v2")
    order = lifecycle.accept(order, "ord-1.1", NOW)
    with pytest.raises(ConflictError, match="has not started"):
        lifecycle.lapse(order, START_MS - 1)
    lapsed = lifecycle.lapse(order, START_MS)
    assert lapsed.state is S.ACCEPTED
    assert [o.state for o in lapsed.offers] == [OfferState.ACCEPTED, OfferState.WITHDRAWN]


def test_only_an_accepting_volunteer_may_complete() -> None:
    order = order_in(S.ACCEPTED)
    with pytest.raises(ConflictError, match="volunteer v9 did not accept"):
        lifecycle.complete(order, 60, Actor.VOLUNTEER, "v9", NOW)
    done = lifecycle.complete(order, 60, Actor.VOLUNTEER, "v1", NOW)
    assert done.minutes_served == 60 and done.history[-1].volunteer_id == "v1"
    with pytest.raises(ConflictError, match="is COMPLETED: it was completed with 1 hours"):
        lifecycle.complete(done, 30, Actor.CENTRE, "", NOW)


def test_holds_follow_the_offers() -> None:
    start, end = T0 + 2 * HOUR, T0 + 3 * HOUR
    made = order_in(S.OFFERED)
    changes = lifecycle.hold_changes(new_order(), made)
    assert changes.add == (Hold("v1", "ord-1.1", start, end, DEADLINE),) and not changes.release
    accepted = lifecycle.accept(made, "ord-1.1", NOW)
    assert lifecycle.hold_changes(made, accepted).add == (Hold("v1", "ord-1.1", start, end, 0),)
    release = (("v1", "ord-1.1"),)
    assert lifecycle.hold_changes(made, lifecycle.decline(made, "ord-1.1", NOW)).release == release
    cancelled = lifecycle.cancel(accepted, Actor.CENTRE, NOW)
    assert lifecycle.hold_changes(accepted, cancelled).release == release
    done = lifecycle.complete(accepted, 60, Actor.CENTRE, "", NOW)
    assert lifecycle.hold_changes(accepted, done).release == release
    rated = lifecycle.rate(done, 3, "", NOW)
    assert lifecycle.hold_changes(done, rated) == lifecycle.HoldChanges()


def test_history_records_every_step_without_personal_data() -> None:
    order = order_in(S.RATED)
    assert [e.event for e in order.history] == [
        Event.SUBMIT,
        Event.OFFER,
        Event.ACCEPT,
        Event.COMPLETE,
        Event.RATE,
    ]
    assert "thank you" not in repr(order) and "138" not in repr(order)
