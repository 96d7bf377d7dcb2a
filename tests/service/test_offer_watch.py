"""WatchOffers over a real channel: open offers first, then every new offer and every change;
on Redis, offers made by another server reach the stream too."""

from __future__ import annotations

import queue

import grpc
import pytest

from matcher.v1 import orders_pb2
from tests.support.orders import (
    ORDER_SETTINGS,
    ManualClock,
    OrderSystem,
    Seen,
    running_system,
    system,
    watching,
)
from tests.support.redis_db import on_private_prefix
from tests.support.registry import north_km, rpc_error
from tests.support.registry import upsert as volunteer

__all__ = ["system"]  # the fixture

OR = orders_pb2


def next_seen(got: queue.Queue[Seen]) -> Seen:
    return got.get(timeout=5)


def test_the_stream_sends_open_offers_then_changes(system: OrderSystem) -> None:
    system.register(volunteer("vol-a"), volunteer("vol-b", at=north_km(2)))
    system.submit("key-1")
    [early] = system.round().offers  # made before the stream opens: sent first
    with watching(system, "vol-a") as got:
        assert next_seen(got) == (early.offer_id, OR.OFFER_STATE_OPEN)
        system.submit("key-2", start_h=5, end_h=6)
        [later] = system.round().offers
        assert next_seen(got) == (later.offer_id, OR.OFFER_STATE_OPEN)
        system.accept(early.offer_id)
        assert next_seen(got) == (early.offer_id, OR.OFFER_STATE_ACCEPTED)
        system.decline(later.offer_id)
        assert next_seen(got) == (later.offer_id, OR.OFFER_STATE_DECLINED)
        assert got.empty()


def test_a_volunteer_without_offers_gets_nothing_until_one_comes(system: OrderSystem) -> None:
    system.register(volunteer("vol-a"))
    with watching(system, "vol-a") as got:
        with pytest.raises(queue.Empty):
            got.get(timeout=0.3)
        system.submit("key-1")
        [offer] = system.round().offers
        assert next_seen(got) == (offer.offer_id, OR.OFFER_STATE_OPEN)


def test_a_bad_volunteer_id_is_invalid(system: OrderSystem) -> None:
    call = system.offers.WatchOffers(OR.WatchOffersRequest(volunteer_id=""))
    err = rpc_error(lambda: next(iter(call)))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT


@pytest.mark.redis
def test_offers_made_by_another_server_reach_the_stream() -> None:
    with on_private_prefix(ORDER_SETTINGS) as settings:
        clock = ManualClock()
        with running_system(settings, clock) as one, running_system(settings, clock) as two:
            one.register(volunteer("vol-a"))
            with watching(two, "vol-a") as got:
                one.submit("key-1")
                [offer] = one.round().offers
                assert next_seen(got) == (offer.offer_id, OR.OFFER_STATE_OPEN)
                one.accept(offer.offer_id)
                assert next_seen(got) == (offer.offer_id, OR.OFFER_STATE_ACCEPTED)
