"""The server SIGKILLed in the middle of a dispatch round, then started again on the same
Redis: no accepted order is lost, the round leaves whole offers only (each with its hold), and
once their deadline has passed the next server to start frees every volunteer they held and
re-dispatches their orders to others. Nobody stays reserved for good.

The matcher runs in a child process (``python -m matcher.cli serve``) on a private Redis with
an append-only file; the test reads Redis directly to check the holds.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import grpc
import pytest
from redis import Redis

from matcher.orders.model import OfferState, OrderState
from matcher.orders.store.redis import RedisOrderStore
from matcher.v1 import orders_pb2, orders_pb2_grpc, volunteers_pb2, volunteers_pb2_grpc
from tests.faults.harness import (
    all_orders,
    future_day,
    order,
    stray_holds,
    volunteer,
)
from tests.support.net import wait_until
from tests.support.private_redis import PrivateRedis
from tests.support.server_process import ServerProcess

pytestmark = [pytest.mark.redis, pytest.mark.slow]

OFFER_TTL_SECONDS = 2.0
VOLUNTEERS = 300
ACCEPTED_ORDERS = 40
ORDERS = 1500
#: When each round is killed: this many seconds after it started (while it sweeps and
#: solves), or once it has made this many offers.
KILLS: tuple[tuple[str, float], ...] = (("seconds", 0.3), ("offers", 1), ("offers", ORDERS / 2))


@pytest.fixture
def server(private_redis: PrivateRedis) -> Iterator[ServerProcess]:
    process = ServerProcess(
        {
            "MATCHER_STORE": private_redis.url,
            "MATCHER_METRICS_PORT": "-1",
            "MATCHER_WORKERS": "8",
            "MATCHER_DISPATCH_WINDOW_SECONDS": "0",  # rounds when the test asks
            "MATCHER_OFFER_TTL_SECONDS": f"{OFFER_TTL_SECONDS:g}",
            "MATCHER_HEALTH_INTERVAL_SECONDS": "0.2",
        },
    )
    process.start()
    try:
        yield process
    finally:
        process.kill()


@pytest.fixture
def redis(private_redis: PrivateRedis) -> Iterator[Redis]:
    client = private_redis.client()
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def store(redis: Redis) -> RedisOrderStore:
    return RedisOrderStore(redis, "matcher")


class Calls:
    """Stubs over a channel to the server's current process (re-made after a restart)."""

    def __init__(self, target: str) -> None:
        self.channel = grpc.insecure_channel(target)
        self.volunteers = volunteers_pb2_grpc.VolunteerServiceStub(self.channel)  # type: ignore[no-untyped-call]
        self.orders = orders_pb2_grpc.OrderServiceStub(self.channel)  # type: ignore[no-untyped-call]
        self.dispatch = orders_pb2_grpc.DispatchServiceStub(self.channel)  # type: ignore[no-untyped-call]
        self.offers = orders_pb2_grpc.OfferServiceStub(self.channel)  # type: ignore[no-untyped-call]

    def round(self) -> orders_pb2.RunDispatchRoundResponse:
        return self.dispatch.RunDispatchRound(orders_pb2.RunDispatchRoundRequest(), timeout=60)


def submit_all(calls: Calls, day: int, numbers: range) -> list[str]:
    """Submit orders ``numbers`` from four threads; returns the acknowledged order ids."""

    def one(n: int) -> str:
        reply = calls.orders.SubmitOrder(order(f"key-{n}", day, n), timeout=10)
        return str(reply.order.order_id)

    with ThreadPoolExecutor(4) as pool:
        return list(pool.map(one, numbers))


def round_killed_when(
    server: ServerProcess, calls: Calls, ready: Callable[[float], bool]
) -> grpc.StatusCode:
    """Start a round and SIGKILL the server once ``ready(seconds since the start)`` holds
    (polled every 2 ms); returns the round call's status code."""
    codes: list[grpc.StatusCode] = []

    def run() -> None:
        try:
            calls.round()
            codes.append(grpc.StatusCode.OK)
        except grpc.RpcError as error:
            codes.append(error.code())

    caller = threading.Thread(target=run)
    began = time.monotonic()
    caller.start()
    while not ready(time.monotonic() - began) and caller.is_alive():
        time.sleep(0.002)
    server.kill()
    caller.join(timeout=30)
    return codes[0]


class OffersMade:
    """Whether a round has made ``count`` offers: the OFFERED orders in Redis grew that much
    past their lowest count since the round began (its sweep first expires older offers)."""

    def __init__(self, redis: Redis, count: float) -> None:
        self._redis = redis
        self._count = count
        self._lowest: int | None = None

    def __call__(self, _seconds: float) -> bool:
        now = int(self._redis.zcard("matcher:orders:offered"))
        self._lowest = now if self._lowest is None else min(self._lowest, now)
        return now - self._lowest >= self._count


def offers_since(store: RedisOrderStore, since_ms: int) -> int:
    """How many offers were made at or after ``since_ms``."""
    return sum(1 for o in all_orders(store).values() for m in o.offers if m.created_ms >= since_ms)


def test_a_server_killed_mid_round_loses_nothing_and_holds_nobody(
    server: ServerProcess, redis: Redis, store: RedisOrderStore
) -> None:
    day = future_day()
    calls = Calls(server.target)
    volunteers = [volunteer(f"vol-{k:03d}", day, km=k * 0.03) for k in range(VOLUNTEERS)]
    calls.volunteers.UpsertVolunteers(
        volunteers_pb2.UpsertVolunteersRequest(volunteers=volunteers), timeout=30
    )
    acked = submit_all(calls, day, range(ACCEPTED_ORDERS))
    accepted = {}  # order id -> the accepted offer id
    for _, offer in [(o.order_id, o) for o in calls.round().offers]:
        calls.offers.AcceptOffer(orders_pb2.AcceptOfferRequest(offer_id=offer.offer_id), timeout=10)
        accepted[offer.order_id] = offer.offer_id
    assert len(accepted) == ACCEPTED_ORDERS
    acked += submit_all(calls, day, range(ACCEPTED_ORDERS, ACCEPTED_ORDERS + ORDERS))

    cut_short = []  # (offers the killed round made, orders it had to dispatch)
    for n, (kind, when) in enumerate(KILLS):
        pending = len(store.ids_in_states([OrderState.PENDING]))
        since_ms = int(time.time() * 1000)
        ready = (lambda s, w=when: s >= w) if kind == "seconds" else OffersMade(redis, when)
        code = round_killed_when(server, calls, ready)
        calls.channel.close()
        assert code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.OK), code
        made = offers_since(store, since_ms)
        if kind == "offers":
            cut_short.append((made, pending))
        assert stray_holds(store) == [], "a killed round left a broken hold"
        if n == len(KILLS) - 1:  # the last time, nobody runs until every deadline passed
            time.sleep(OFFER_TTL_SECONDS + 0.2)
        server.start()
        calls = Calls(server.target)
        stored = all_orders(store)
        assert set(acked) <= set(stored), "an acknowledged order was lost"
        for order_id, offer_id in accepted.items():
            kept = stored[order_id]
            assert kept.state is OrderState.ACCEPTED, order_id
            assert kept.offer(offer_id).state is OfferState.ACCEPTED  # type: ignore[union-attr]
    assert all(0 < made < pending for made, pending in cut_short), cut_short

    # The last restart came after every deadline: its recovery alone (which runs at start-up,
    # beside the first calls) frees every volunteer the dead rounds held.
    began = time.monotonic()
    wait_until(
        lambda: not [o for o in all_orders(store).values() if o.open_offers],
        15,
        "the restarted server to expire the dead rounds' offers",
    )
    recovery = time.monotonic() - began
    assert stray_holds(store, int(time.time() * 1000)) == []
    stored = all_orders(store)
    assert not [o for o in stored.values() if o.open_offers], "an overdue offer is still open"
    holds = store.holds()
    assert sorted(h.hold_id for h in holds) == sorted(accepted.values())
    expired = {
        o.order_id: {m.volunteer_id for m in o.offers}
        for o in stored.values()
        if any(m.state is OfferState.EXPIRED for m in o.offers)
    }
    assert len(expired) >= sum(made for made, _ in cut_short[-1:])

    # The next round re-dispatches them, never to a volunteer who had them before.
    report = calls.round()
    assert report.orders_considered == ORDERS
    assert report.orders_unserved == 0
    for offer in report.offers:
        assert offer.volunteer_id not in expired.get(offer.order_id, set()), offer.offer_id
    assert stray_holds(store) == []  # (its first offers may be overdue already: TTL 2 s)
    calls.channel.close()
    print(
        f"{len(KILLS)} kills mid-round: offers made before each kill "
        f"{[made for made, _ in cut_short]} of {[p for _, p in cut_short]} pending; "
        f"{len(acked)} acknowledged orders and {len(accepted)} accepted offers all kept; "
        f"{len(expired)} orders re-dispatched after their offers expired; "
        f"restarts took {', '.join(f'{s:.1f}' for s in server.starts)} s, the last one's "
        f"recovery {recovery:.1f} s more"
    )
