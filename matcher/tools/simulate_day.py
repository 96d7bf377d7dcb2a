"""The event loop of a simulated day and how residents and volunteers act in it.

``SimulatedDay`` keeps a heap of timed actions on a ``SimClock`` that only it moves; each
action is one call to the real services over gRPC (``ServiceStubs``): a resident submits or
cancels an order, a dispatch round runs, a volunteer answers an offer or marks the service
done, a resident rates it. Reactions are drawn from the day's seeded generator with the
chances in ``DayConfig``, and scheduled as further actions.
"""

from __future__ import annotations

import heapq
import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import grpc
import numpy as np

from matcher.tools.synthetic import HOUR
from matcher.v1 import (
    match_pb2,
    orders_pb2,
    orders_pb2_grpc,
    timebank_pb2_grpc,
    volunteers_pb2_grpc,
)

MINUTE = 60


@dataclass(frozen=True)
class DayConfig:
    """The knobs of a simulated day."""

    seed: int = 20221
    orders: int = 300
    volunteers: int = 1500
    window_minutes: float = 5.0  # the batch window of dispatch rounds
    accept: float = 0.7  # chance a volunteer accepts an offer
    decline: float = 0.2  # chance they decline it (the rest let it expire)
    cancel: float = 0.03  # chance a resident cancels before the service
    rate: float = 0.85  # chance a resident rates a completed service


class SimClock:
    """Simulated time, seconds since the epoch; moved only by the simulation."""

    def __init__(self, now: float) -> None:
        self._now = now
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def set(self, now: float) -> None:
        with self._lock:
            self._now = max(self._now, now)


@dataclass(frozen=True)
class ServiceStubs:
    """The services a simulated day calls, over one channel."""

    orders: orders_pb2_grpc.OrderServiceStub
    dispatch: orders_pb2_grpc.DispatchServiceStub
    offers: orders_pb2_grpc.OfferServiceStub
    bank: timebank_pb2_grpc.TimeBankServiceStub
    volunteers: volunteers_pb2_grpc.VolunteerServiceStub

    @classmethod
    def over(cls, channel: grpc.Channel) -> ServiceStubs:
        """One stub per service, all on ``channel``."""
        return cls(
            orders_pb2_grpc.OrderServiceStub(channel),
            orders_pb2_grpc.DispatchServiceStub(channel),
            orders_pb2_grpc.OfferServiceStub(channel),
            timebank_pb2_grpc.TimeBankServiceStub(channel),
            volunteers_pb2_grpc.VolunteerServiceStub(channel),
        )


@dataclass
class SimulatedDay:
    """The event loop of one day: a heap of (time, sequence, action)."""

    stubs: ServiceStubs
    clock: SimClock
    config: DayConfig
    rng: np.random.Generator
    events: list[tuple[float, int, Callable[[], None]]] = field(default_factory=list)
    seen_offers: set[str] = field(default_factory=set)
    rounds: int = 0
    conflicts: int = 0
    _sequence: itertools.count[int] = field(default_factory=itertools.count)

    def at(self, when: float, action: Callable[[], None]) -> None:
        """Do ``action`` at simulated time ``when`` (ties: in the order scheduled)."""
        heapq.heappush(self.events, (when, next(self._sequence), action))

    def run(self) -> None:
        while self.events:
            when, _, action = heapq.heappop(self.events)
            self.clock.set(when)
            action()

    def submit(self, request: orders_pb2.SubmitOrderRequest) -> None:
        reply = self.stubs.orders.SubmitOrder(request, timeout=30)
        order = reply.order
        if request.request.urgency == match_pb2.URGENCY_URGENT:
            self.discover()  # its round ran inside SubmitOrder
        end = order.request.window.end.seconds
        self.at(end + self.rng.uniform(0, 20) * MINUTE, lambda: self.finish(order.order_id))
        if self.rng.random() < self.config.cancel:
            start = order.request.window.start.seconds
            when = self.rng.uniform(self.clock(), start)
            self.at(when, lambda: self.cancel(order.order_id))

    def dispatch_round(self) -> None:
        report = self.stubs.dispatch.RunDispatchRound(
            orders_pb2.RunDispatchRoundRequest(), timeout=60
        )
        self.rounds += 1
        self.conflicts += report.reservation_conflicts
        self.discover()

    def discover(self) -> None:
        """Find the offers made since the last look and schedule each volunteer's answer."""
        live = [orders_pb2.ORDER_STATE_PENDING, orders_pb2.ORDER_STATE_OFFERED]
        for order in all_orders(self.stubs.orders, live):
            for offer in order.offers:
                if offer.state != orders_pb2.OFFER_STATE_OPEN or offer.offer_id in self.seen_offers:
                    continue
                self.seen_offers.add(offer.offer_id)
                self._answer_later(offer.offer_id)

    def _answer_later(self, offer_id: str) -> None:
        draw = self.rng.random()
        delay = self.rng.uniform(0.5, 8.0) * MINUTE  # within the 10-minute deadline
        if draw < self.config.accept:
            self.at(self.clock() + delay, lambda: self.answer(offer_id, accept=True))
        elif draw < self.config.accept + self.config.decline:
            self.at(self.clock() + delay, lambda: self.answer(offer_id, accept=False))

    def answer(self, offer_id: str, *, accept: bool) -> None:
        try:
            if accept:
                self.stubs.offers.AcceptOffer(
                    orders_pb2.AcceptOfferRequest(offer_id=offer_id), timeout=30
                )
            else:
                self.stubs.offers.DeclineOffer(
                    orders_pb2.DeclineOfferRequest(offer_id=offer_id), timeout=30
                )
        except grpc.RpcError as error:  # cancelled or lapsed meanwhile: too late
            if error.code() != grpc.StatusCode.FAILED_PRECONDITION:
                raise

    def finish(self, order_id: str) -> None:
        """After the service: mark it done with the hours served, and maybe rate it later."""
        order = self.stubs.orders.GetOrder(
            orders_pb2.GetOrderRequest(order_id=order_id), timeout=30
        ).order
        if order.state != orders_pb2.ORDER_STATE_ACCEPTED:
            return
        window = order.request.window
        hours = max(0.25, round((window.end.seconds - window.start.seconds) / HOUR * 4) / 4)
        by = order.accepted_volunteer_ids[0]
        self.stubs.orders.CompleteOrder(
            orders_pb2.CompleteOrderRequest(
                order_id=order_id,
                hours_served=hours,
                actor=orders_pb2.ACTOR_VOLUNTEER,
                volunteer_id=by,
            ),
            timeout=30,
        )
        if self.rng.random() < self.config.rate:
            stars = int(self.rng.choice([5, 4, 3, 2, 1], p=[0.55, 0.3, 0.1, 0.04, 0.01]))
            later = self.clock() + self.rng.uniform(10, 180) * MINUTE
            self.at(later, lambda: self.rate(order_id, stars))

    def rate(self, order_id: str, stars: int) -> None:
        self.stubs.orders.RateOrder(
            orders_pb2.RateOrderRequest(order_id=order_id, stars=stars), timeout=30
        )

    def cancel(self, order_id: str) -> None:
        try:
            self.stubs.orders.CancelOrder(
                orders_pb2.CancelOrderRequest(
                    order_id=order_id, actor=orders_pb2.ACTOR_RESIDENT, reason="no longer needed"
                ),
                timeout=30,
            )
        except grpc.RpcError as error:  # already done or expired
            if error.code() != grpc.StatusCode.FAILED_PRECONDITION:
                raise


def all_orders(
    stub: orders_pb2_grpc.OrderServiceStub, states: list[orders_pb2.OrderState]
) -> list[orders_pb2.Order]:
    """Every order in ``states`` (every order when empty), page by page."""
    found: list[orders_pb2.Order] = []
    token = ""
    while True:
        page = stub.ListOrders(
            orders_pb2.ListOrdersRequest(states=states, page_size=1000, page_token=token),
            timeout=60,
        )
        found += page.orders
        token = page.next_page_token
        if not token:
            return found
