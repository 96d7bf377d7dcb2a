"""Small-batch throughput: 10 requests per Match against a pool of 2,000 volunteers, 16
calls in flight for a fixed time; calls per second, p50 and p99 latency, errors.

The server runs in this process with its default worker threads; the load comes from
``PROCESSES`` worker processes of ``THREADS`` threads each (``benchmarks.load``), sending
pre-serialized requests, so the Python client's own CPU use is small and outside the
server's interpreter lock. On a 2-core machine client and server still share the cores.
Against the registered pool when the registry exists, else with the 2,000 volunteers
inline in every call (labelled so: that is a different, heavier call).
"""

from __future__ import annotations

import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor

from benchmarks import load
from benchmarks.service import (
    RPC_TIMEOUT_S,
    bench_settings,
    channel_to,
    in_process_server,
    pool_match_request,
    raw_match,
    register_pool,
)
from benchmarks.suite import Progress, Results, SuiteConfig
from benchmarks.timing import summarize
from matcher.service.convert import pool_to_proto, requests_to_proto
from matcher.tools.synthetic import gonghe_day
from matcher.v1 import match_pb2

BATCH, POOL, DISTINCT_BATCHES = 10, 2_000, 64
PROCESSES, THREADS = 2, 8
DURATION_S, QUICK_DURATION_S = 5.0, 1.0
#: Worker processes start (import grpc, connect) before this many seconds have passed.
START_DELAY_S = 3.0


def steps(config: SuiteConfig) -> int:
    return 3


def run(config: SuiteConfig, progress: Progress) -> Results:
    progress.step(f"generate {DISTINCT_BATCHES} batches of {BATCH} and a pool of {POOL:,}")
    requests, pool = gonghe_day(config.seed, BATCH * DISTINCT_BATCHES, POOL)
    messages = requests_to_proto(requests)
    batches = [messages[k : k + BATCH] for k in range(0, len(messages), BATCH)]
    settings = bench_settings()
    duration = QUICK_DURATION_S if config.quick else DURATION_S
    with in_process_server(settings) as port, channel_to(port) as channel:
        progress.step("registry check, warm-up")
        registered = register_pool(channel, pool)
        if not isinstance(registered, str):
            payloads = [pool_match_request(b).SerializeToString() for b in batches]
            mode = "pool"
        else:
            volunteers = pool_to_proto(pool)
            payloads = [
                match_pb2.MatchRequest(requests=b, volunteers=volunteers).SerializeToString()
                for b in batches
            ]
            mode = f"inline volunteers (registered pool {registered})"
        call = raw_match(channel)
        for payload in payloads:
            call(payload, timeout=RPC_TIMEOUT_S)
        progress.step(f"{PROCESSES * THREADS} concurrent clients for {duration:g} s ({mode})")
        figures = _load(port, payloads, duration)
    progress.note(
        f"{figures['calls_per_s']:.0f} Match/s, p50 {figures['latency_ms']['p50']:.1f} ms, "
        f"p99 {figures['latency_ms']['p99']:.1f} ms, {figures['errors']} errors"
    )
    return {
        "mode": mode,
        "requests_per_call": BATCH,
        "pool": POOL,
        "distinct_batches": DISTINCT_BATCHES,
        "concurrency": PROCESSES * THREADS,
        "server": f"this process, {settings.workers} worker threads",
        "client": (
            f"{PROCESSES} processes x {THREADS} threads, pre-serialized requests, "
            "replies not parsed"
        ),
        "duration_s": duration,
        **figures,
    }


def _load(port: int, payloads: list[bytes], duration: float) -> Results:
    """Run the worker processes; merge their latencies into one summary."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=PROCESSES, mp_context=context) as pool:
        start_at = time.time() + START_DELAY_S
        futures = [
            pool.submit(load.drive, port, payloads, THREADS, start_at, duration)
            for _ in range(PROCESSES)
        ]
        parts = [f.result(timeout=START_DELAY_S + duration + 120) for f in futures]
    latencies = [x for part in parts for x in part["latencies_ms"]]
    elapsed = max(part["last_finish"] for part in parts) - start_at
    return {
        "calls": len(latencies),
        "errors": sum(part["errors"] for part in parts),
        "elapsed_s": elapsed,
        "calls_per_s": len(latencies) / elapsed if elapsed > 0 else 0.0,
        "latency_ms": summarize(latencies, keep_samples=False),
    }
