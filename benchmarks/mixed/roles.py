"""The client loops of a mixed load run, one thread each, until the stop event is set.

* **resident** (群众点单): submits orders (URGENT ones among them, some starting in seconds);
  some submissions are retried with the same idempotency key, some are first cut by a 1 ms
  deadline (a lost reply) and then retried; looks up earlier orders, rates completed ones
  (sometimes twice, the same rating), cancels a few.
* **dispatcher** (中心派单): runs dispatch rounds, some scoped to one branch, and notifies the
  volunteers of the offers made.
* **notifier**: the centre's console; lists OFFERED orders and notifies the volunteers of the
  open offers the server's own rounds (timed, urgent) made.
* **volunteer** (志愿者接单): takes a notification, reads the volunteer's open offers
  (``ListOffers``, or the first message of ``WatchOffers`` for every fourth app) and accepts
  (70 %), declines (15 %), ignores (10 %: the offer expires) or answers after the deadline.
* **centre**: completes ACCEPTED orders (time-bank credit; sometimes retried), redeems a
  volunteer's hours now and then, reads the branch summary.
* **matcher**: Match calls, inline volunteers and against the registered pool.
"""

from __future__ import annotations

import random
import time

import grpc
import numpy as np

from benchmarks.mixed.calls import Metadata, Submission
from benchmarks.mixed.centre_desk import centre
from benchmarks.mixed.context import FINAL, FP, LIVE, ROUND_TIMEOUT_S, TIMEOUT_S, Context, O, Role
from benchmarks.mixed.volunteer_app import volunteer
from benchmarks.mixed.workload import soon_request


def assign_roles(clients: int) -> list[str]:
    """How ``clients`` threads split into roles (at least 6 clients)."""
    if clients < 6:
        raise ValueError("a mixed load needs at least 6 clients (one per role)")
    fixed = {
        "dispatcher": max(1, clients // 16),
        "notifier": 1,
        "centre": max(1, clients // 12),
        "matcher": max(1, clients // 8),
        "volunteer": max(1, round(clients * 0.3)),
    }
    fixed["resident"] = clients - sum(fixed.values())
    return [name for name, n in fixed.items() for _ in range(n)]


def run_role(ctx: Context, role: str, k: int) -> None:
    """Run one client until the stop event; a crash (a bug in the client) is recorded."""
    rng = random.Random(ctx.seed * 1000 + k)
    try:
        ROLES[role](ctx, k, rng)
    except Exception as error:  # the run fails on any: the figures would be wrong
        ctx.crashes.append(f"{role} #{k}: {type(error).__name__}: {error}")
        ctx.stop.set()


def resident(ctx: Context, k: int, rng: random.Random) -> None:
    np_rng = np.random.default_rng([ctx.seed, k])
    md, mine, n = ctx.keys.resident(k), list[str](), 0
    while not ctx.stop.is_set():
        n += 1
        if rng.random() < ctx.soon_share:
            template = soon_request(np_rng, time.time())
        else:
            template = rng.choice(ctx.workload.templates)
        key = f"{ctx.workload.tag}-r{k}-{n}"
        request = O.SubmitOrderRequest(
            request=template.request,
            branch_id=template.branch_id,
            resident=O.Resident(resident_id=f"{ctx.workload.tag}-res-{k}-{n % 40}", contact="tel"),
            idempotency_key=key,
        )
        sub = Submission(key, request, owner=ctx.keys.owner(k))
        with ctx.records.lock:
            ctx.records.submissions[key] = sub
        draw = rng.random()
        if draw < 0.04:  # the reply is lost: the client gives up after 1 ms, then retries
            sub.lost_reply = True
            _submit(ctx, sub, "SubmitOrder (cut at 1 ms)", 0.001, md)
        order_id = _submit(ctx, sub, "SubmitOrder", TIMEOUT_S, md)
        if order_id and draw < 0.12:
            _submit(ctx, sub, "SubmitOrder (retry)", TIMEOUT_S, md, retry=True)
        if order_id:
            mine.append(order_id)
        if mine and rng.random() < 0.7:
            _follow_up(ctx, rng, mine, md)


def _submit(
    ctx: Context, sub: Submission, label: str, timeout: float, md: Metadata, retry: bool = False
) -> str:
    expect = (grpc.StatusCode.DEADLINE_EXCEEDED,) if timeout < 0.01 else ()
    reply = ctx.call(label, ctx.orders.SubmitOrder, sub.request, md, expect=expect, timeout=timeout)
    if reply is None:
        return ""
    with ctx.records.lock:
        if sub.order_id and sub.order_id != reply.order.order_id:
            ctx.records.idempotency_mismatches.append(
                f"key {sub.key}: {sub.order_id} then {reply.order.order_id}"
            )
        if retry and reply.created:
            ctx.records.idempotency_mismatches.append(f"key {sub.key}: a retry created the order")
        sub.order_id = reply.order.order_id
        sub.acknowledged = True
        sub.created_replies += int(reply.created)
    return sub.order_id


def _follow_up(ctx: Context, rng: random.Random, mine: list[str], md: Metadata) -> None:
    """Look at one earlier order: rate it when completed, cancel it now and then."""
    order_id = rng.choice(mine[-200:])
    reply = ctx.call("GetOrder", ctx.orders.GetOrder, O.GetOrderRequest(order_id=order_id), md)
    if reply is None:
        return
    state = reply.order.state
    if state in FINAL:
        mine.remove(order_id)
    elif state == O.ORDER_STATE_COMPLETED and rng.random() < 0.85:
        stars = rng.choice((5, 5, 5, 4, 4, 3, 2, 1))
        request = O.RateOrderRequest(order_id=order_id, stars=stars, comment="thanks")
        for _ in range(2 if rng.random() < 0.15 else 1):  # a retry of the same rating
            if ctx.call("RateOrder", ctx.orders.RateOrder, request, md, expect=FP) is not None:
                with ctx.records.lock:
                    ctx.records.rated[order_id] = stars
    elif state in LIVE and rng.random() < 0.05:
        cancel = O.CancelOrderRequest(
            order_id=order_id, actor=O.ACTOR_RESIDENT, reason="no longer needed"
        )
        if ctx.call("CancelOrder", ctx.orders.CancelOrder, cancel, md, expect=FP) is not None:
            ctx.records.add("cancelled", order_id)


def dispatcher(ctx: Context, k: int, rng: random.Random) -> None:
    md = ctx.keys.roles["dispatcher"]
    while not ctx.stop.is_set():
        request = O.RunDispatchRoundRequest()
        if rng.random() < 0.25:
            request.scope.branch_ids.append(rng.choice(ctx.workload.branches))
        run = ctx.dispatch.RunDispatchRound
        reply = ctx.call("RunDispatchRound", run, request, md, timeout=ROUND_TIMEOUT_S)
        if reply is not None:
            with ctx.records.lock:
                ctx.records.rounds += 1
                ctx.records.round_offers += len(reply.offers)
                ctx.records.round_conflicts += reply.reservation_conflicts
            for offer in reply.offers:
                ctx.inbox.notify(offer.volunteer_id, offer.offer_id)
        ctx.stop.wait(ctx.round_interval_s)


def notifier(ctx: Context, k: int, rng: random.Random) -> None:
    md = ctx.keys.roles["centre"]
    while not ctx.stop.is_set():
        token = ""
        while not ctx.stop.is_set():
            request = O.ListOrdersRequest(
                states=[O.ORDER_STATE_OFFERED], page_size=200, page_token=token
            )
            page = ctx.call("ListOrders", ctx.orders.ListOrders, request, md)
            if page is None:
                break
            for order in page.orders:
                for offer in order.offers:
                    if offer.state == O.OFFER_STATE_OPEN:
                        ctx.inbox.notify(offer.volunteer_id, offer.offer_id)
            token = page.next_page_token
            if not token:
                break
        ctx.stop.wait(0.3)


def matcher(ctx: Context, k: int, rng: random.Random) -> None:
    md = ctx.keys.roles["matcher"]
    while not ctx.stop.is_set():
        if rng.random() < 0.5:
            label, request = "Match (inline)", rng.choice(ctx.workload.inline_matches)
        else:
            label, request = "Match (pool)", rng.choice(ctx.workload.pool_matches)
        ctx.call(label, ctx.match.Match, request, md)


ROLES: dict[str, Role] = {
    "resident": resident,
    "dispatcher": dispatcher,
    "notifier": notifier,
    "volunteer": volunteer,
    "centre": centre,
    "matcher": matcher,
}
