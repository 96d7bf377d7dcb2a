"""WatchOffers over a real channel: open offers first, then every new offer and every change;
on Redis, offers made by another server reach the stream too."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import grpc
import pytest

from matcher.v1 import orders_pb2
from tests.support.orders import (
    ORDER_SETTINGS,
    REDIS_URL,
    ManualClock,
    OrderSystem,
    running_system,
    system,
)
from tests.support.registry import north_km, private_prefix, rpc_error, shared_redis_or_skip
from tests.support.registry import upsert as volunteer

__all__ = ["system"]  # the fixture

OR = orders_pb2
Seen = tuple[str, int]  # (offer id, state)


@contextmanager
def watching(system: OrderSystem, vid: str) -> Iterator[queue.Queue[Seen]]:
    """A stream of ``vid``'s offers read in a thread into a queue; cancelled afterwards."""
    got: queue.Queue[Seen] = queue.Queue()
    call = system.offers.WatchOffers(OR.WatchOffersRequest(volunteer_id=vid))

    def read() -> None:
        try:
            for message in call:
                got.put((message.offer.offer_id, message.offer.state))
        except grpc.RpcError as error:
            assert error.code() == grpc.StatusCode.CANCELLED

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        yield got
    finally:
        call.cancel()
        reader.join(timeout=5)


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
    client = shared_redis_or_skip()
    try:
        with private_prefix(client) as prefix:
            settings = ORDER_SETTINGS.with_overrides(store=REDIS_URL, redis_prefix=prefix)
            clock = ManualClock()
            with running_system(settings, clock) as one, running_system(settings, clock) as two:
                one.register(volunteer("vol-a"))
                with watching(two, "vol-a") as got:
                    one.submit("key-1")
                    [offer] = one.round().offers
                    assert next_seen(got) == (offer.offer_id, OR.OFFER_STATE_OPEN)
                    one.accept(offer.offer_id)
                    assert next_seen(got) == (offer.offer_id, OR.OFFER_STATE_ACCEPTED)
    finally:
        client.close()
