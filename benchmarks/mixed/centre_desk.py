"""The centre's client loop: complete ACCEPTED orders with the service window's length as the
hours served (the time bank credits each volunteer; 10 % of completions are retried and
must credit nothing again), redeem a volunteer's half hour now and then (20 % retried with
the same key: posted once), read the head bank's summary.

Half of the completions are the volunteer's (ACTOR_VOLUNTEER): in keyed mode they go with
that volunteer's own key; RedeemHours goes with the admin key (admin only), everything else
with the centre's (dispatcher) key."""

from __future__ import annotations

import random

from benchmarks.mixed.calls import Metadata
from benchmarks.mixed.context import FP, Context, O
from matcher.v1 import timebank_pb2


def centre(ctx: Context, k: int, rng: random.Random) -> None:
    md, earners, n = ctx.keys.roles["centre"], list[str](), 0
    while not ctx.stop.is_set():
        request = O.ListOrdersRequest(states=[O.ORDER_STATE_ACCEPTED], page_size=20)
        page = ctx.call("ListOrders", ctx.orders.ListOrders, request, md)
        for order in page.orders if page is not None else []:
            if ctx.stop.is_set():
                break
            if rng.random() < 0.8:
                earners += _complete(ctx, rng, order, md)
        if earners and rng.random() < 0.2:
            n += 1
            volunteer_id, key = rng.choice(earners[-500:]), f"{ctx.workload.tag}-c{k}-{n}"
            _redeem(ctx, rng, volunteer_id, key, md, ctx.keys.roles["admin"])
        if rng.random() < 0.2:
            summary = timebank_pb2.GetBranchSummaryRequest()
            ctx.call("GetBranchSummary", ctx.bank.GetBranchSummary, summary, md)
        ctx.stop.wait(0.05)


def _complete(ctx: Context, rng: random.Random, order: O.Order, md: Metadata) -> list[str]:
    """Complete one order with its window's length as the hours served; its volunteers."""
    window = order.request.window
    minutes = max(15, min(24 * 60, (window.end.seconds - window.start.seconds) // 60))
    request = O.CompleteOrderRequest(order_id=order.order_id, hours_served=minutes / 60)
    if rng.random() < 0.5 and order.accepted_volunteer_ids:
        request.actor, request.volunteer_id = O.ACTOR_VOLUNTEER, order.accepted_volunteer_ids[0]
        md = ctx.keys.completion(request.volunteer_id)
    else:
        request.actor = O.ACTOR_CENTRE
    done: list[str] = []
    for _ in range(2 if rng.random() < 0.1 else 1):  # a retried completion credits nothing
        reply = ctx.call("CompleteOrder", ctx.orders.CompleteOrder, request, md, expect=FP)
        if reply is None:
            break
        with ctx.records.lock:
            ctx.records.completed[order.order_id] = minutes
            ctx.records.credited[order.order_id] += int(reply.credited)
        done = list(reply.order.accepted_volunteer_ids)
    return done


def _redeem(
    ctx: Context, rng: random.Random, volunteer_id: str, key: str, md: Metadata, admin: Metadata
) -> None:
    asked = timebank_pb2.GetBalanceRequest(volunteer_id=volunteer_id)
    balance = ctx.call("GetBalance", ctx.bank.GetBalance, asked, md)
    if balance is None or balance.balance_minutes < 30:
        return
    request = timebank_pb2.RedeemHoursRequest(
        volunteer_id=volunteer_id,
        hours=0.5,
        reason="load test",
        idempotency_key=key,
        branch_id=rng.choice(ctx.workload.branches),
    )
    for _ in range(2 if rng.random() < 0.2 else 1):  # a retried redemption is posted once
        reply = ctx.call("RedeemHours", ctx.bank.RedeemHours, request, admin, expect=FP)
        if reply is None:
            return
        with ctx.records.lock:
            ctx.records.redeem_posts[key] += int(reply.posted)
            if reply.posted:
                ctx.records.redeemed[key] = 30
                ctx.records.redeemed_by[volunteer_id] += 30
