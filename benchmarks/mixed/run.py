"""One mixed load run: server, data, clients for a fixed time, then the consistency checks.

``run_mixed_load(config)`` returns a JSON-ready dict: the configuration, the machine, per-rpc
figures (calls, calls/s, p50/p99 latency, errors by code, expected or not), what work was
done (orders by state, rounds, offers), CPU used by the clients and the server, and every
check's violations. ``failures(results)`` lists why a run failed (empty: it passed).
"""

from __future__ import annotations

import datetime as dt
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import grpc
import redis

from benchmarks.machine import machine_info
from benchmarks.mixed import consistency, ledger_checks
from benchmarks.mixed.calls import CallStats, Inbox, Metadata, Records
from benchmarks.mixed.context import Context
from benchmarks.mixed.roles import assign_roles, run_role
from benchmarks.mixed.server_proc import ChildServer, StoreSnapshot, snapshot
from benchmarks.mixed.workload import Workload, build_workload
from benchmarks.timing import summarize
from matcher.config import Settings
from matcher.v1 import orders_pb2, timebank_pb2, volunteers_pb2, volunteers_pb2_grpc

ROLE_NAMES = ("resident", "volunteer", "centre", "dispatcher", "matcher")
MAX_MESSAGE = 64 * 1024 * 1024
Progress = Callable[[str], None]


@dataclass(frozen=True)
class LoadConfig:
    seconds: float = 60.0
    clients: int = 32
    store: str = "memory"  # the own server's store, or (with target) one to read holds from
    target: str | None = None  # HOST:PORT of a running server; None: start one
    store_prefix: str = "matcher"  # with target and a Redis store: the server's key prefix
    seed: int = 20221
    volunteers: int = 2000
    templates: int = 20_000
    workers: int = 8
    offer_ttl_seconds: float = 4.0
    dispatch_window_seconds: float = 2.0
    api_keys: dict[str, str] = field(default_factory=dict)  # role ("*": every role) -> key
    api_key_header: str = "authorization"
    keep_data: bool = False


def role_metadata(config: LoadConfig) -> dict[str, Metadata]:
    """Call metadata per role: ``authorization: Bearer <key>`` (or the key as is under
    another header), from the role's key or the ``*`` key; none in the open mode."""
    out: dict[str, Metadata] = {}
    for role in ROLE_NAMES:
        key = config.api_keys.get(role) or config.api_keys.get("*")
        if not key:
            out[role] = ()
        elif config.api_key_header.lower() == "authorization":
            out[role] = (("authorization", f"Bearer {key}"),)
        else:
            out[role] = ((config.api_key_header.lower(), key),)
    return out


def run_mixed_load(config: LoadConfig, progress: Progress = lambda _: None) -> dict[str, Any]:
    tag = "lt" + uuid.uuid4().hex[:8]
    started_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    progress(f"data: {config.volunteers:,} volunteers, {config.templates:,} order templates")
    workload = build_workload(config.seed, config.volunteers, config.templates, tag, time.time())
    prefix = f"loadtest-{tag}"
    child = None if config.target else ChildServer(_settings(config, prefix))
    target = config.target or f"127.0.0.1:{child.port}"  # type: ignore[union-attr]
    options = [("grpc.max_receive_message_length", MAX_MESSAGE)]
    try:
        with grpc.insecure_channel(target, options=options) as channel:
            grpc.channel_ready_future(channel).result(timeout=30)
            keys = role_metadata(config)
            progress(f"register {len(workload.volunteers):,} volunteers on {target}")
            _register(channel, workload, keys["centre"])
            ctx = Context(
                channel,
                workload,
                CallStats(),
                Records(),
                Inbox(),
                threading.Event(),
                keys,
                config.seed,
            )
            roles = assign_roles(config.clients)
            progress(f"{config.clients} clients ({dict(Counter(roles))}) for {config.seconds:g} s")
            figures = _drive(ctx, roles, config.seconds, child)
            progress("load stopped; checking consistency")
            snap = _snapshot(config, child, prefix)
            checks, work = _check(channel, ctx, snap, keys, whole_store=child is not None)
    finally:
        if child is not None:
            child.stop()
            if config.store != "memory" and not config.keep_data:
                _delete_prefix(config.store, prefix)
    return {
        "benchmark": "mixed load (issue #7)",
        "started_at": started_at,
        "config": {**asdict(config), "api_keys": sorted(config.api_keys)},
        "tag": tag,
        "server": "child process on loopback" if child else config.target,
        "redis_prefix": prefix if child and config.store != "memory" else None,
        "machine": machine_info(),
        "roles": dict(Counter(roles)),
        **figures,
        "work": work,
        "client_crashes": list(ctx.crashes),
        "checks": checks,
    }


def failures(results: dict[str, Any]) -> list[str]:
    """Why the run failed: unexpected errors, client crashes, consistency violations."""
    out = [f"client crashed: {c}" for c in results["client_crashes"]]
    for method, row in results["rpcs"].items():
        for code, n in row["unexpected"].items():
            out.append(f"{method}: {n} unexpected {code} ({'; '.join(row['samples'][:2])})")
    for name, found in results["checks"].items():
        out += [f"{name}: {v}" for v in found["violations"]]
    return out


def _settings(config: LoadConfig, prefix: str) -> Settings:
    return Settings(
        host="127.0.0.1",
        port=0,
        workers=config.workers,
        metrics_port=-1,
        log_level="WARNING",
        store=config.store,
        redis_prefix=prefix,
        health_interval_seconds=1.0,
        dispatch_window_seconds=config.dispatch_window_seconds,
        offer_ttl_seconds=config.offer_ttl_seconds,
    )


def _register(channel: grpc.Channel, workload: Workload, md: Metadata) -> None:
    stub = volunteers_pb2_grpc.VolunteerServiceStub(channel)  # type: ignore[no-untyped-call]
    for start in range(0, len(workload.volunteers), 2000):
        chunk = workload.volunteers[start : start + 2000]
        stub.UpsertVolunteers(
            volunteers_pb2.UpsertVolunteersRequest(volunteers=chunk), timeout=120, metadata=md
        )


def _drive(
    ctx: Context, roles: list[str], seconds: float, child: ChildServer | None
) -> dict[str, Any]:
    threads = [
        threading.Thread(target=run_role, args=(ctx, role, k), name=f"load-{role}-{k}", daemon=True)
        for k, role in enumerate(roles)
    ]
    server_cpu0 = child.ask("cpu") if child else None
    client_cpu0, started = time.process_time(), time.perf_counter()
    for thread in threads:
        thread.start()
    ctx.stop.wait(seconds)
    ctx.stop.set()
    for thread in threads:
        thread.join(timeout=180)
    elapsed = time.perf_counter() - started
    client_cpu = time.process_time() - client_cpu0
    server_cpu = child.ask("cpu") - server_cpu0 if child and server_cpu0 is not None else None
    rpcs: dict[str, dict[str, Any]] = {}
    every: list[float] = []
    for method, f in sorted(ctx.stats.methods.items()):
        every += f.latencies_ms
        rpcs[method] = {
            "calls": len(f.latencies_ms),
            "calls_per_s": len(f.latencies_ms) / elapsed,
            "latency_ms": summarize(f.latencies_ms, keep_samples=False),
            "codes": dict(f.codes),
            "expected": dict(f.expected),
            "unexpected": dict(f.unexpected),
            "samples": f.samples,
        }
    return {
        "elapsed_s": elapsed,
        "rpcs": rpcs,
        "overall": {
            "calls": len(every),
            "calls_per_s": len(every) / elapsed,
            "latency_ms": summarize(every, keep_samples=False),
            "expected_errors": sum(sum(r["expected"].values()) for r in rpcs.values()),
            "unexpected_errors": sum(sum(r["unexpected"].values()) for r in rpcs.values()),
        },
        "cpu_s": {"clients": client_cpu, "server": server_cpu, "wall": elapsed},
    }


def _snapshot(config: LoadConfig, child: ChildServer | None, prefix: str) -> StoreSnapshot | None:
    if child is not None:
        snap: StoreSnapshot = child.ask("quiesce")
        return snap
    if config.store.startswith(("redis://", "rediss://")):
        from matcher.orders.redis_store import RedisOrderStore

        store = RedisOrderStore(config.store, config.store_prefix)
        try:
            return snapshot(store)
        finally:
            store.close()
    return None


def _check(
    channel: grpc.Channel,
    ctx: Context,
    snap: StoreSnapshot | None,
    keys: dict[str, Metadata],
    *,
    whole_store: bool,
) -> tuple[dict[str, Any], dict[str, Any]]:
    md = keys["centre"]
    orders = _all_orders(ctx, md)
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
    checks = {
        name: {
            "ran": v is not None,
            "passed": not v,
            "violation_count": len(v or []),
            "violations": (v or [])[: consistency.MAX_LISTED],
        }
        for name, v in found.items()
    }
    return checks, _work(orders, ctx)


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


def _delete_prefix(url: str, prefix: str) -> None:
    client = redis.Redis.from_url(url, socket_timeout=10)
    try:
        keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
        for start in range(0, len(keys), 1000):
            client.delete(*keys[start : start + 1000])
    finally:
        client.close()
