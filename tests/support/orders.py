"""Builders shared by the order tests: orders in readable units, order stores of both kinds
(Redis: a key prefix of the test's own, cleaned up), a manual clock, a real server with stubs
of every service, and a reader of a volunteer's offer stream."""

from __future__ import annotations

import itertools
import queue
import threading
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import grpc
import pytest

from matcher.config import Settings
from matcher.core.model import Urgency
from matcher.orders import lifecycle
from matcher.orders.model import Order, Resident, ServiceSpec
from matcher.orders.store.base import OrderStore
from matcher.orders.store.memory import MemoryOrderStore
from matcher.orders.store.redis import RedisOrderStore
from matcher.service.server import MatcherServer
from matcher.v1 import (
    match_pb2,
    orders_pb2,
    orders_pb2_grpc,
    timebank_pb2_grpc,
    volunteers_pb2,
    volunteers_pb2_grpc,
)
from tests.support.redis_db import on_store, private_prefix, shared_redis_or_skip
from tests.support.registry import QABQA
from tests.support.service import channel_to, serving
from tests.support.times import HOUR, T0

#: Offer states that hold the volunteer's time.
LIVE_OFFER_STATES = (orders_pb2.OFFER_STATE_OPEN, orders_pb2.OFFER_STATE_ACCEPTED)


def spec(
    start_h: float = 2,
    end_h: float = 3,
    *,
    skills: tuple[str, ...] = ("elderly_care",),
    urgency: Urgency = Urgency.ROUTINE,
    needed: int = 1,
    at: tuple[float, float] = QABQA,
) -> ServiceSpec:
    """A service at ``at`` from T0 + start_h hours to T0 + end_h hours."""
    return ServiceSpec(
        skills=skills,
        lat=at[0],
        lon=at[1],
        start=T0 + round(start_h * HOUR),
        end=T0 + round(end_h * HOUR),
        urgency=urgency,
        volunteers_needed=needed,
    )


def new_order(
    order_id: str = "ord-1",
    *,
    branch: str = "grid-1",
    service: ServiceSpec | None = None,
    now_ms: int = T0 * 1000,
) -> Order:
    """A freshly submitted (unstored) order."""
    return lifecycle.submit(
        order_id,
        branch,
        Resident("res-1", "138-0000-0000"),
        service or spec(),
        "fingerprint",
        now_ms,
    )


class ManualClock:
    """A clock tests move by hand (seconds since the epoch)."""

    def __init__(self, now: float = float(T0)) -> None:
        self._now = now
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += seconds

    def set(self, now: float) -> None:
        with self._lock:
            self._now = now


@contextmanager
def redis_order_store() -> Iterator[tuple[RedisOrderStore, str]]:
    """A ``RedisOrderStore`` on a private prefix (skips without Redis, fails under CI)."""
    client = shared_redis_or_skip()
    try:
        with private_prefix(client) as prefix:
            yield RedisOrderStore(client, prefix), prefix
    finally:
        client.close()


StoreFactory = Callable[[], OrderStore]


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def order_store(request: pytest.FixtureRequest) -> Iterator[OrderStore]:
    """An empty order store of each kind."""
    if request.param == "memory":
        yield MemoryOrderStore()
        return
    with redis_order_store() as (store, _):
        yield store


# --- a real server over gRPC ----------------------------------------------------------------

#: On-demand rounds only (the tests run them), short health interval, no metrics port.
ORDER_SETTINGS = Settings(
    port=0,
    workers=8,
    max_windows_per_volunteer=8,
    health_interval_seconds=0.2,
    metrics_port=-1,
    dispatch_window_seconds=0.0,
    offer_ttl_seconds=600.0,
)


@dataclass
class OrderSystem:
    """A running server, its clock and stubs of every service."""

    app: MatcherServer
    clock: ManualClock
    channel: grpc.Channel
    volunteers: volunteers_pb2_grpc.VolunteerServiceStub
    orders: orders_pb2_grpc.OrderServiceStub
    dispatch: orders_pb2_grpc.DispatchServiceStub
    offers: orders_pb2_grpc.OfferServiceStub
    bank: timebank_pb2_grpc.TimeBankServiceStub

    def register(self, *entries: volunteers_pb2.VolunteerUpsert) -> None:
        self.volunteers.UpsertVolunteers(
            volunteers_pb2.UpsertVolunteersRequest(volunteers=entries), timeout=10
        )

    def submit(self, key: str, **kw: Any) -> orders_pb2.Order:
        reply = self.orders.SubmitOrder(submit_request(key, **kw), timeout=10)
        return reply.order

    def round(self, **kw: Any) -> orders_pb2.RunDispatchRoundResponse:
        return self.dispatch.RunDispatchRound(orders_pb2.RunDispatchRoundRequest(**kw), timeout=30)

    def get(self, order_id: str) -> orders_pb2.Order:
        return self.orders.GetOrder(orders_pb2.GetOrderRequest(order_id=order_id), timeout=10).order

    def accept(self, offer_id: str) -> orders_pb2.AcceptOfferResponse:
        return self.offers.AcceptOffer(orders_pb2.AcceptOfferRequest(offer_id=offer_id), timeout=10)

    def decline(self, offer_id: str) -> orders_pb2.DeclineOfferResponse:
        return self.offers.DeclineOffer(
            orders_pb2.DeclineOfferRequest(offer_id=offer_id), timeout=10
        )

    def complete(self, order_id: str, hours: float, **kw: Any) -> orders_pb2.CompleteOrderResponse:
        kw.setdefault("actor", orders_pb2.ACTOR_CENTRE)
        request = orders_pb2.CompleteOrderRequest(order_id=order_id, hours_served=hours, **kw)
        return self.orders.CompleteOrder(request, timeout=10)

    def rate(self, order_id: str, stars: int, comment: str = "") -> orders_pb2.Order:
        request = orders_pb2.RateOrderRequest(order_id=order_id, stars=stars, comment=comment)
        return self.orders.RateOrder(request, timeout=10).order

    def volunteer(self, vid: str) -> volunteers_pb2.RegisteredVolunteer:
        request = volunteers_pb2.GetVolunteerRequest(volunteer_id=vid)
        return self.volunteers.GetVolunteer(request, timeout=10).volunteer


def submit_request(
    key: str,
    *,
    start_h: float = 2,
    end_h: float = 3,
    skills: tuple[str, ...] = ("elderly_care",),
    urgency: int = match_pb2.URGENCY_ROUTINE,
    needed: int = 1,
    at: tuple[float, float] = QABQA,
    branch: str = "grid-1",
    base: int = T0,
) -> orders_pb2.SubmitOrderRequest:
    """A valid submission: a service at ``at`` from base + start_h h to base + end_h h."""
    return orders_pb2.SubmitOrderRequest(
        request=match_pb2.ServiceRequest(
            required_skills=skills,
            location=match_pb2.GeoPoint(lat=at[0], lon=at[1]),
            window=match_pb2.TimeWindow(
                start={"seconds": base + round(start_h * HOUR)},
                end={"seconds": base + round(end_h * HOUR)},
            ),
            urgency=urgency,  # type: ignore[arg-type]
            volunteers_needed=needed,
        ),
        branch_id=branch,
        resident=orders_pb2.Resident(resident_id="res-1", contact="138-0000-0000"),
        idempotency_key=key,
    )


def system_over(app: MatcherServer, clock: ManualClock, channel: grpc.Channel) -> OrderSystem:
    return OrderSystem(
        app,
        clock,
        channel,
        volunteers_pb2_grpc.VolunteerServiceStub(channel),  # type: ignore[no-untyped-call]
        orders_pb2_grpc.OrderServiceStub(channel),  # type: ignore[no-untyped-call]
        orders_pb2_grpc.DispatchServiceStub(channel),  # type: ignore[no-untyped-call]
        orders_pb2_grpc.OfferServiceStub(channel),  # type: ignore[no-untyped-call]
        timebank_pb2_grpc.TimeBankServiceStub(channel),  # type: ignore[no-untyped-call]
    )


@contextmanager
def running_system(
    settings: Settings = ORDER_SETTINGS, clock: ManualClock | None = None
) -> Iterator[OrderSystem]:
    """A started server (its clock at T0 unless given) and stubs; stopped afterwards."""
    clock = clock or ManualClock()
    with serving(settings, clock=clock) as app, channel_to(app) as channel:
        yield system_over(app, clock, channel)


@contextmanager
def system_on(kind: str, settings: Settings = ORDER_SETTINGS) -> Iterator[OrderSystem]:
    """``running_system`` on the memory store or on a private Redis prefix."""
    with on_store(kind, settings) as chosen, running_system(chosen) as system:
        yield system


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def system(request: pytest.FixtureRequest) -> Iterator[OrderSystem]:
    """A running server on each store kind, clock at T0, rounds on demand."""
    with system_on(request.param) as running:
        yield running


#: What an offer stream delivered: (offer id, offer state), or the error that ended it.
Seen = tuple[str, int] | grpc.RpcError


@contextmanager
def watching(system: OrderSystem, vid: str) -> Iterator[queue.Queue[Seen]]:
    """``vid``'s WatchOffers stream read in a thread into a queue; cancelled afterwards (the
    CANCELLED that ends it then is not queued)."""
    got: queue.Queue[Seen] = queue.Queue()
    call = system.offers.WatchOffers(orders_pb2.WatchOffersRequest(volunteer_id=vid))

    def read() -> None:
        try:
            for message in call:
                got.put((message.offer.offer_id, message.offer.state))
        except grpc.RpcError as error:
            if error.code() != grpc.StatusCode.CANCELLED:
                got.put(error)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        yield got
    finally:
        call.cancel()
        reader.join(timeout=5)


def check_no_double_booking(orders: list[orders_pb2.Order]) -> int:
    """Assert every volunteer's live offers are disjoint in time and no order is over-offered;
    returns how many live offers there are."""
    booked: dict[str, list[tuple[int, int, str]]] = defaultdict(list)
    live = 0
    for order in orders:
        mine = [o for o in order.offers if o.state in LIVE_OFFER_STATES]
        assert len(mine) <= order.request.volunteers_needed, order.order_id
        assert len({o.volunteer_id for o in order.offers}) == len(order.offers), order.order_id
        window = order.request.window
        for offer in mine:
            booked[offer.volunteer_id].append(
                (window.start.seconds, window.end.seconds, offer.offer_id)
            )
            live += 1
    for vid, spans in booked.items():
        spans.sort()
        for (_, end, first), (start, _, second) in itertools.pairwise(spans):
            assert end <= start, f"{vid} double-booked: {first} and {second}"
    return live
