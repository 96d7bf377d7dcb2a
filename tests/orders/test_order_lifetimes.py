"""Nothing an order holds lives for ever, on both stores, over a real channel with a manual
clock: an open offer expires at its deadline and an order whose time came lapses (both
release their holds), and an ACCEPTED order nobody completed is closed by the dispatcher's
sweep ``MATCHER_COMPLETION_GRACE_HOURS`` after its service ended: CANCELLED, its history
saying ``closed_uncompleted`` by the dispatcher, its volunteers' holds released, nothing
credited."""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest

from matcher.v1 import orders_pb2, timebank_pb2
from tests.support.orders import ORDER_SETTINGS, OrderSystem, system_on
from tests.support.registry import north_km, rpc_error, upsert
from tests.support.times import HOUR, T0

OR = orders_pb2
GRACE_HOURS = 2
SETTINGS = ORDER_SETTINGS.with_overrides(completion_grace_hours=GRACE_HOURS)


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def system(request: pytest.FixtureRequest) -> Iterator[OrderSystem]:
    with system_on(request.param, SETTINGS) as running:
        yield running


def holds(system: OrderSystem) -> list[str]:
    assert system.app.orders is not None
    return sorted(h.hold_id for h in system.app.orders.store.holds())


def test_an_accepted_order_never_completed_is_closed_after_the_grace(system: OrderSystem) -> None:
    system.register(upsert("vol-a", at=north_km(1)))
    order = system.submit("key-1", start_h=2, end_h=3)
    [offer] = system.round().offers
    system.accept(offer.offer_id)
    cut = list(system.volunteer("vol-a").volunteer.availability)
    system.clock.set(T0 + (3 + GRACE_HOURS) * HOUR - 1)  # one second before the grace ends
    system.round()
    assert system.get(order.order_id).state == OR.ORDER_STATE_ACCEPTED
    assert holds(system) == [offer.offer_id]
    system.clock.advance(2)
    system.round()
    closed = system.get(order.order_id)
    assert closed.state == OR.ORDER_STATE_CANCELLED
    last = closed.history[-1]
    assert (last.event, last.actor) == ("closed_uncompleted", OR.ACTOR_DISPATCHER)
    assert (last.from_state, last.to_state) == (OR.ORDER_STATE_ACCEPTED, OR.ORDER_STATE_CANCELLED)
    assert holds(system) == []
    assert list(system.volunteer("vol-a").volunteer.availability) == cut  # past: not given back
    balance = system.bank.GetBalance(timebank_pb2.GetBalanceRequest(volunteer_id="vol-a"))
    assert (balance.balance_minutes, balance.earned_minutes) == (0, 0)
    late = rpc_error(lambda: system.complete(order.order_id, 1.0))
    assert late.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "CANCELLED" in (late.details() or "")
    system.round()  # closing is done once
    assert len(system.get(order.order_id).history) == len(closed.history)


def test_open_offers_expire_and_unserved_orders_lapse_releasing_their_holds(
    system: OrderSystem,
) -> None:
    system.register(upsert("vol-a", at=north_km(1)))
    order = system.submit("key-1", start_h=2, end_h=3)
    [offer] = system.round().offers
    assert holds(system) == [offer.offer_id]
    system.clock.advance(ORDER_SETTINGS.offer_ttl_seconds + 1)
    report = system.round()
    assert report.offers_expired == 1
    assert system.get(order.order_id).offers[0].state == OR.OFFER_STATE_EXPIRED
    assert holds(system) == []
    system.clock.set(T0 + 2 * HOUR)
    assert system.round().orders_lapsed == 1
    assert system.get(order.order_id).state == OR.ORDER_STATE_EXPIRED
    assert holds(system) == []
