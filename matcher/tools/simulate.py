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

This module starts the server, registers the volunteers and plans the day; the event loop
and the actors' reactions are in ``simulate_day``. The report (``simulate_report``) is read
back from the services: orders by state, time from order to acceptance by urgency,
declines, expiries and re-dispatches, hours per branch.
"""

from __future__ import annotations

import functools
import sys
from typing import TextIO

import grpc
import numpy as np

from matcher.config import Settings
from matcher.core.model import RequestBatch, Urgency, VolunteerPool
from matcher.service.convert import pool_to_proto, requests_to_proto
from matcher.service.server import create_server
from matcher.tools.simulate_day import (
    MINUTE,
    DayConfig,
    ServiceStubs,
    SimClock,
    SimulatedDay,
    all_orders,
)
from matcher.tools.simulate_report import SimReport, print_report, summarise
from matcher.tools.synthetic import DEFAULT_DAY, HOUR, TOWNS, day_start, gonghe_day, nearest_town
from matcher.v1 import orders_pb2, timebank_pb2, volunteers_pb2

__all__ = ["DayConfig", "run_simulation"]

OFFER_TTL_SECONDS = 10 * MINUTE
OPEN_HOUR, CLOSE_HOUR = 6, 23


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
            stubs = ServiceStubs.over(channel)
            _register(stubs, pool)
            day = SimulatedDay(stubs, clock, config, np.random.default_rng(config.seed))
            _plan(day, requests, midnight)
            day.run()
            orders = all_orders(stubs.orders, [])
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


def _branch(town: int) -> str:
    return f"grid-{TOWNS[town].name_en.lower()}"


def _register(stubs: ServiceStubs, pool: VolunteerPool) -> None:
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


def _plan(day: SimulatedDay, requests: RequestBatch, midnight: int) -> None:
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
        day.at(when, functools.partial(day.submit, submission))
    step = day.config.window_minutes * MINUTE
    for when in np.arange(opens, closes + step, step).tolist():
        day.at(float(when), day.dispatch_round)
    day.at(midnight + 21 * HOUR, lambda: _redeem_some(day))


def _redeem_some(day: SimulatedDay) -> None:
    """A few volunteers with an hour or more spend one at the branch they served."""
    credited = all_orders(day.stubs.orders, [orders_pb2.ORDER_STATE_COMPLETED])
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
