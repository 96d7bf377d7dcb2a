"""OrderService, DispatchService and OfferService over a real channel, on the in-memory store
and on Redis: the lifecycle end to end, idempotency, re-dispatch after a decline or an expired
offer, urgent orders, cancellation and the registry effects (availability, reputation)."""

from __future__ import annotations

import grpc
import pytest

from matcher.v1 import match_pb2, orders_pb2, timebank_pb2, volunteers_pb2
from tests.support.net import wait_until
from tests.support.orders import (
    ORDER_SETTINGS,
    OrderSystem,
    running_system,
    submit_request,
    system,
)
from tests.support.registry import north_km, rpc_error, upsert, violations
from tests.support.times import HOUR, T0

__all__ = ["system"]  # the fixture

OR = orders_pb2
T = timebank_pb2
PENDING, OFFERED, ACCEPTED = OR.ORDER_STATE_PENDING, OR.ORDER_STATE_OFFERED, OR.ORDER_STATE_ACCEPTED


def near(system: OrderSystem, *ids: str, km: float = 1.0) -> None:
    """Register volunteers ``ids`` 1, 2, 3... x ``km`` north of Qabqa, free T0..T0+8h."""
    system.register(
        *(upsert(v, at=north_km(km * (i + 1)), branch="grid-1") for i, v in enumerate(ids))
    )


def offered_to(system: OrderSystem, order_id: str) -> list[tuple[str, int]]:
    return [(o.volunteer_id, o.state) for o in system.get(order_id).offers]


def test_submit_is_idempotent_per_key(system: OrderSystem) -> None:
    first = system.orders.SubmitOrder(submit_request("key-1"), timeout=10)
    again = system.orders.SubmitOrder(submit_request("key-1"), timeout=10)
    assert first.created and not again.created
    assert first.order.order_id == again.order.order_id and again.order.state == PENDING
    listed = system.orders.ListOrders(OR.ListOrdersRequest(), timeout=10)
    assert [o.order_id for o in listed.orders] == [first.order.order_id]
    err = rpc_error(lambda: system.orders.SubmitOrder(submit_request("key-1", end_h=4), timeout=10))
    assert err.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "idempotency key" in (err.details() or "")


def test_the_whole_loop(system: OrderSystem) -> None:
    near(system, "vol-a", "vol-b")
    order = system.submit("key-1")
    assert order.request.id == order.order_id and order.resident.contact == "138-0000-0000"
    report = system.round()
    assert (report.orders_considered, report.orders_unserved) == (1, 0)
    [offer] = report.offers
    assert (offer.volunteer_id, offer.state) == ("vol-a", OR.OFFER_STATE_OPEN)
    assert offer.deadline.seconds == T0 + 600
    listed = system.offers.ListOffers(OR.ListOffersRequest(volunteer_id="vol-a"), timeout=10)
    assert [o.offer_id for o in listed.offers] == [offer.offer_id]
    accepted = system.accept(offer.offer_id)
    assert accepted.offer.state == OR.OFFER_STATE_ACCEPTED and accepted.order.state == ACCEPTED
    assert accepted.order.resident.contact == "138-0000-0000"
    windows = [
        (w.start.seconds, w.end.seconds) for w in system.volunteer("vol-a").volunteer.availability
    ]
    assert windows == [(T0, T0 + 2 * HOUR), (T0 + 3 * HOUR, T0 + 8 * HOUR)]
    done = system.complete(order.order_id, 1.5, actor=OR.ACTOR_VOLUNTEER, volunteer_id="vol-a")
    assert done.credited and done.order.state == OR.ORDER_STATE_COMPLETED
    assert done.order.hours_served == 1.5
    retry = system.complete(order.order_id, 1.5, actor=OR.ACTOR_VOLUNTEER, volunteer_id="vol-a")
    assert not retry.credited and retry.order == done.order
    rated = system.rate(order.order_id, 5, "very kind")
    assert (rated.state, rated.rating, rated.rating_comment) == (
        OR.ORDER_STATE_RATED,
        5,
        "very kind",
    )
    profile = system.volunteer("vol-a").volunteer
    assert (profile.rating, profile.rating_count, profile.recent_hours) == (5.0, 1, 1.5)
    assert [e.event for e in rated.history] == [
        "submitted",
        "offered",
        "accepted",
        "completed",
        "rated",
    ]
    balance = system.bank.GetBalance(T.GetBalanceRequest(volunteer_id="vol-a"), timeout=10)
    assert balance.balance_minutes == 90


def test_a_declined_order_goes_to_someone_else_never_back(system: OrderSystem) -> None:
    near(system, "vol-a", "vol-b")
    order = system.submit("key-1")
    [offer] = system.round().offers
    declined = system.decline(offer.offer_id)
    assert declined.offer.state == OR.OFFER_STATE_DECLINED
    assert system.get(order.order_id).state == PENDING
    [second] = system.round().offers
    assert second.volunteer_id == "vol-b"
    system.decline(second.offer_id)
    report = system.round()
    assert (len(report.offers), report.orders_unserved) == (0, 1)
    assert offered_to(system, order.order_id) == [
        ("vol-a", OR.OFFER_STATE_DECLINED),
        ("vol-b", OR.OFFER_STATE_DECLINED),
    ]


def test_an_expired_offer_is_re_dispatched_and_cannot_be_accepted(system: OrderSystem) -> None:
    near(system, "vol-a", "vol-b")
    order = system.submit("key-1")
    [offer] = system.round().offers
    system.clock.advance(600)  # the deadline
    err = rpc_error(lambda: system.accept(offer.offer_id))
    assert err.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "EXPIRED" in (err.details() or "")
    assert system.get(order.order_id).state == PENDING
    report = system.round()
    assert [o.volunteer_id for o in report.offers] == ["vol-b"]
    assert offered_to(system, order.order_id)[0] == ("vol-a", OR.OFFER_STATE_EXPIRED)


def test_expiry_found_by_the_round_itself(system: OrderSystem) -> None:
    near(system, "vol-a", "vol-b")
    system.submit("key-1")
    system.round()
    system.clock.advance(601)
    report = system.round()
    assert report.offers_expired == 1 and [o.volunteer_id for o in report.offers] == ["vol-b"]


def test_wrong_transitions_name_the_state(system: OrderSystem) -> None:
    near(system, "vol-a")
    order = system.submit("key-1")
    err = rpc_error(lambda: system.rate(order.order_id, 4))
    assert err.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert f"order {order.order_id} is PENDING" in (err.details() or "")
    err = rpc_error(lambda: system.complete(order.order_id, 1.0))
    assert err.code() == grpc.StatusCode.FAILED_PRECONDITION and "is PENDING" in (
        err.details() or ""
    )
    [offer] = system.round().offers
    system.accept(offer.offer_id)
    err = rpc_error(lambda: system.accept(offer.offer_id))
    assert err.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert f"offer {offer.offer_id} is ACCEPTED" in (err.details() or "")
    err = rpc_error(lambda: system.decline(offer.offer_id))
    assert err.code() == grpc.StatusCode.FAILED_PRECONDITION
    err = rpc_error(lambda: system.rate(order.order_id, 4))
    assert "is ACCEPTED" in (err.details() or "")


def test_unknown_ids_are_not_found(system: OrderSystem) -> None:
    for call in (
        lambda: system.get("ord-nope"),
        lambda: system.accept("ord-nope.1"),
        lambda: system.decline("nodot"),
        lambda: system.rate("ord-nope", 3),
        lambda: system.complete("ord-nope", 1.0),
    ):
        assert rpc_error(call).code() == grpc.StatusCode.NOT_FOUND
    order = system.submit("key-1")
    assert (
        rpc_error(lambda: system.accept(f"{order.order_id}.7")).code() == grpc.StatusCode.NOT_FOUND
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda r: setattr(r.request.window.start, "seconds", T0 - HOUR), "request.window.start"),
        (lambda r: setattr(r.request.location, "lat", 95.0), "request.location.lat"),
        (lambda r: r.request.required_skills.append("juggling"), "request.required_skills[1]"),
        (lambda r: setattr(r.request, "volunteers_needed", 21), "request.volunteers_needed"),
        (lambda r: r.ClearField("request"), "request"),
        (lambda r: setattr(r.resident, "resident_id", ""), "resident.resident_id"),
        (lambda r: setattr(r, "idempotency_key", ""), "idempotency_key"),
        (lambda r: setattr(r, "branch_id", "a{b}"), "branch_id"),
    ],
)
def test_bad_submissions_name_the_field(system: OrderSystem, change: object, field: str) -> None:
    request = submit_request("key-1")
    change(request)  # type: ignore[operator]
    err = rpc_error(lambda: system.orders.SubmitOrder(request, timeout=10))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field in violations(err), violations(err)


@pytest.mark.parametrize("hours", [0.0, -1.0, 24.5, float("nan"), 0.001])
def test_bad_hours_name_the_field(system: OrderSystem, hours: float) -> None:
    err = rpc_error(lambda: system.complete("ord-x", hours))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert set(violations(err)) == {"hours_served"}


@pytest.mark.parametrize("stars", [0, 6])
def test_bad_ratings_name_the_field(system: OrderSystem, stars: int) -> None:
    err = rpc_error(lambda: system.rate("ord-x", stars))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT and set(violations(err)) == {"stars"}


def test_a_volunteer_must_say_who_they_are_to_complete(system: OrderSystem) -> None:
    err = rpc_error(lambda: system.complete("ord-x", 1.0, actor=OR.ACTOR_VOLUNTEER))
    assert set(violations(err)) == {"volunteer_id"}
    err = rpc_error(lambda: system.complete("ord-x", 1.0, actor=OR.ACTOR_RESIDENT))
    assert set(violations(err)) == {"actor"}


def test_an_urgent_order_is_dispatched_at_once(system: OrderSystem) -> None:
    near(system, "vol-a", "vol-b")
    routine = system.submit("key-r")
    urgent = system.submit("key-u", urgency=match_pb2.URGENCY_URGENT, start_h=4, end_h=5)
    assert routine.state == PENDING  # waits for the window
    assert urgent.state == OFFERED  # its round ran before SubmitOrder returned
    assert system.get(routine.order_id).state == OFFERED  # the round took the routine one too


def test_an_urgent_order_wakes_the_background_dispatcher() -> None:
    settings = ORDER_SETTINGS.with_overrides(dispatch_window_seconds=3600.0)
    with running_system(settings) as system:
        near(system, "vol-a", "vol-b")
        routine = system.submit("key-r")
        assert system.get(routine.order_id).state == PENDING
        urgent = system.submit("key-u", urgency=match_pb2.URGENCY_URGENT, start_h=4, end_h=5)
        wait_until(lambda: system.get(urgent.order_id).state == OFFERED, 5, "the urgent round")


def test_cancel_withdraws_and_gives_the_time_back(system: OrderSystem) -> None:
    near(system, "vol-a")
    first = system.submit("key-1")
    [offer] = system.round().offers
    system.accept(offer.offer_id)
    cancelled = system.orders.CancelOrder(
        OR.CancelOrderRequest(order_id=first.order_id, actor=OR.ACTOR_RESIDENT, reason="better"),
        timeout=10,
    ).order
    assert cancelled.state == OR.ORDER_STATE_CANCELLED
    windows = system.volunteer("vol-a").volunteer.availability
    assert [(w.start.seconds, w.end.seconds) for w in windows] == [(T0, T0 + 8 * HOUR)]
    second = system.submit("key-2")  # same time: the volunteer is free again
    assert [o.volunteer_id for o in system.round().offers] == ["vol-a"]
    again = system.orders.CancelOrder(OR.CancelOrderRequest(order_id=first.order_id), timeout=10)
    assert again.order == cancelled  # idempotent
    system.orders.CancelOrder(OR.CancelOrderRequest(order_id=second.order_id), timeout=10)
    assert [o.state for o in system.get(second.order_id).offers] == [OR.OFFER_STATE_WITHDRAWN]


def test_no_volunteer_is_booked_twice_across_rounds(system: OrderSystem) -> None:
    near(system, "vol-a")
    one = system.submit("key-1")
    [held] = system.round().offers
    two = system.submit("key-2", start_h=2.5, end_h=3.5)  # overlaps the first
    three = system.submit("key-3", start_h=5, end_h=6)  # does not
    report = system.round()
    assert [o.order_id for o in report.offers] == [three.order_id]  # the rest of the window
    assert report.orders_unserved == 1
    system.decline(held.offer_id)
    assert [o.order_id for o in system.round().offers] == [two.order_id]
    assert system.get(one.order_id).state == PENDING  # and never to vol-a again


def test_a_multi_volunteer_order_fills_every_slot(system: OrderSystem) -> None:
    near(system, "vol-a", "vol-b", "vol-c")
    order = system.submit("key-1", needed=2, urgency=match_pb2.URGENCY_DIFFICULT)
    report = system.round()
    assert sorted(o.volunteer_id for o in report.offers) == ["vol-a", "vol-b"]
    first, second = report.offers
    system.accept(first.offer_id)
    system.decline(second.offer_id)
    assert system.get(order.order_id).state == PENDING
    [third] = system.round().offers
    assert third.volunteer_id == "vol-c"
    assert system.accept(third.offer_id).order.state == ACCEPTED
    done = system.complete(order.order_id, 2.0)
    assert sorted(done.order.accepted_volunteer_ids) == [first.volunteer_id, "vol-c"]


def test_an_order_nobody_took_expires_when_its_time_comes(system: OrderSystem) -> None:
    order = system.submit("key-1")
    assert system.round().orders_unserved == 1
    system.clock.set(T0 + 2 * HOUR)
    report = system.round()
    assert report.orders_lapsed == 1 and report.orders_considered == 0
    assert system.get(order.order_id).state == OR.ORDER_STATE_EXPIRED


def test_list_orders_by_state_and_branch_in_pages(system: OrderSystem) -> None:
    near(system, "vol-a")
    ids = []
    for i in range(5):
        system.clock.advance(1)  # oldest first: by submission time
        ids.append(system.submit(f"key-{i}", branch=f"grid-{i % 2}").order_id)
    first = system.orders.ListOrders(OR.ListOrdersRequest(page_size=2), timeout=10)
    assert [o.order_id for o in first.orders] == ids[:2] and first.total_size == 5
    rest = system.orders.ListOrders(
        OR.ListOrdersRequest(page_size=10, page_token=first.next_page_token), timeout=10
    )
    assert [o.order_id for o in rest.orders] == ids[2:] and not rest.next_page_token
    odd = system.orders.ListOrders(OR.ListOrdersRequest(branch_ids=["grid-1"]), timeout=10)
    assert [o.order_id for o in odd.orders] == [ids[1], ids[3]]
    system.round()
    offered = system.orders.ListOrders(OR.ListOrdersRequest(states=[OFFERED]), timeout=10)
    assert len(offered.orders) == 1
    err = rpc_error(
        lambda: system.orders.ListOrders(OR.ListOrdersRequest(page_token="x"), timeout=10)
    )
    assert set(violations(err)) == {"page_token"}


def test_a_rating_moves_the_next_match(system: OrderSystem) -> None:
    near(system, "vol-a", "vol-b", km=0.2)  # nearly equal: the rating decides
    results = []
    for key, stars in (("key-1", 1), ("key-2", 1)):
        order = system.submit(key, start_h=1 + len(results) * 2, end_h=2 + len(results) * 2)
        [offer] = system.round().offers
        results.append(offer.volunteer_id)
        system.accept(offer.offer_id)
        system.complete(order.order_id, 1.0)
        system.rate(order.order_id, stars)
    assert results == ["vol-a", "vol-b"]  # vol-a's poor rating sent the second to vol-b


def test_health_and_reflection_list_the_order_services(system: OrderSystem) -> None:
    from grpc_health.v1 import health_pb2, health_pb2_grpc
    from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
        ProtoReflectionDescriptorDatabase,
    )

    names = [
        "matcher.v1.OrderService",
        "matcher.v1.DispatchService",
        "matcher.v1.OfferService",
        "matcher.v1.TimeBankService",
    ]
    stub = health_pb2_grpc.HealthStub(system.channel)
    for name in names:
        reply = stub.Check(health_pb2.HealthCheckRequest(service=name), timeout=5)
        assert reply.status == health_pb2.HealthCheckResponse.SERVING
    assert set(names) <= set(ProtoReflectionDescriptorDatabase(system.channel).get_services())


def test_registry_deletion_does_not_break_an_accepted_order(system: OrderSystem) -> None:
    near(system, "vol-a")
    order = system.submit("key-1")
    [offer] = system.round().offers
    system.accept(offer.offer_id)
    system.volunteers.DeleteVolunteer(
        volunteers_pb2.DeleteVolunteerRequest(volunteer_id="vol-a"), timeout=10
    )
    assert system.complete(order.order_id, 1.0).credited


def test_rounds_run_by_themselves_every_window() -> None:
    settings = ORDER_SETTINGS.with_overrides(dispatch_window_seconds=0.1)
    with running_system(settings) as system:
        near(system, "vol-a")
        order = system.submit("key-1")
        wait_until(lambda: system.get(order.order_id).state == OFFERED, 5, "a timed round")


def test_a_round_dispatches_only_its_scope(system: OrderSystem) -> None:
    near(system, "vol-a", "vol-b", "vol-c")
    here = system.submit("key-1", branch="grid-1")
    there = system.submit("key-2", branch="grid-2", at=north_km(40), start_h=4, end_h=5)
    report = system.round(scope=OR.DispatchScope(branch_ids=["grid-2"]))
    assert report.orders_considered == 1 and report.orders_unserved == 1  # 40 km from anyone
    assert system.get(here.order_id).state == PENDING
    area = OR.DispatchScope(center=match_pb2.GeoPoint(lat=36.27, lon=100.62), radius_km=5)
    report = system.round(scope=area)
    assert [o.order_id for o in report.offers] == [here.order_id]
    assert system.get(there.order_id).state == PENDING
    err = rpc_error(lambda: system.round(scope=OR.DispatchScope(radius_km=3)))
    assert set(violations(err)) == {"scope.radius_km"}
    err = rpc_error(lambda: system.round(pool=match_pb2.PoolSelector(branch_ids=[""])))
    assert set(violations(err)) == {"pool.branch_ids[0]"}


def test_a_round_uses_the_pool_it_is_given(system: OrderSystem) -> None:
    near(system, "vol-a")
    system.register(upsert("vol-z", at=north_km(3), branch="grid-9"))
    system.submit("key-1")
    report = system.round(pool=match_pb2.PoolSelector(branch_ids=["grid-9"]))
    assert [o.volunteer_id for o in report.offers] == ["vol-z"]
