"""``matcher simulate``: a seeded day at the centre, through the real services over gRPC.

群众点单、中心派单、志愿者接单、群众评单, on the embedded in-memory store: the Gonghe volunteers
of ``synthetic.gonghe_day`` are registered (each in the branch of their nearest town), then
one simulated day runs on a clock the simulation moves, so a whole day takes seconds:

* residents place the day's orders ahead of their time (urgent ones shortly before), each
  in the branch of its town; a few cancel later;
* a dispatch round runs every batch window; an urgent order is dispatched as it arrives;
* each volunteer offered an order accepts or declines after a few minutes, or lets the offer
  expire (the next round re-dispatches it to someone else);
* after the service the volunteer marks it done with the hours served (credited in the time
  bank), most residents rate it, and a few volunteers redeem hours in the evening.

The report (``simulate_report``) is read back from the services: orders by state, time from
order to acceptance by urgency, declines, expiries and re-dispatches, hours per branch.
"""

from __future__ import annotations

import heapq
import itertools
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TextIO

import grpc
import numpy as np

from matcher.config import Settings
from matcher.core.model import RequestBatch, Urgency, VolunteerPool
from matcher.service.convert import pool_to_proto, requests_to_proto
from matcher.service.server import create_server
from matcher.tools.simulate_report import SimReport, print_report, summarise
from matcher.tools.synthetic import DEFAULT_DAY, HOUR, TOWNS, day_start, gonghe_day, nearest_town
from matcher.v1 import (
    match_pb2,
    orders_pb2,
    orders_pb2_grpc,
    timebank_pb2,
    timebank_pb2_grpc,
    volunteers_pb2,
    volunteers_pb2_grpc,
)

MINUTE = 60
OFFER_TTL_SECONDS = 10 * MINUTE
OPEN_HOUR, CLOSE_HOUR = 6, 23


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


@dataclass
class _Stubs:
    orders: orders_pb2_grpc.OrderServiceStub
    dispatch: orders_pb2_grpc.DispatchServiceStub
    offers: orders_pb2_grpc.OfferServiceStub
    bank: timebank_pb2_grpc.TimeBankServiceStub
    volunteers: volunteers_pb2_grpc.VolunteerServiceStub


@dataclass
class _Day:
    """The event loop of one day: a heap of (time, sequence, action)."""

    stubs: _Stubs
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
        for order in _all_orders(self.stubs.orders, live):
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


def run_simulation(config: DayConfig, out: TextIO | None = None) -> SimReport:
    """Run one simulated day over gRPC on the in-memory store; print and return the report."""
    requests, pool = gonghe_day(config.seed, config.orders, config.volunteers)
    midnight = day_start(DEFAULT_DAY)
    clock = SimClock(midnight + OPEN_HOUR * HOUR)
    settings = Settings().with_overrides(
        port=0,
        metrics_port=-1,
        dispatch_window_seconds=0.0,  # the simulation runs the rounds on its own clock
        offer_ttl_seconds=float(OFFER_TTL_SECONDS),
    )
    app = create_server(settings, clock=clock)
    app.start()
    try:
        with grpc.insecure_channel(f"127.0.0.1:{app.port}") as channel:
            stubs = _stubs(channel)
            _register(stubs, pool)
            day = _Day(stubs, clock, config, np.random.default_rng(config.seed))
            _plan(day, requests, midnight)
            day.run()
            orders = _all_orders(stubs.orders, [])
            summary = stubs.bank.GetBranchSummary(
                timebank_pb2.GetBranchSummaryRequest(), timeout=30
            )
        assert app.orders is not None
        ledger_sum = sum(e.minutes for e in app.orders.store.entries())
    finally:
        app.stop()
    report = summarise(
        config.seed, len(pool), orders, summary, day.rounds, day.conflicts, ledger_sum
    )
    print_report(report, out or sys.stdout)
    return report


def _stubs(channel: grpc.Channel) -> _Stubs:
    return _Stubs(
        orders_pb2_grpc.OrderServiceStub(channel),  # type: ignore[no-untyped-call]
        orders_pb2_grpc.DispatchServiceStub(channel),  # type: ignore[no-untyped-call]
        orders_pb2_grpc.OfferServiceStub(channel),  # type: ignore[no-untyped-call]
        timebank_pb2_grpc.TimeBankServiceStub(channel),  # type: ignore[no-untyped-call]
        volunteers_pb2_grpc.VolunteerServiceStub(channel),  # type: ignore[no-untyped-call]
    )


def _branch(town: int) -> str:
    return f"grid-{TOWNS[town].name_en.lower()}"


def _register(stubs: _Stubs, pool: VolunteerPool) -> None:
    """Register every volunteer in the branch of the town nearest their home."""
    towns = nearest_town(pool.lat, pool.lon).tolist()
    entries = [
        volunteers_pb2.VolunteerUpsert(volunteer=v, branch_id=_branch(t))
        for v, t in zip(pool_to_proto(pool), towns, strict=True)
    ]
    for start in range(0, len(entries), 5000):
        stubs.volunteers.UpsertVolunteers(
            volunteers_pb2.UpsertVolunteersRequest(volunteers=entries[start : start + 5000]),
            timeout=120,
        )


def _plan(day: _Day, requests: RequestBatch, midnight: int) -> None:
    """Schedule the residents' submissions, the rounds and the evening's redemptions."""
    rng = day.rng
    opens, closes = midnight + OPEN_HOUR * HOUR, midnight + CLOSE_HOUR * HOUR
    towns = nearest_town(requests.lat, requests.lon).tolist()
    for i, (service, urgency, town) in enumerate(
        zip(requests_to_proto(requests), requests.urgency.tolist(), towns, strict=True)
    ):
        start = int(requests.start[i])
        if urgency == Urgency.URGENT:
            lead = rng.uniform(15, 60) * MINUTE
        else:
            lead = rng.uniform(1, 8) * HOUR
        when = max(float(opens), min(start - lead, start - 15.0 * MINUTE))
        submission = orders_pb2.SubmitOrderRequest(
            request=service,
            branch_id=_branch(town),
            resident=orders_pb2.Resident(resident_id=f"res-{i:05d}", contact=f"tel-{i:05d}"),
            idempotency_key=f"day-{day.config.seed}-order-{i}",
        )
        day.at(when, lambda s=submission: day.submit(s))  # type: ignore[misc]
    step = day.config.window_minutes * MINUTE
    for when in np.arange(opens, closes + step, step).tolist():
        day.at(float(when), day.dispatch_round)
    day.at(midnight + 21 * HOUR, lambda: _redeem_some(day))


def _redeem_some(day: _Day) -> None:
    """A few volunteers with an hour or more spend one at the branch they served."""
    credited = _all_orders(day.stubs.orders, [orders_pb2.ORDER_STATE_COMPLETED])
    branch_of = {v: o.branch_id for o in credited for v in o.accepted_volunteer_ids}
    for vid in sorted(branch_of)[: max(1, len(branch_of) // 10)]:
        balance = day.stubs.bank.GetBalance(
            timebank_pb2.GetBalanceRequest(volunteer_id=vid), timeout=30
        )
        if balance.balance_minutes >= 60:
            day.stubs.bank.RedeemHours(
                timebank_pb2.RedeemHoursRequest(
                    volunteer_id=vid,
                    hours=1.0,
                    reason="haircut at the centre",
                    branch_id=branch_of[vid],
                    idempotency_key=f"evening-{vid}",
                ),
                timeout=30,
            )


def _all_orders(
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
