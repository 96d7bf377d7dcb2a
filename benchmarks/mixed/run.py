"""One mixed load run: server, data, clients for a fixed time, then the consistency checks.

``run_mixed_load(config)`` returns a JSON-ready dict: the configuration, the machine, per-rpc
figures (calls, calls/s, p50/p99 latency, errors by code, expected or not, rate-limited),
what work was done (orders by state, rounds, offers), CPU used by the clients and the
server, and every check's verdict (``benchmarks.mixed.audit``, whose ``failures(results)``
lists why a run failed: empty, it passed).

``auth="keys"`` runs the own server with API keys the run makes (``benchmarks.mixed.auth``)
and adds the ``access_enforced`` check (``benchmarks.mixed.probes``): after the load, calls
without a key, with an unknown key, of a role outside its row and on someone else's order
or offer must be refused. ``rate_limit`` sets the own server's
``MATCHER_RATE_LIMIT_PER_SECOND`` (per key; per peer address when open): refusals naming it
are counted apart, and the ``rate_limit`` check wants at least one and no key let through
more often than its token bucket allows.
"""

from __future__ import annotations

import datetime as dt
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import grpc

from benchmarks.machine import machine_info
from benchmarks.mixed.audit import audit
from benchmarks.mixed.auth import CallKeys, make_keys, open_keys
from benchmarks.mixed.calls import CallStats, Inbox, Metadata, Records
from benchmarks.mixed.context import Context
from benchmarks.mixed.roles import assign_roles, run_role
from benchmarks.mixed.server_proc import ChildServer, StoreSnapshot, snapshot
from benchmarks.mixed.workload import Workload, build_workload
from benchmarks.redis_scratch import delete_prefix
from benchmarks.timing import summarize
from matcher.config import Settings
from matcher.v1 import volunteers_pb2, volunteers_pb2_grpc

AUTH_MODES = ("open", "keys")
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
    auth: str = "open"  # "keys": the own server enforces keys the run makes
    rate_limit: float = 0.0  # the own server's MATCHER_RATE_LIMIT_PER_SECOND (0: none)

    def __post_init__(self) -> None:
        if self.auth not in AUTH_MODES:
            raise ValueError(f"auth must be one of {', '.join(AUTH_MODES)}, not {self.auth!r}")
        if self.target and (self.auth != "open" or self.rate_limit):
            raise ValueError("--auth keys and --rate-limit configure the run's own server")
        if self.auth == "keys" and self.api_keys:
            raise ValueError("--auth keys makes its own keys: no --api-key or --role-key")
        if not 0 <= self.rate_limit <= 1e6:
            raise ValueError("--rate-limit must be in [0, 1e6] calls per second")


def run_mixed_load(config: LoadConfig, progress: Progress = lambda _: None) -> dict[str, Any]:
    tag = "lt" + uuid.uuid4().hex[:8]
    started_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    progress(f"data: {config.volunteers:,} volunteers, {config.templates:,} order templates")
    workload = build_workload(config.seed, config.volunteers, config.templates, tag, time.time())
    roles = assign_roles(config.clients)
    prefix = f"loadtest-{tag}"
    with tempfile.TemporaryDirectory(prefix="mixed-load-keys-") as directory:
        if config.auth == "keys":
            residents = [k for k, role in enumerate(roles) if role == "resident"]
            volunteer_ids = [e.volunteer.id for e in workload.volunteers]
            made = make_keys(Path(directory), residents, volunteer_ids)
            progress(f"access control on: {made.count:,} API keys in {made.path.name}")
            keys, keys_file, key_count = made.calls, str(made.path), made.count
        else:
            keys, keys_file, key_count = open_keys(config.api_keys, config.api_key_header), "", 0
        child = None if config.target else ChildServer(_settings(config, prefix, keys_file))
        try:
            ctx, figures, checks, work = _run(
                config, workload, roles, keys, child, prefix, progress
            )
        finally:
            if child is not None:
                child.stop()
                if config.store != "memory" and not config.keep_data:
                    delete_prefix(config.store, prefix)
    return {
        "benchmark": "mixed load (issue #7)",
        "started_at": started_at,
        "config": {**asdict(config), "api_keys": sorted(config.api_keys)},
        "auth": {
            "mode": config.auth,
            "keys": key_count,
            "rate_limit_per_second": config.rate_limit or None,
        },
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


def _run(
    config: LoadConfig,
    workload: Workload,
    roles: list[str],
    keys: CallKeys,
    child: ChildServer | None,
    prefix: str,
    progress: Progress,
) -> tuple[Context, dict[str, Any], dict[str, Any], dict[str, Any]]:
    target = config.target or f"127.0.0.1:{child.port}"  # type: ignore[union-attr]
    options = [("grpc.max_receive_message_length", MAX_MESSAGE)]
    with grpc.insecure_channel(target, options=options) as channel:
        grpc.channel_ready_future(channel).result(timeout=30)
        progress(f"register {len(workload.volunteers):,} volunteers on {target}")
        _register(channel, workload, keys.roles["registry"])
        ctx = Context(
            channel,
            workload,
            CallStats(config.rate_limit),
            Records(),
            Inbox(),
            threading.Event(),
            keys,
            config.seed,
        )
        progress(f"{config.clients} clients ({dict(Counter(roles))}) for {config.seconds:g} s")
        figures = _drive(ctx, roles, config.seconds, child)
        progress("load stopped; checking consistency")
        snap = _snapshot(config, child, prefix)
        checks, work = audit(
            channel,
            ctx,
            snap,
            figures,
            whole_store=child is not None,
            rate_limit=config.rate_limit,
            progress=progress,
        )
    return ctx, figures, checks, work


def _settings(config: LoadConfig, prefix: str, keys_file: str) -> Settings:
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
        api_keys_file=keys_file,
        rate_limit_per_second=config.rate_limit,
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
            "rate_limited": f.limited,
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
            "rate_limited": sum(r["rate_limited"] for r in rpcs.values()),
        },
        "cpu_s": {"clients": client_cpu, "server": server_cpu, "wall": elapsed},
    }


def _snapshot(config: LoadConfig, child: ChildServer | None, prefix: str) -> StoreSnapshot | None:
    if child is not None:
        snap: StoreSnapshot = child.ask("quiesce")
        return snap
    if config.store.startswith(("redis://", "rediss://")):
        from matcher.orders.store.redis import RedisOrderStore

        store = RedisOrderStore(config.store, config.store_prefix)
        try:
            return snapshot(store)
        finally:
            store.close()
    return None
