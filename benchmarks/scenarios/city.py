"""City scale, 10,000 requests x 200,000 volunteers (clustered), with its peak memory.

Core: ``benchmarks.probe`` in a fresh process (generate, index, solve cold and warm), whose
``ru_maxrss`` is the core's peak memory, data included.
Pool: a server in a child process (``benchmarks.service``, memory store); the 200,000
volunteers are upserted through ``VolunteerService``, then Match names the pool. The first
Match builds the server's pool view and index; later ones reuse them (what a registered
pool is for). The server's peak memory is its ``VmHWM``. Both must match the objective of
the core run. ``--quick`` runs the same steps at 1,000 x 20,000.
"""

from __future__ import annotations

import json
import subprocess
import sys

from benchmarks.checks import Objective, check_agreement
from benchmarks.match_calls import pool_match_message, reply_stats, time_pool_matches
from benchmarks.service import channel_to, child_server, register_pool, registry_status
from benchmarks.suite import Progress, Results, SuiteConfig
from benchmarks.timing import process_memory_mb
from matcher.core.model import RequestBatch, VolunteerPool
from matcher.tools.synthetic import gonghe_day

SIZE, QUICK_SIZE = (10_000, 200_000), (1_000, 20_000)
WARM_CALLS, QUICK_WARM_CALLS = 2, 2
PROBE_TIMEOUT_S = 900


def steps(config: SuiteConfig) -> int:
    return 3


def run(config: SuiteConfig, progress: Progress) -> Results:
    n_req, n_vol = QUICK_SIZE if config.quick else SIZE
    label = f"{n_req:,}x{n_vol:,}"
    progress.step(f"core {label} in a fresh process")
    core = _probe(config.seed, n_req, n_vol)
    progress.note(
        f"core: build {core['build_ms']:.0f} ms, solve {core['solve_ms']:.0f} ms "
        f"(warm {core['warm_solve_ms']:.0f} ms), peak {core['peak_rss_mb']:.0f} MiB"
    )
    expected = Objective("core", core["value_served"], core["total_cost"])
    check_agreement(
        f"city {label} warm re-solve",
        expected,
        Objective("core warm", core["warm_value_served"], core["warm_total_cost"]),
    )
    progress.step(f"pool server {label}: upsert, Match")
    requests, pool = gonghe_day(config.seed, n_req, n_vol)
    calls = QUICK_WARM_CALLS if config.quick else WARM_CALLS
    pool_figures = _pool(requests, pool, calls, expected, label)
    if pool_figures["available"]:
        progress.note(
            f"pool: first Match {pool_figures['first_call_ms']:.0f} ms, "
            f"then p50 {pool_figures['round_trip_ms']['p50']:.0f} ms; server peak "
            f"{pool_figures['server_memory_mb']['peak_mb']:.0f} MiB"
        )
    else:
        progress.note(f"pool: {pool_figures['reason']}")
    progress.step("done")
    return {"requests": n_req, "volunteers": n_vol, "core": core, "pool": pool_figures}


def _probe(seed: int, n_req: int, n_vol: int) -> Results:
    cmd = [sys.executable, "-m", "benchmarks.probe", f"--seed={seed}"]
    cmd += [f"--requests={n_req}", f"--volunteers={n_vol}"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=PROBE_TIMEOUT_S, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"city probe failed ({done.returncode}):\n{done.stderr}")
    figures: Results = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def _pool(
    requests: RequestBatch, pool: VolunteerPool, calls: int, expected: Objective, label: str
) -> Results:
    with child_server() as server, channel_to(server.port) as channel:
        before = process_memory_mb(server.pid)
        registered = register_pool(channel, pool)
        if isinstance(registered, str):
            return {"available": False, "reason": registered}
        after_upsert = process_memory_mb(server.pid)
        message = pool_match_message(requests)
        figures, reply = time_pool_matches(channel, message, calls, expected, f"city {label} pool")
        return {
            "available": True,
            "registry_version": registered.version,
            "upsert_ms": registered.upsert_ms,
            "upsert_per_s": len(pool) / (registered.upsert_ms / 1e3),
            **figures,
            "stats": reply_stats(reply),
            "server_memory_mb": process_memory_mb(server.pid),
            "server_memory_mb_at_start": before,
            "server_memory_mb_after_upsert": after_upsert,
            "status": registry_status(channel),
        }
