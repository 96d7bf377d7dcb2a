"""``python -m benchmarks.round_scaling``: how a dispatch round's time grows with the backlog.

For each store (``--stores``: ``memory`` and/or a Redis URL; on Redis a fresh key prefix per
run, deleted afterwards) and each backlog size (``--sizes``, live orders), builds the seeded
backlog of ``benchmarks.round_backlog`` (PENDING / OFFERED / ACCEPTED orders with histories,
some offers overdue, a few orders lapsing) against ``--volunteers`` registered volunteers,
then times the first round (which expires the overdue offers, lapses, solves and offers)
and the next one a second later (little is due: the floor a round costs at that backlog),
with the parts of each from ``RoundReport.timings_ms``: sweep (reading and sweeping the
live orders), holds (reading the held time), solve (pool cuts, requests and the solve) and
reserve (committing the offers). Each repeat builds the backlog afresh; figures are
medians over ``--repeats``. ``--profile`` writes a cProfile listing of the first round at
the largest size (per store) next to the JSON.

Prints a table and writes ``--out``/round_scaling.json. The volunteer registry is in memory
in every run (a round reads the registry's version only); the order store is what varies.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import shlex
import statistics
import sys
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import redis

from benchmarks.machine import machine_info
from benchmarks.mixed.report import write_json
from benchmarks.round_backlog import FixedClock, build_backlog
from benchmarks.suite import DEFAULT_OUT, DEFAULT_SEED
from matcher.orders.desk import OrderDesk
from matcher.orders.rounds import RoundReport, run_round
from matcher.orders.store.base import OrderStore
from matcher.orders.store.memory import MemoryOrderStore
from matcher.orders.store.redis import RedisOrderStore
from matcher.registry.view import PoolView

SIZES = (1_000, 5_000, 20_000)
PARTS = ("sweep", "holds", "solve", "reserve")
OFFER_TTL_S = 300.0  # the service's default


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks.round_scaling", description=__doc__)
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.add_argument("--sizes", type=int, nargs="+", default=list(SIZES), help="live orders")
    p.add_argument(
        "--stores", nargs="+", default=["memory", "redis://127.0.0.1:6379/8"], metavar="STORE"
    )
    p.add_argument("--volunteers", type=int, default=3_000)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--seed", type=int, default=DEFAULT_SEED)
    p.add_argument(
        "--busy-threads",
        type=int,
        nargs="+",
        default=[0, 1],
        help="threads running Python code beside the rounds, as a server's request threads "
        "do (each count measured apart; default 0 1)",
    )
    p.add_argument("--profile", action="store_true", help="cProfile the largest first round")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"default {DEFAULT_OUT}/")
    return p


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
        keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
        for start in range(0, len(keys), 1000):
            client.delete(*keys[start : start + 1000])
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


def _round(desk: OrderDesk, view: PoolView, profile: cProfile.Profile | None) -> dict[str, Any]:
    started = time.perf_counter()
    if profile is not None:
        profile.enable()
    report: RoundReport = run_round(desk, view)
    if profile is not None:
        profile.disable()
    ms = (time.perf_counter() - started) * 1e3
    return {
        "ms": ms,
        "parts_ms": {k: report.timings_ms.get(k, 0.0) for k in PARTS},
        "considered": report.orders_considered,
        "offers": len(report.offers),
        "expired": report.offers_expired,
        "lapsed": report.orders_lapsed,
        "conflicts": report.reservation_conflicts,
        "solves": report.solves,
    }


def measure_once(
    url: str, size: int, busy_threads: int, args: argparse.Namespace, profile: bool
) -> dict[str, Any]:
    """Build one backlog and time two rounds on it."""
    with order_store(url) as store:
        started = time.perf_counter()
        backlog = build_backlog(store, args.seed, size, args.volunteers, int(OFFER_TTL_S * 1000))
        build_s = time.perf_counter() - started
        clock = FixedClock(backlog.now_s)
        desk = OrderDesk(store, backlog.registry, clock, OFFER_TTL_S)
        view = PoolView(backlog.registry, clock)
        view.current()  # the pool index is built once per registry version, not per round
        profiler = cProfile.Profile() if profile else None
        with busy(busy_threads):
            first = _round(desk, view, profiler)
            clock.now += 1
            second = _round(desk, view, None)
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


def measure(url: str, size: int, busy_threads: int, args: argparse.Namespace) -> dict[str, Any]:
    profile = args.profile and size == max(args.sizes) and busy_threads == 0
    runs = []
    for k in range(args.repeats):
        runs.append(measure_once(url, size, busy_threads, args, profile and k == 0))
        where = f"{_kind(url)} {size} busy {busy_threads}"
        print(f"  {where}: repeat {k + 1} done", file=sys.stderr, flush=True)
    profile_text = runs[0].pop("profile", None)
    if profile_text is not None:
        path = args.out / f"round_scaling_{_kind(url)}_{size}.prof.txt"
        path.write_text(profile_text, encoding="utf-8")
    return {
        "store": _kind(url),
        "size": size,
        "busy_threads": busy_threads,
        "counts": runs[0]["counts"],
        "build_s": statistics.median(r["build_s"] for r in runs),
        "first": _median(runs, "first"),
        "next": _median(runs, "next"),
        "runs": runs,
    }


def _kind(url: str) -> str:
    return "memory" if url == "memory" else "redis"


def print_table(rows: list[dict[str, Any]]) -> None:
    head = (
        f"{'store':<7} {'busy':>4} {'live':>6} {'pend/offd/acc':>17} {'overdue':>7} "
        f"{'round ms':>9} "
        + " ".join(f"{p:>8}" for p in PARTS)
        + f" {'offers':>6} {'expired':>7} {'lapsed':>6} {'next ms':>8}"
    )
    print(head)
    print("-" * len(head))
    for row in rows:
        c, first = row["counts"], row["first"]
        mix = f"{c['PENDING']}/{c['OFFERED']}/{c['ACCEPTED']}"
        parts = " ".join(f"{first['parts_ms'][p]:>8.0f}" for p in PARTS)
        print(
            f"{row['store']:<7} {row['busy_threads']:>4} {row['size']:>6} {mix:>17} "
            f"{c['overdue_offers']:>7} "
            f"{first['ms']:>9.0f} {parts} {first['offers']:>6.0f} {first['expired']:>7.0f} "
            f"{first['lapsed']:>6.0f} {row['next']['ms']:>8.0f}"
        )


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    rows = [
        measure(url, size, busy_threads, args)
        for busy_threads in args.busy_threads
        for url in args.stores
        for size in args.sizes
    ]
    print_table(rows)
    command = [
        "python",
        "-m",
        "benchmarks.round_scaling",
        *(sys.argv[1:] if argv is None else argv),
    ]
    results = {
        "command": shlex.join(command),
        "machine": machine_info(),
        "config": {
            "volunteers": args.volunteers,
            "repeats": args.repeats,
            "seed": args.seed,
            "offer_ttl_s": OFFER_TTL_S,
        },
        "rows": rows,
    }
    print(f"wrote {write_json(results, args.out / 'round_scaling.json')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
