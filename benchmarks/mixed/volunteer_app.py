"""The volunteer app's client loop (志愿者接单): take a notification, read the volunteer's open
offers (``ListOffers``, or the first message of ``WatchOffers`` for every fourth app) and
accept (70 %), decline (15 %), ignore (10 %: the offer expires) or answer after the deadline
(5 %: FAILED_PRECONDITION, the offer has expired). Each call goes with the key of the
volunteer the notification is for (in keyed mode, one ``volunteer_app`` key per volunteer)."""

from __future__ import annotations

import random
import time
from typing import Any

import grpc

from benchmarks.mixed.calls import Metadata
from benchmarks.mixed.context import FP, WATCH_ENDS, Context, O


def volunteer(ctx: Context, k: int, rng: random.Random) -> None:
    watcher = k % 4 == 0
    while not ctx.stop.is_set():
        item = ctx.inbox.take(0.2)
        if item is None:
            continue
        volunteer_id, late = item
        md = ctx.keys.volunteer(volunteer_id)
        if late:  # answering after the deadline: the offer has expired
            _answer(ctx, late, True, md, "AcceptOffer (after deadline)")
            continue
        offers = (
            _watch_first(ctx, volunteer_id, md) if watcher else _list_open(ctx, volunteer_id, md)
        )
        for offer in offers:
            if offer.state != O.OFFER_STATE_OPEN:
                continue
            draw = rng.random()
            if draw < 0.70:
                _answer(ctx, offer.offer_id, True, md, "AcceptOffer")
            elif draw < 0.85:
                _answer(ctx, offer.offer_id, False, md, "DeclineOffer")
            elif draw >= 0.95:
                deadline = offer.deadline.seconds + offer.deadline.nanos / 1e9
                ctx.inbox.notify(volunteer_id, offer.offer_id, at=deadline + 0.3, late=True)


def _list_open(ctx: Context, volunteer_id: str, md: Metadata) -> list[O.Offer]:
    request = O.ListOffersRequest(volunteer_id=volunteer_id, states=[O.OFFER_STATE_OPEN])
    reply = ctx.call("ListOffers", ctx.offers.ListOffers, request, md)
    return list(reply.offers) if reply is not None else []


def _watch_first(ctx: Context, volunteer_id: str, md: Metadata) -> list[O.Offer]:
    """The first message of a WatchOffers stream (an open offer), then cancel the stream.
    No message within 1.5 s (the offer was answered meanwhile) is DEADLINE_EXCEEDED; over
    the server's stream limit the app reads the list instead."""
    request = O.WatchOffersRequest(volunteer_id=volunteer_id)
    started = time.perf_counter()
    stream = ctx.offers.WatchOffers(request, timeout=1.5, metadata=md)
    try:
        first = next(stream)
    except grpc.RpcError as error:
        code = error.code()
        ms = (time.perf_counter() - started) * 1e3
        details = error.details() or ""
        ctx.stats.record("WatchOffers (first message)", ms, code.name, code in WATCH_ENDS, details)
        if ctx.stats.back_off(code, details):  # over the key's rate limit: not now
            return []
        if code == grpc.StatusCode.RESOURCE_EXHAUSTED:  # too many streams open: read a list
            return _list_open(ctx, volunteer_id, md)
        return []
    finally:
        stream.cancel()
    ms = (time.perf_counter() - started) * 1e3
    ctx.stats.record("WatchOffers (first message)", ms, "OK", True)
    return [first.offer]


def _answer(ctx: Context, offer_id: str, accept: bool, md: Metadata, label: str) -> None:
    method: Any = ctx.offers.AcceptOffer if accept else ctx.offers.DeclineOffer
    request: Any = (O.AcceptOfferRequest if accept else O.DeclineOfferRequest)(offer_id=offer_id)
    if ctx.call(label, method, request, md, expect=FP) is not None:
        ctx.records.add("accepted" if accept else "declined", offer_id)
