"""What each role sees of an order's offers, over a real channel with API keys, on both
stores: a resident app sees who is coming and when (volunteer, state, times), never the
volunteer's distance from home or the availability window the order was matched into;
the centre's staff (dispatcher) and admin see both, and so does the volunteer's own app."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from matcher.access.keys import hash_token, new_token
from matcher.v1 import orders_pb2, volunteers_pb2
from tests.support.orders import ORDER_SETTINGS, OrderSystem, running_system, submit_request
from tests.support.redis_db import on_store
from tests.support.registry import north_km, upsert

OR = orders_pb2
ROLES = {
    "ops": ("admin", ""),
    "console": ("dispatcher", ""),
    "registrar": ("registry", ""),
    "res": ("resident_app", ""),
    "app": ("volunteer_app", "vol-a"),
}
TOKENS = {key_id: new_token() for key_id in ROLES}
KEYS = ",".join(
    f"{key_id}:{role}:{hash_token(TOKENS[key_id])}" + (f":{vid}" if vid else "")
    for key_id, (role, vid) in ROLES.items()
)


def auth(key_id: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {TOKENS[key_id]}"),)


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def system(request: pytest.FixtureRequest) -> Iterator[OrderSystem]:
    keyed = ORDER_SETTINGS.with_overrides(api_keys=KEYS)
    with on_store(request.param, keyed) as settings, running_system(settings) as running:
        yield running


def offered(system: OrderSystem) -> tuple[str, str]:
    """An order of the resident app, offered to vol-a 1 km away; its id and the offer's."""
    entries = [upsert("vol-a", at=north_km(1))]
    system.volunteers.UpsertVolunteers(
        volunteers_pb2.UpsertVolunteersRequest(volunteers=entries), metadata=auth("registrar")
    )
    order = system.orders.SubmitOrder(submit_request("k-1"), metadata=auth("res")).order
    reply = system.dispatch.RunDispatchRound(OR.RunDispatchRoundRequest(), metadata=auth("ops"))
    [offer] = reply.offers
    return order.order_id, offer.offer_id


def shows_volunteer_details(offer: orders_pb2.Offer) -> bool:
    return offer.distance_km > 0 and offer.HasField("volunteer_window")


def test_a_resident_sees_who_is_coming_and_when_but_not_where_they_live(
    system: OrderSystem,
) -> None:
    order_id, offer_id = offered(system)
    res = auth("res")
    get = OR.GetOrderRequest(order_id=order_id)
    accepted = system.offers.AcceptOffer(
        OR.AcceptOfferRequest(offer_id=offer_id), metadata=auth("app")
    )
    assert shows_volunteer_details(accepted.offer)  # the volunteer's own app sees its offer
    seen_by_resident = [
        system.orders.GetOrder(get, metadata=res).order,
        system.orders.SubmitOrder(submit_request("k-1"), metadata=res).order,  # a retry
        *system.orders.ListOrders(OR.ListOrdersRequest(), metadata=res).orders,
    ]
    for order in seen_by_resident:
        [offer] = order.offers
        assert (offer.volunteer_id, offer.state) == ("vol-a", OR.OFFER_STATE_ACCEPTED)
        assert order.request.window.start.seconds > 0  # when: the service's own window
        assert offer.HasField("create_time") and offer.HasField("decide_time")
        assert offer.distance_km == 0.0
        assert not offer.HasField("volunteer_window")
        assert order.accepted_volunteer_ids == ["vol-a"]
    for staff in ("console", "ops"):
        [offer] = system.orders.GetOrder(get, metadata=auth(staff)).order.offers
        assert shows_volunteer_details(offer), staff
    cancelled = system.orders.CancelOrder(OR.CancelOrderRequest(order_id=order_id), metadata=res)
    assert not shows_volunteer_details(cancelled.order.offers[0])
    assert not cancelled.order.offers[0].HasField("volunteer_window")
