"""A dispatcher that dies, in the middle of a round or between rounds, loses no accepted order
and leaves nobody reserved for good: whole offers only, each expiring at its deadline, and the
next server to start frees them (on Redis, where orders outlive a process)."""

from __future__ import annotations

import time
from collections.abc import Sequence

import grpc
import pytest

from matcher.orders.desk import OrderDesk
from matcher.orders.model import OfferState
from matcher.orders.store.base import OrderWrite, WriteOutcome
from matcher.orders.store.redis import RedisOrderStore
from matcher.v1 import orders_pb2
from tests.support.orders import (
    ORDER_SETTINGS,
    ManualClock,
    OrderSystem,
    running_system,
    system,
    system_over,
)
from tests.support.redis_db import (
    on_private_prefix,
    prefix_env,
    private_prefix,
    shared_redis_or_skip,
)
from tests.support.registry import north_km, upsert
from tests.support.server_process import ServerProcess
from tests.support.times import HOUR

__all__ = ["system"]  # the fixture

OR = orders_pb2


def crash_after(desk: OrderDesk, offers: int) -> None:
    """Make ``desk`` die (as a killed process would, mid-round) once ``offers`` order writes
    went through: a round commits its offers in batches (``commit_many``), so the store
    applies the first writes of the batch that crosses the limit, and then the round dies."""
    store = desk.orders
    real = store.commit_many
    made = [0]

    def commit_many(writes: Sequence[OrderWrite], *, now_ms: int) -> list[WriteOutcome]:
        room = offers - made[0]
        made[0] += min(room, len(writes))
        if len(writes) > room:
            real(writes[:room], now_ms=now_ms)
            raise RuntimeError("killed")
        return real(writes, now_ms=now_ms)

    store.commit_many = commit_many  # type: ignore[method-assign]


def test_a_round_cut_short_leaves_only_whole_offers(system: OrderSystem) -> None:
    system.register(*(upsert(f"vol-{k}", at=north_km(k + 1)) for k in range(4)))
    ids = [system.submit(f"key-{n}", start_h=2 + n * 0.25, end_h=3).order_id for n in range(3)]
    assert system.app.orders is not None
    crash_after(system.app.orders.desk, 1)
    with pytest.raises(grpc.RpcError) as caught:
        system.round()
    assert caught.value.code() == grpc.StatusCode.INTERNAL
    orders = [system.get(i) for i in ids]
    assert sorted(o.state for o in orders) == [OR.ORDER_STATE_PENDING] * 2 + [
        OR.ORDER_STATE_OFFERED
    ]
    store = system.app.orders.store
    assert [h.hold_id for h in store.holds()] == [o.offers[0].offer_id for o in orders if o.offers]
    system.clock.advance(600)  # the deadline: the hold stops counting even before a sweep
    now_ms = int(system.clock() * 1000)
    assert not [h for h in store.holds() if h.live(now_ms)]


@pytest.mark.redis
def test_a_restarted_server_frees_what_the_dead_one_held() -> None:
    with on_private_prefix(ORDER_SETTINGS) as settings:
        clock = ManualClock()
        with running_system(settings, clock) as first:
            first.register(*(upsert(f"vol-{k}", at=north_km(k + 1)) for k in range(6)))
            ids = [first.submit(f"key-{n}", start_h=2, end_h=3).order_id for n in range(3)]
            offers = first.round().offers
            kept = first.accept(offers[0].offer_id).order
            ids += [first.submit(f"key-{n}", start_h=5, end_h=6).order_id for n in (3, 4)]
            assert first.app.orders is not None
            crash_after(first.app.orders.desk, 1)
            with pytest.raises(grpc.RpcError):
                first.round()
            before = {i: first.get(i) for i in ids}
        clock.advance(601)  # every open offer's deadline passes while nobody runs
        with running_system(settings, clock) as second:
            after = {i: second.get(i) for i in ids}
            assert after[kept.order_id].state == OR.ORDER_STATE_ACCEPTED
            assert after[kept.order_id].offers == kept.offers  # nothing lost
            for i in ids:
                if i != kept.order_id:
                    assert after[i].state == OR.ORDER_STATE_PENDING, i
                    assert all(o.state == OR.OFFER_STATE_EXPIRED for o in after[i].offers)
            assert second.app.orders is not None
            holds = second.app.orders.store.holds()
            assert [h.hold_id for h in holds] == [kept.offers[0].offer_id]
            report = second.round()
            assert report.orders_considered == 4
            for offer in report.offers:
                earlier = {o.volunteer_id for o in before[offer.order_id].offers}
                assert offer.volunteer_id not in earlier


def _server(prefix: str) -> ServerProcess:
    """``matcher serve`` in a child process over ``prefix``: rounds on demand, 1 s offers."""
    return ServerProcess(
        {
            **prefix_env(prefix),
            "MATCHER_DISPATCH_WINDOW_SECONDS": "0",
            "MATCHER_OFFER_TTL_SECONDS": "1",
            "MATCHER_METRICS_PORT": "-1",
            "MATCHER_WORKERS": "4",
        }
    )


@pytest.mark.redis
@pytest.mark.slow
def test_a_killed_process_loses_no_accepted_order() -> None:
    client = shared_redis_or_skip()
    now = int(time.time())
    try:
        with private_prefix(client) as prefix:
            server = _server(prefix)
            server.start()
            try:
                with grpc.insecure_channel(server.target) as channel:
                    first = system_over(None, ManualClock(), channel)  # type: ignore[arg-type]
                    entries = [upsert(f"vol-{k}", at=north_km(k + 1)) for k in range(3)]
                    for entry in entries:
                        entry.volunteer.availability[0].start.seconds = now
                        entry.volunteer.availability[0].end.seconds = now + 8 * HOUR
                    first.register(*entries)
                    ids = [
                        first.submit(f"key-{n}", base=now, start_h=2, end_h=3).order_id
                        for n in range(2)
                    ]
                    offers = first.round().offers
                    kept = first.accept(offers[0].offer_id).order
            finally:
                server.kill()
            time.sleep(1.1)  # past the 1 s offer deadline
            server.start()  # again, on the same port and keys
            try:
                with grpc.insecure_channel(server.target) as channel:
                    second = system_over(None, ManualClock(), channel)  # type: ignore[arg-type]
                    assert second.get(kept.order_id).state == OR.ORDER_STATE_ACCEPTED
                    [other] = [i for i in ids if i != kept.order_id]
                    assert second.get(other).state == OR.ORDER_STATE_PENDING
                    store = RedisOrderStore(client, prefix)
                    assert [h.hold_id for h in store.holds()] == [kept.offers[0].offer_id]
                    assert [o.state for o in store.get(other).offers] == [OfferState.EXPIRED]  # type: ignore[union-attr]
                    [again] = second.round().offers
                    assert again.order_id == other
            finally:
                assert "Traceback" not in server.stop()
    finally:
        client.close()
