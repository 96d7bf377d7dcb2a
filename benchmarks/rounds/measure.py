"""Timing dispatch rounds on a seeded backlog: for one store, backlog size and count of busy
threads, each repeat builds the backlog afresh and times the first round on it and the next
one a second later; a row keeps every repeat and their medians."""

from __future__ import annotations

import cProfile
import io
import json
import pstats
import statistics
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis

from benchmarks.redis_scratch import delete_under
from benchmarks.rounds.backlog import FixedClock, build_backlog
from matcher.orders.desk import OrderDesk
from matcher.orders.rounds import run_round
from matcher.orders.store.base import OrderStore
from matcher.orders.store.memory import MemoryOrderStore
from matcher.orders.store.redis import RedisOrderStore
from matcher.registry.view import PoolView

#: The parts of a round, from ``RoundReport.timings_ms``.
PARTS = ("sweep", "holds", "solve", "reserve")
OFFER_TTL_S = 300.0  # the service's default


@dataclass(frozen=True)
class RoundPlan:
    """What every measurement of a run shares. ``profile_size``: the backlog size whose
    first round (without busy threads, first repeat) is profiled; None for none."""

    volunteers: int
    repeats: int
    seed: int
    out: Path
    profile_size: int | None = None


def store_kind(url: str) -> str:
    """``memory`` or ``redis``: how a store shows in the table, the JSON and file names."""
    return "memory" if url == "memory" else "redis"


@contextmanager
def order_store(url: str) -> Iterator[OrderStore]:
    """An empty order store: memory, or a fresh prefix on ``url`` (deleted afterwards)."""
    if url == "memory":
        yield MemoryOrderStore()
        return
    client = redis.Redis.from_url(url, socket_timeout=30)
    prefix = f"roundbench-{uuid.uuid4().hex[:12]}"
    try:
        yield RedisOrderStore(client, prefix)
    finally:
        delete_under(client, prefix)
        client.close()


@contextmanager
def busy(threads: int) -> Iterator[None]:
    """``threads`` threads encoding and decoding JSON (holding the interpreter lock most of
    the time, as request threads do) until the block ends."""
    stop = threading.Event()

    def spin() -> None:
        data = {"orders": [{"id": k, "at": [k, k + 1], "who": f"vol-{k}"} for k in range(50)]}
        while not stop.is_set():
            json.loads(json.dumps(data))

    workers = [threading.Thread(target=spin, daemon=True) for _ in range(threads)]
    for w in workers:
        w.start()
    try:
        yield
    finally:
        stop.set()
        for w in workers:
            w.join()


def _time_round(
    desk: OrderDesk, view: PoolView, profile: cProfile.Profile | None
) -> dict[str, Any]:
    started = time.perf_counter()
    if profile is not None:
        profile.enable()
    report = run_round(desk, view)
    if profile is not None:
        profile.disable()
    return {
        "ms": (time.perf_counter() - started) * 1e3,
        "parts_ms": {k: report.timings_ms.get(k, 0.0) for k in PARTS},
        "considered": report.orders_considered,
        "offers": len(report.offers),
        "expired": report.offers_expired,
        "lapsed": report.orders_lapsed,
        "conflicts": report.reservation_conflicts,
        "solves": report.solves,
    }


def measure_once(
    url: str, size: int, busy_threads: int, plan: RoundPlan, profile: bool
) -> dict[str, Any]:
    """Build one backlog and time two rounds on it."""
    with order_store(url) as store:
        started = time.perf_counter()
        ttl_ms = int(OFFER_TTL_S * 1000)
        backlog = build_backlog(store, plan.seed, size, plan.volunteers, ttl_ms)
        build_s = time.perf_counter() - started
        clock = FixedClock(backlog.now_s)
        desk = OrderDesk(store, backlog.registry, clock, OFFER_TTL_S)
        view = PoolView(backlog.registry, clock)
        view.current()  # the pool index is built once per registry version, not per round
        profiler = cProfile.Profile() if profile else None
        with busy(busy_threads):
            first = _time_round(desk, view, profiler)
            clock.now += 1
            second = _time_round(desk, view, None)
        out = {"build_s": build_s, "counts": backlog.counts, "first": first, "next": second}
        if profiler is not None:
            text = io.StringIO()
            pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(40)
            out["profile"] = text.getvalue()
        return out


def _median(runs: list[dict[str, Any]], which: str) -> dict[str, Any]:
    rounds = [r[which] for r in runs]
    med = {k: statistics.median(r[k] for r in rounds) for k in rounds[0] if k != "parts_ms"}
    med["parts_ms"] = {p: statistics.median(r["parts_ms"][p] for r in rounds) for p in PARTS}
    return med


def measure(url: str, size: int, busy_threads: int, plan: RoundPlan) -> dict[str, Any]:
    """One row: ``plan.repeats`` backlogs of ``size`` live orders on the store ``url``;
    writes the profile listing when this row is the one ``plan`` profiles."""
    profile = size == plan.profile_size and busy_threads == 0
    kind = store_kind(url)
    runs = []
    for k in range(plan.repeats):
        runs.append(measure_once(url, size, busy_threads, plan, profile and k == 0))
        print(
            f"  {kind} {size} busy {busy_threads}: repeat {k + 1} done", file=sys.stderr, flush=True
        )
    profile_text = runs[0].pop("profile", None)
    if profile_text is not None:
        path = plan.out / f"round_scaling_{kind}_{size}.prof.txt"
        path.write_text(profile_text, encoding="utf-8")
    return {
        "store": kind,
        "size": size,
        "busy_threads": busy_threads,
        "counts": runs[0]["counts"],
        "build_s": statistics.median(r["build_s"] for r in runs),
        "first": _median(runs, "first"),
        "next": _median(runs, "next"),
        "runs": runs,
    }
