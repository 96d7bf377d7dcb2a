"""The figures of a simulated day, read from the orders' own histories, and how they print.

Everything comes from what the services returned at the end of the day (each order with
its offers and history, the time bank's branch roll-up), so the report checks the services
rather than the simulator's intentions.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TextIO

import numpy as np

from matcher.v1 import match_pb2, orders_pb2, timebank_pb2

URGENCY_NAMES: dict[int, str] = {
    int(match_pb2.URGENCY_URGENT): "urgent",
    int(match_pb2.URGENCY_DIFFICULT): "difficult",
    int(match_pb2.URGENCY_ROUTINE): "routine",
}


@dataclass(frozen=True)
class TierWait:
    """How long one urgency tier's orders waited from submission to acceptance."""

    tier: str
    orders: int
    accepted: int
    median_minutes: float  # NaN when none was accepted
    p90_minutes: float


@dataclass(frozen=True)
class SimReport:
    """What happened in a simulated day."""

    seed: int
    volunteers: int
    orders: int
    by_state: dict[str, int]
    waits: tuple[TierWait, ...]
    offers: int
    accepted_offers: int
    declined_offers: int
    expired_offers: int
    withdrawn_offers: int
    redispatched_orders: int  # orders offered again after a decline or an expiry
    redispatches: int  # offers made after an earlier offer of the same order failed
    rounds: int
    reservation_conflicts: int
    hours_by_branch: dict[str, tuple[float, float]]  # branch -> (earned, redeemed) hours
    hours_total: float
    redeemed_hours: float
    ledger_sum_minutes: int  # must be 0: every transaction balances


def summarise(
    seed: int,
    volunteers: int,
    orders: Sequence[orders_pb2.Order],
    summary: timebank_pb2.GetBranchSummaryResponse,
    rounds: int,
    conflicts: int,
    ledger_sum_minutes: int,
) -> SimReport:
    """The report of a day from the final orders and the time bank's roll-up."""
    offers = [o for order in orders for o in order.offers]
    states = Counter(o.state for o in offers)
    again = [_redispatches(order) for order in orders]
    return SimReport(
        seed=seed,
        volunteers=volunteers,
        orders=len(orders),
        by_state=dict(
            sorted(
                Counter(
                    orders_pb2.OrderState.Name(o.state).removeprefix("ORDER_STATE_").lower()
                    for o in orders
                ).items()
            )
        ),
        waits=tuple(_waits(orders, u) for u in URGENCY_NAMES),
        offers=len(offers),
        accepted_offers=states[orders_pb2.OFFER_STATE_ACCEPTED],
        declined_offers=states[orders_pb2.OFFER_STATE_DECLINED],
        expired_offers=states[orders_pb2.OFFER_STATE_EXPIRED],
        withdrawn_offers=states[orders_pb2.OFFER_STATE_WITHDRAWN],
        redispatched_orders=sum(1 for n in again if n),
        redispatches=sum(again),
        rounds=rounds,
        reservation_conflicts=conflicts,
        hours_by_branch={
            b.branch_id or "(head)": (b.earned_minutes / 60, b.redeemed_minutes / 60)
            for b in summary.branches
        },
        hours_total=summary.total.earned_minutes / 60,
        redeemed_hours=summary.total.redeemed_minutes / 60,
        ledger_sum_minutes=ledger_sum_minutes,
    )


def _redispatches(order: orders_pb2.Order) -> int:
    """Offers of ``order`` made after one of its earlier offers was declined or expired."""
    failed = [
        o.decide_time.ToMilliseconds()
        for o in order.offers
        if o.state in (orders_pb2.OFFER_STATE_DECLINED, orders_pb2.OFFER_STATE_EXPIRED)
    ]
    if not failed:
        return 0
    first = min(failed)
    return sum(1 for o in order.offers if o.create_time.ToMilliseconds() >= first)


def _waits(orders: Sequence[orders_pb2.Order], urgency: int) -> TierWait:
    tier = [o for o in orders if (o.request.urgency or match_pb2.URGENCY_ROUTINE) == urgency]
    minutes = []
    for order in tier:
        accepted = [
            e.time.ToMilliseconds()
            for e in order.history
            if e.event == "accepted" and e.to_state == orders_pb2.ORDER_STATE_ACCEPTED
        ]
        if accepted:
            minutes.append((accepted[0] - order.create_time.ToMilliseconds()) / 60_000)
    if not minutes:
        return TierWait(URGENCY_NAMES[urgency], len(tier), 0, float("nan"), float("nan"))
    values = np.array(minutes)
    return TierWait(
        URGENCY_NAMES[urgency],
        len(tier),
        len(minutes),
        float(np.median(values)),
        float(np.percentile(values, 90)),
    )


def print_report(report: SimReport, out: TextIO) -> None:
    """The day's report as text tables."""
    lines = [
        f"A day at the centre (seed {report.seed}): {report.orders} orders, "
        f"{report.volunteers} volunteers, {report.rounds} dispatch rounds",
        "",
        "Orders by state at the end of the day",
        *(f"  {state:<10} {count:>6}" for state, count in report.by_state.items()),
        "",
        "Time from order to acceptance, minutes (urgent 急事快办, difficult 难事帮办, "
        "routine 有事即办)",
        f"  {'tier':<20} {'orders':>7} {'accepted':>9} {'median':>8} {'p90':>8}",
        *(
            f"  {w.tier:<20} {w.orders:>7} {w.accepted:>9} "
            f"{w.median_minutes:>8.1f} {w.p90_minutes:>8.1f}"
            for w in report.waits
        ),
        "",
        "Offers (接单)",
        f"  made {report.offers}, accepted {report.accepted_offers}, declined "
        f"{report.declined_offers}, expired {report.expired_offers}, withdrawn "
        f"{report.withdrawn_offers}",
        f"  re-dispatched orders {report.redispatched_orders} "
        f"({report.redispatches} offers after a decline or an expiry)",
        f"  reservations refused (time already held) {report.reservation_conflicts}",
        "",
        "Time bank (时间银行): hours per branch (网格分行); the head bank (总行) rolls them up",
        f"  {'branch':<18} {'credited':>9} {'redeemed':>9}",
        *(
            f"  {branch:<18} {earned:>9.2f} {spent:>9.2f}"
            for branch, (earned, spent) in report.hours_by_branch.items()
        ),
        f"  {'head bank (total)':<18} {report.hours_total:>9.2f} {report.redeemed_hours:>9.2f}",
        f"  ledger sum {report.ledger_sum_minutes} minutes (balanced: "
        f"{'yes' if report.ledger_sum_minutes == 0 else 'NO'})",
    ]
    out.write("\n".join(lines) + "\n")
