"""After a keyed run: did the server really enforce its keys?

``access_enforced`` makes calls that must be refused, on the run's own orders and offers,
once the load has stopped and the consistency checks have read the store (a call wrongly
let through could change what they read). Each probe names what it sends and the code it
must get; a probe that cannot be set up (no offer, fewer than two resident keys) is a
violation too, so the check never passes by doing nothing.

* no ``authorization`` metadata, and an unknown token: UNAUTHENTICATED;
* a role outside its row (a volunteer app running a round, the dispatcher redeeming hours):
  PERMISSION_DENIED;
* someone else's object (a volunteer app accepting, declining or listing another
  volunteer's offers, reading another volunteer, completing an order it did not accept; a
  resident app reading, rating or cancelling another app's order): PERMISSION_DENIED.

In a rate-limited run a probe refused over the rate limit is retried after a second.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from typing import Any

import grpc

from benchmarks.mixed.auth import bearer
from benchmarks.mixed.calls import Metadata, is_rate_limited
from benchmarks.mixed.context import Context, O
from matcher.v1 import timebank_pb2, volunteers_pb2, volunteers_pb2_grpc

UNAUTHENTICATED = grpc.StatusCode.UNAUTHENTICATED
DENIED = grpc.StatusCode.PERMISSION_DENIED
RATE_RETRIES = 5
Probe = tuple[str, Callable[..., Any], Any, Metadata, grpc.StatusCode]


def access_enforced(
    channel: grpc.Channel, ctx: Context, orders: list[O.Order]
) -> tuple[list[dict[str, str]], list[str]]:
    """Each probe made (what, expected code, code got) and the violations: each probe that
    did not get its code, each that could not be set up (see the module docstring)."""
    problems: list[str] = []
    probes = _key_probes(ctx)
    offered = [(order, offer) for order in orders for offer in order.offers]
    if not offered or len(ctx.keys.volunteers) < 2:
        problems.append("no offer made, or fewer than two volunteer keys: nothing to probe")
    else:
        order, offer = offered[len(offered) // 2]
        probes += _volunteer_probes(channel, ctx, order, offer)
    problems += _resident_probes(ctx, probes)
    made = []
    for label, method, request, metadata, want in probes:
        got = _code(method, request, metadata)
        made.append({"probe": label, "expected": want.name, "got": got.name})
        if got != want:
            problems.append(f"{label}: {got.name}, expected {want.name}")
    return made, problems


def _key_probes(ctx: Context) -> list[Probe]:
    """No key at all, and a token the server never issued."""
    unknown = bearer(secrets.token_urlsafe(32))
    return [
        (
            "ListOrders without a key",
            ctx.orders.ListOrders,
            O.ListOrdersRequest(),
            (),
            UNAUTHENTICATED,
        ),
        (
            "ListOrders with an unknown token",
            ctx.orders.ListOrders,
            O.ListOrdersRequest(),
            unknown,
            UNAUTHENTICATED,
        ),
    ]


def _volunteer_probes(
    channel: grpc.Channel, ctx: Context, order: O.Order, offer: O.Offer
) -> list[Probe]:
    """Another volunteer's key running a round (a role outside its row) and on ``offer``,
    its volunteer and ``order``; then the dispatcher's key redeeming hours."""
    stranger = next(v for v in ctx.keys.volunteers if v != offer.volunteer_id)
    owner, key = offer.volunteer_id, f"with {stranger}'s key"
    registry = volunteers_pb2_grpc.VolunteerServiceStub(channel)  # type: ignore[no-untyped-call]
    complete = O.CompleteOrderRequest(
        order_id=order.order_id, hours_served=1, actor=O.ACTOR_VOLUNTEER, volunteer_id=stranger
    )
    calls: list[tuple[str, Callable[..., Any], Any]] = [
        (
            f"RunDispatchRound with volunteer {stranger}'s key",
            ctx.dispatch.RunDispatchRound,
            O.RunDispatchRoundRequest(),
        ),
        (
            f"AcceptOffer {offer.offer_id} (of {owner}) {key}",
            ctx.offers.AcceptOffer,
            O.AcceptOfferRequest(offer_id=offer.offer_id),
        ),
        (
            f"DeclineOffer {offer.offer_id} (of {owner}) {key}",
            ctx.offers.DeclineOffer,
            O.DeclineOfferRequest(offer_id=offer.offer_id),
        ),
        (
            f"ListOffers of {owner} {key}",
            ctx.offers.ListOffers,
            O.ListOffersRequest(volunteer_id=owner),
        ),
        (
            f"GetVolunteer {owner} {key}",
            registry.GetVolunteer,
            volunteers_pb2.GetVolunteerRequest(volunteer_id=owner),
        ),
        (
            f"CompleteOrder {order.order_id} as {stranger}, who did not accept it",
            ctx.orders.CompleteOrder,
            complete,
        ),
    ]
    md = ctx.keys.volunteer(stranger)
    probes: list[Probe] = [(label, method, request, md, DENIED) for label, method, request in calls]
    return [*probes, _redeem_probe(ctx, order, offer)]


def _redeem_probe(ctx: Context, order: O.Order, offer: O.Offer) -> Probe:
    """The dispatcher's key on RedeemHours (admin only)."""
    redeem = timebank_pb2.RedeemHoursRequest(
        volunteer_id=offer.volunteer_id,
        hours=0.5,
        reason="probe",
        idempotency_key=f"{ctx.workload.tag}-probe",
        branch_id=order.branch_id,
    )
    dispatcher = ctx.keys.roles["dispatcher"]
    return (
        "RedeemHours with the dispatcher's key",
        ctx.bank.RedeemHours,
        redeem,
        dispatcher,
        DENIED,
    )


def _resident_probes(ctx: Context, probes: list[Probe]) -> list[str]:
    """A resident app's key on an order another resident app submitted."""
    apps = sorted(ctx.keys.residents)
    owner = ctx.keys.owner(apps[0]) if apps else None
    with ctx.records.lock:
        theirs = next(
            (
                s.order_id
                for s in ctx.records.submissions.values()
                if s.acknowledged and s.owner == owner
            ),
            "",
        )
    if len(apps) < 2 or not theirs:
        return ["fewer than two resident keys, or no order acknowledged: nothing to probe"]
    md = ctx.keys.resident(apps[1])
    label = f"resident app {apps[1]}'s key on order {theirs} of app {apps[0]}"
    probes += [
        (f"GetOrder: {label}", ctx.orders.GetOrder, O.GetOrderRequest(order_id=theirs), md, DENIED),
        (
            f"RateOrder: {label}",
            ctx.orders.RateOrder,
            O.RateOrderRequest(order_id=theirs, stars=1),
            md,
            DENIED,
        ),
        (
            f"CancelOrder: {label}",
            ctx.orders.CancelOrder,
            O.CancelOrderRequest(order_id=theirs, actor=O.ACTOR_RESIDENT),
            md,
            DENIED,
        ),
    ]
    return []


def _code(method: Callable[..., Any], request: Any, metadata: Metadata) -> grpc.StatusCode:
    """The call's status code; a refusal over the rate limit (the key's bucket may still be
    empty from the load; the limit is applied before the object-level checks) is retried
    after a second, a few times."""
    for _ in range(RATE_RETRIES):
        try:
            method(request, timeout=30, metadata=metadata)
        except grpc.RpcError as error:
            code: grpc.StatusCode = error.code()
            if not is_rate_limited(code.name, error.details() or ""):
                return code
            time.sleep(1.0)
        else:
            return grpc.StatusCode.OK
    return grpc.StatusCode.RESOURCE_EXHAUSTED
