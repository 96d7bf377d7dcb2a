"""Time-bank and registry consistency checks after a mixed load run.

* ``ledger``: from the store's ledger (read-only snapshot): the whole ledger and every
  transaction sum to zero; exactly one ``earn:<order>`` transaction per COMPLETED or RATED
  order and none for any other, crediting each accepted volunteer the minutes served and
  debiting the order's branch the total; one redemption transaction per acknowledged
  redemption.
* ``balances``: through the API: each volunteer's earned minutes equal the minutes of the
  completed orders they served, redeemed minutes what was redeemed, balance the difference;
  the head bank's roll-up equals the sums over the orders (when the run owns the store).
* ``registry``: through the API: each volunteer's ``recent_hours`` and ``rating_count`` grew
  by exactly the hours and ratings of the orders they served, and their availability no
  longer contains the time of any order they accepted.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping

from benchmarks.mixed.calls import Records
from benchmarks.mixed.consistency import C, R, booked_times
from benchmarks.mixed.server_proc import StoreSnapshot
from matcher.v1 import orders_pb2, timebank_pb2, volunteers_pb2

EARNED, REDEEMED = 1, 2


def served_minutes(orders: list[orders_pb2.Order]) -> Counter[str]:
    """Volunteer -> minutes earned by the COMPLETED and RATED orders they served."""
    earned: Counter[str] = Counter()
    for order in orders:
        if order.state in (C, R):
            for vid in order.accepted_volunteer_ids:
                earned[vid] += round(order.hours_served * 60)
    return earned


def ledger(orders: list[orders_pb2.Order], snap: StoreSnapshot, records: Records) -> list[str]:
    out = []
    total = sum(e[4] for e in snap.entries)
    if total != 0:
        out.append(f"the ledger sums to {total} minutes, not 0")
    legs: dict[str, list[tuple[int, str, int, str, str]]] = defaultdict(list)
    for _seq, txn, kind, account, minutes, branch, order_id in snap.entries:
        legs[txn].append((kind, account, minutes, branch, order_id))
    for txn, parts in legs.items():
        if sum(p[2] for p in parts) != 0:
            out.append(f"transaction {txn} sums to {sum(p[2] for p in parts)} minutes")
    done = {o.order_id: o for o in orders if o.state in (C, R)}
    earn_ids = {txn.removeprefix("earn:") for txn in legs if txn.startswith("earn:")}
    out += [f"order {i} is done but never credited" for i in sorted(set(done) - earn_ids)]
    out += [f"order {i} credited but not done" for i in sorted(earn_ids - set(done))]
    for order_id in sorted(earn_ids & set(done)):
        order = done[order_id]
        minutes = round(order.hours_served * 60)
        want = Counter({f"volunteer:{v}": minutes for v in order.accepted_volunteer_ids})
        want[f"branch:{order.branch_id}"] -= minutes * len(order.accepted_volunteer_ids)
        got = Counter({p[1]: 0 for p in legs[f"earn:{order_id}"]})
        for p in legs[f"earn:{order_id}"]:
            got[p[1]] += p[2]
        if got != want or len(legs[f"earn:{order_id}"]) != len(want):
            out.append(f"earn:{order_id} posted {dict(got)}, expected {dict(want)}")
    redemptions = [t for t in legs if t.startswith("redeem:")]
    if len(redemptions) != len(records.redeemed):
        out.append(f"{len(redemptions)} redemptions posted, {len(records.redeemed)} acknowledged")
    out += [
        f"redemption key {k} posted {n} times" for k, n in records.redeem_posts.items() if n > 1
    ]
    return out


def balances(
    orders: list[orders_pb2.Order],
    got: Mapping[str, timebank_pb2.GetBalanceResponse],
    records: Records,
    summary: timebank_pb2.GetBranchSummaryResponse | None,
) -> list[str]:
    out = []
    earned = served_minutes(orders)
    for vid, reply in sorted(got.items()):
        spent = records.redeemed_by[vid]
        if (reply.earned_minutes, reply.redeemed_minutes) != (earned[vid], spent):
            out.append(
                f"volunteer {vid}: earned {reply.earned_minutes} / redeemed "
                f"{reply.redeemed_minutes} min, orders say {earned[vid]} / {spent}"
            )
        if reply.balance_minutes != reply.earned_minutes - reply.redeemed_minutes:
            out.append(f"volunteer {vid}: balance {reply.balance_minutes} != earned - redeemed")
    if summary is not None:
        total = summary.total
        done = [o for o in orders if o.state in (C, R)]
        want = (sum(earned.values()), sum(records.redeemed.values()), len(done))
        have = (total.earned_minutes, total.redeemed_minutes, total.completed_orders)
        if have != want:
            out.append(f"head bank (earned, redeemed, completed) {have}, orders say {want}")
        rows = (
            sum(b.earned_minutes for b in summary.branches),
            sum(b.redeemed_minutes for b in summary.branches),
            sum(b.completed_orders for b in summary.branches),
        )
        if rows != have:
            out.append(f"branch rows sum to {rows}, the head bank says {have}")
    return out


def registry(
    orders: list[orders_pb2.Order],
    profiles: Mapping[str, volunteers_pb2.RegisteredVolunteer],
    initial: Mapping[str, tuple[float, int]],
) -> list[str]:
    out = []
    hours: Counter[str] = Counter()
    ratings: Counter[str] = Counter()
    for order in orders:
        if order.state in (C, R):
            for vid in order.accepted_volunteer_ids:
                hours[vid] += round(order.hours_served * 60)
                ratings[vid] += int(order.state == R)
    booked = booked_times(orders)
    for vid, record in sorted(profiles.items()):
        v = record.volunteer
        start_hours, start_count = initial.get(vid, (0.0, 0))
        if abs(v.recent_hours - (start_hours + hours[vid] / 60)) > 1e-6:
            out.append(
                f"volunteer {vid}: recent_hours {v.recent_hours:g}, expected "
                f"{start_hours:g} + {hours[vid] / 60:g}"
            )
        if v.rating_count != start_count + ratings[vid]:
            out.append(
                f"volunteer {vid}: rating_count {v.rating_count}, expected "
                f"{start_count} + {ratings[vid]}"
            )
        windows = [(w.start.seconds, w.end.seconds) for w in v.availability]
        for start, end, order_id in booked.get(vid, []):
            if any(ws < end and start < we for ws, we in windows):
                out.append(f"volunteer {vid}: still available during accepted order {order_id}")
    return out
