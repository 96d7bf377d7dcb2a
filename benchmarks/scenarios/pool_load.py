"""Redis pool load: registering a pool in a Redis-backed registry and loading it back.

A server in a child process with ``MATCHER_STORE`` pointing at Redis (a fresh key prefix,
deleted afterwards) takes the pool through ``UpsertVolunteers``; then a second, fresh server
on the same Redis answers its first pool Match, which loads the whole pool from Redis (the
time from launching it is reported, and the call itself). The steps of that load are also
timed in this process: the store snapshot (reading every record from Redis) and turning the
records into columns. Every Match must match the in-process engine's objective.
"""

from __future__ import annotations

import importlib
import os
import time
from collections.abc import Callable
from typing import Any, cast

import grpc

from benchmarks.checks import Objective
from benchmarks.match_calls import engine_objective, pool_match_message, time_pool_matches
from benchmarks.redis_scratch import delete_prefix, ping_error
from benchmarks.service import channel_to, child_server, register_pool, registry_status
from benchmarks.suite import Progress, Results, SuiteConfig
from benchmarks.timing import timed
from matcher.core.pool_index import PoolIndex
from matcher.tools.synthetic import gonghe_day
from matcher.v1 import match_pb2

SIZE, QUICK_SIZE = (1_000, 20_000), (100, 2_000)
CALLS, QUICK_CALLS = 5, 3


def steps(config: SuiteConfig) -> int:
    return 4


def run(config: SuiteConfig, progress: Progress) -> Results:
    n_req, n_vol = QUICK_SIZE if config.quick else SIZE
    progress.step(f"Redis at {config.redis_url}")
    error = ping_error(config.redis_url)
    if error is not None:
        unreachable = (
            f"not available: Redis not reachable at {config.redis_url} ({type(error).__name__})"
        )
        progress.note(unreachable)
        return {"available": False, "reason": unreachable, "store": config.redis_url}
    prefix = f"matcher-bench-{os.getpid()}-{int(time.time())}"
    requests, pool = gonghe_day(config.seed, n_req, n_vol)
    expected = engine_objective(requests, pool)
    message = pool_match_message(requests)
    out: Results = {"store": config.redis_url, "requests": n_req, "volunteers": n_vol}
    calls = QUICK_CALLS if config.quick else CALLS
    try:
        progress.step(f"upsert {n_vol:,} volunteers into Redis")
        with child_server(config.redis_url, prefix) as server, channel_to(server.port) as ch:
            registered = register_pool(ch, pool)
            if isinstance(registered, str):
                progress.note(registered)
                return {**out, "available": False, "reason": registered}
            upsert_ms = registered.upsert_ms
            out.update(available=True, upsert_ms=upsert_ms, upsert_per_s=n_vol / upsert_ms * 1e3)
            out["writer"] = _matches(ch, message, calls, expected, "writer")
        progress.step("a fresh server loads the pool from Redis")
        out["fresh_server"] = _fresh(config.redis_url, prefix, message, calls, expected)
        progress.step("snapshot and columns in process")
        out["in_process"] = _load_steps(config.redis_url, prefix)
    finally:
        out["keys_deleted"] = delete_prefix(config.redis_url, prefix)
    progress.note(
        f"upsert {out['upsert_per_s']:,.0f} volunteers/s; fresh server's first Match "
        f"{out['fresh_server']['first_call_ms']:.0f} ms "
        f"({out['fresh_server']['launch_to_first_reply_ms']:.0f} ms from launch)"
    )
    return out


def _fresh(
    url: str, prefix: str, message: match_pb2.MatchRequest, calls: int, expected: Objective
) -> Results:
    launched = time.perf_counter()
    with child_server(url, prefix) as server, channel_to(server.port) as channel:
        ready_ms = (time.perf_counter() - launched) * 1e3
        figures = _matches(channel, message, calls, expected, "fresh server")
        return {
            "launch_to_ready_ms": ready_ms,
            "launch_to_first_reply_ms": ready_ms + figures["first_call_ms"],
            **figures,
            "status": registry_status(channel),
        }


def _matches(
    channel: grpc.Channel,
    message: match_pb2.MatchRequest,
    calls: int,
    expected: Objective,
    who: str,
) -> Results:
    """The first pool Match (it may load the pool view), then ``calls`` more."""
    figures, _ = time_pool_matches(channel, message, calls, expected, f"Redis pool, {who}")
    return figures


def _load_steps(url: str, prefix: str) -> Results:
    """Read the registry from Redis and build columns, step by step, in this process (with
    the registry's own functions, wherever they live in this version)."""
    to_columns = _find("records_to_pool", ("matcher.registry.columns", "matcher.registry.view"))
    open_store = _find("open_store", ("matcher.registry.store.base", "matcher.registry.store"))
    if to_columns is None or open_store is None:
        return {"available": False, "reason": "not available: no open_store / records_to_pool"}
    store = open_store(url, prefix=prefix)
    try:
        snapshot, snapshot_ms = timed(store.snapshot)
        pool, columns_ms = timed(lambda: to_columns(snapshot.records))
        _, index_ms = timed(lambda: PoolIndex.build(pool))
    finally:
        store.close()
    return {
        "records": len(snapshot.records),
        "snapshot_ms": snapshot_ms,
        "records_to_columns_ms": columns_ms,
        "index_build_ms": index_ms,
    }


def _find(name: str, modules: tuple[str, ...]) -> Callable[..., Any] | None:
    """``name`` from the first of ``modules`` that has it."""
    for module in modules:
        try:
            found = getattr(importlib.import_module(module), name, None)
        except ImportError:
            continue
        if callable(found):
            return cast(Callable[..., Any], found)
    return None
