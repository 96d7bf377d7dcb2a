"""After the load: read everything back from the server (orders, volunteers, balances), run
every check on it and on the store snapshot, probe access control in a keyed run and the
rate limit in a limited one; and, from a run's results, the list of why it failed.

Each check's verdict says whether it ran (some need the store: a run against ``--target``
without its Redis cannot read holds or the ledger), whether it passed, and its first
violations (``consistency.MAX_LISTED``)."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import grpc

from benchmarks.mixed import consistency, ledger_checks, probes
from benchmarks.mixed.calls import Metadata
from benchmarks.mixed.context import Context
from benchmarks.mixed.server_proc import StoreSnapshot
from matcher.access.rate_limit import burst_for
from matcher.v1 import orders_pb2, timebank_pb2, volunteers_pb2, volunteers_pb2_grpc

Checks = dict[str, Any]


def audit(
    channel: grpc.Channel,
    ctx: Context,
    snap: StoreSnapshot | None,
    figures: dict[str, Any],
    *,
    whole_store: bool,
    rate_limit: float,
    progress: Callable[[str], None],
) -> tuple[Checks, dict[str, Any]]:
    """Every check's verdict, and the work the run did (orders by state, offers, rounds)."""
    orders = _all_orders(ctx, ctx.keys.roles["checker"])
    checks = _check(channel, ctx, orders, snap, whole_store=whole_store)
    if ctx.keys.keyed:
        progress("probing access control")
        made, found = probes.access_enforced(channel, ctx, orders)
        checks["access_enforced"] = {**_verdict(found), "probes": made}
    if rate_limit:
        checks["rate_limit"] = _verdict(_rate_limit_held(rate_limit, ctx, figures))
    return checks, _work(orders, ctx)


def failures(results: dict[str, Any]) -> list[str]:
    """Why the run failed: unexpected errors, client crashes, consistency violations."""
    out = [f"client crashed: {c}" for c in results["client_crashes"]]
    for method, row in results["rpcs"].items():
        for code, n in row["unexpected"].items():
            out.append(f"{method}: {n} unexpected {code} ({'; '.join(row['samples'][:2])})")
    for name, found in results["checks"].items():
        out += [f"{name}: {v}" for v in found["violations"]]
    return out


def _verdict(found: list[str] | None) -> dict[str, Any]:
    return {
        "ran": found is not None,
        "passed": not found,
        "violation_count": len(found or []),
        "violations": (found or [])[: consistency.MAX_LISTED],
    }


def _rate_limit_held(rate: float, ctx: Context, figures: dict[str, Any]) -> list[str]:
    """The limit was hit at least once, and no key got more calls through than a bucket of
    ``ceil(rate)`` tokens refilling at ``rate`` allows over the load (plus a second's slack
    for the clocks; MATCHER_RATE_LIMIT_BURST is left at its default)."""
    found = []
    if not figures["overall"]["rate_limited"]:
        found.append(f"no call was refused over {rate:g}/s: raise the load or lower the rate")
    allowed = rate * (figures["elapsed_s"] + 1.0) + burst_for(rate, 0)
    names = {md: key_id for key_id, md in ctx.keys.residents.values()}
    names |= {md: f"volunteer {vid}'s key" for vid, md in ctx.keys.volunteers.items()}
    for md, n in ctx.stats.admitted.most_common():
        if n <= allowed:
            break
        who = names.get(md) or next((r for r, m in ctx.keys.roles.items() if m == md), "a key")
        found.append(f"{who}: {n} calls admitted, more than {allowed:.0f} at {rate:g}/s")
    return found


def _check(
    channel: grpc.Channel,
    ctx: Context,
    orders: list[orders_pb2.Order],
    snap: StoreSnapshot | None,
    *,
    whole_store: bool,
) -> Checks:
    md = ctx.keys.roles["checker"]
    by_id = {o.order_id: o for o in orders}
    now_ms = snap.now_ms if snap else int(time.time() * 1000)
    profiles = _profiles(channel, ctx.workload.tag, md)
    earned = ledger_checks.served_minutes(orders)
    involved = sorted(set(earned) | set(ctx.records.redeemed_by))
    got = {
        v: ctx.bank.GetBalance(
            timebank_pb2.GetBalanceRequest(volunteer_id=v), timeout=30, metadata=md
        )
        for v in involved
    }
    summary = (
        ctx.bank.GetBranchSummary(timebank_pb2.GetBranchSummaryRequest(), timeout=30, metadata=md)
        if whole_store
        else None
    )
    found: dict[str, list[str] | None] = {
        "orders_and_history": consistency.orders_and_history(orders),
        "acknowledged": consistency.acknowledged(by_id, ctx.records, whole_store=whole_store),
        "no_double_booking": consistency.no_double_booking(orders, now_ms),
        "holds": consistency.holds(orders, snap) if snap else None,
        "ledger": ledger_checks.ledger(orders, snap, ctx.records) if snap else None,
        "balances": ledger_checks.balances(orders, got, ctx.records, summary),
        "registry": ledger_checks.registry(orders, profiles, ctx.workload.initial()),
    }
    return {name: _verdict(v) for name, v in found.items()}


def _all_orders(ctx: Context, md: Metadata) -> list[orders_pb2.Order]:
    found: list[orders_pb2.Order] = []
    token = ""
    while True:
        page = ctx.orders.ListOrders(
            orders_pb2.ListOrdersRequest(page_size=1000, page_token=token), timeout=120, metadata=md
        )
        found += page.orders
        token = page.next_page_token
        if not token:
            return found


def _profiles(
    channel: grpc.Channel, tag: str, md: Metadata
) -> dict[str, volunteers_pb2.RegisteredVolunteer]:
    stub = volunteers_pb2_grpc.VolunteerServiceStub(channel)  # type: ignore[no-untyped-call]
    found: dict[str, volunteers_pb2.RegisteredVolunteer] = {}
    token = ""
    while True:
        request = volunteers_pb2.ListVolunteersRequest(
            page_size=1000, page_token=token, include_inactive=True
        )
        page = stub.ListVolunteers(request, timeout=120, metadata=md)
        found |= {v.volunteer.id: v for v in page.volunteers if v.volunteer.id.startswith(tag)}
        token = page.next_page_token
        if not token:
            return found


def _work(orders: list[orders_pb2.Order], ctx: Context) -> dict[str, Any]:
    states = Counter(orders_pb2.OrderState.Name(o.state) for o in orders)
    offers = Counter(orders_pb2.OfferState.Name(x.state) for o in orders for x in o.offers)
    r = ctx.records
    return {
        "orders": len(orders),
        "orders_by_state": dict(sorted(states.items())),
        "offers_by_state": dict(sorted(offers.items())),
        "submissions": len(r.submissions),
        "acknowledged_submissions": sum(1 for s in r.submissions.values() if s.acknowledged),
        "accepted_offers": len(r.accepted),
        "declined_offers": len(r.declined),
        "completed_orders": len(r.completed),
        "rated_orders": len(r.rated),
        "cancelled_orders": len(r.cancelled),
        "redemptions": len(r.redeemed),
        "client_rounds": r.rounds,
        "client_round_offers": r.round_offers,
        "reservation_conflicts": r.round_conflicts,
    }
