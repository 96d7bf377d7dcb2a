"""Solver core scaling: engine, greedy and dense side by side from 100 x 2,000 to
10,000 x 200,000, on clustered (``gonghe_day``) and uniform (``uniform_day``) geography.

Engine: ``PoolIndex.build`` is timed apart from ``solve_match``; the first solve on a fresh
index ("cold") also builds the k-d trees it needs, a second solve on the same index ("warm")
is what a registered pool pays. Dense (``dense_match``) runs only where its measured memory
fits; wherever it runs, its objective must equal the engine's (``checks``).
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from dataclasses import asdict

from benchmarks.checks import Objective, check_agreement
from benchmarks.machine import available_memory_bytes
from benchmarks.outcomes import asked, outcome, travel_change_pct
from benchmarks.suite import Progress, Results, SuiteConfig
from benchmarks.timing import summarize, timed
from matcher.core.dense import dense_match
from matcher.core.greedy import greedy_match
from matcher.core.model import MatchResult, Policy, RequestBatch, VolunteerPool
from matcher.core.pool_index import PoolIndex
from matcher.core.solve import solve_match
from matcher.tools.synthetic import gonghe_day, uniform_day

SIZES: tuple[tuple[int, int], ...] = (
    (100, 2_000),
    (300, 6_000),
    (1_000, 20_000),
    (3_000, 60_000),
    (10_000, 200_000),
)
QUICK_SIZES = SIZES[:2]
Generator = Callable[[int, int, int], tuple[RequestBatch, VolunteerPool]]
GEOGRAPHIES: dict[str, Generator] = {"clustered": gonghe_day, "uniform": uniform_day}
#: Peak memory of ``dense_match`` per cell of its slots x (windows + slots) matrix: the
#: float64 matrix plus ~13 index, distance and mask arrays of the same length (measured
#: ~115 B at 1,000 x 20,000: 5.2 GB for 44.7 M cells).
DENSE_BYTES_PER_CELL = 120
#: Dense runs only when its estimated peak fits in this share of the available memory.
DENSE_MEMORY_SHARE = 0.6
#: Dense gets one repeat above this many cells (it takes tens of seconds there).
DENSE_ONE_REPEAT_CELLS = 5_000_000


def steps(config: SuiteConfig) -> int:
    """Generate + engine + greedy + dense per size and geography."""
    return len(QUICK_SIZES if config.quick else SIZES) * len(GEOGRAPHIES) * 4


def repeats(n_requests: int, quick: bool) -> int:
    """Repeats of the engine and greedy at a size: 5 up to 1,000 requests, then fewer."""
    if quick:
        return 3
    return 5 if n_requests <= 1_000 else 3 if n_requests <= 3_000 else 1


def run(config: SuiteConfig, progress: Progress) -> Results:
    sizes = QUICK_SIZES if config.quick else SIZES
    cases = [
        _case(config, progress, geography, n_req, n_vol)
        for geography in GEOGRAPHIES
        for n_req, n_vol in sizes
    ]
    return {
        "seed": config.seed,
        "sizes": [list(s) for s in sizes],
        "geographies": list(GEOGRAPHIES),
        "cases": cases,
    }


def _case(
    config: SuiteConfig, progress: Progress, geography: str, n_req: int, n_vol: int
) -> Results:
    label = f"{geography} {n_req:,}x{n_vol:,}"
    progress.step(f"{label}: generate")
    requests, pool = GEOGRAPHIES[geography](config.seed, n_req, n_vol)
    policy = Policy()
    n = repeats(n_req, config.quick)
    case: Results = {
        "geography": geography,
        "requests": n_req,
        "volunteers": n_vol,
        "slots": int(requests.slots.sum()),
        "windows": pool.n_windows,
        "asked": asked(requests),
    }
    progress.step(f"{label}: engine x{n}")
    case["engine"] = _engine(requests, pool, policy, n, label)
    progress.step(f"{label}: greedy x{n}")
    case["greedy"] = _greedy(requests, pool, policy, n)
    progress.step(f"{label}: dense")
    case["dense"] = _dense(requests, pool, policy, config.quick)
    compare(case, label, progress)
    return case


def _engine(
    requests: RequestBatch, pool: VolunteerPool, policy: Policy, n: int, label: str
) -> Results:
    build, cold, warm = [], [], []
    for _ in range(n):
        gc.collect()
        result, again, times = _engine_once(requests, pool, policy)
        check_agreement(
            f"{label} (re-solve on the same index)",
            _objective("engine", result),
            _objective("engine warm", again),
        )
        build.append(times[0])
        cold.append(times[1])
        warm.append(times[2])
    return {
        "repeats": n,
        "build_ms": summarize(build),
        "solve_ms": summarize(cold),
        "total_ms": summarize([b + c for b, c in zip(build, cold, strict=True)]),
        "warm_solve_ms": summarize(warm),
        "stats": asdict(result.stats),
        "warm_stats": asdict(again.stats),
        **outcome(requests, result, policy),
    }


def _engine_once(
    requests: RequestBatch, pool: VolunteerPool, policy: Policy
) -> tuple[MatchResult, MatchResult, tuple[float, float, float]]:
    """Build an index, solve on it (cold), solve again (warm); both results and the times."""
    index, build_ms = timed(lambda: PoolIndex.build(pool))
    result, cold_ms = timed(lambda: solve_match(requests, index, policy))
    again, warm_ms = timed(lambda: solve_match(requests, index, policy))
    return result, again, (build_ms, cold_ms, warm_ms)


def _greedy(requests: RequestBatch, pool: VolunteerPool, policy: Policy, n: int) -> Results:
    times = []
    result = None
    for _ in range(n):
        gc.collect()
        result, ms = timed(lambda: greedy_match(requests, pool, policy))
        times.append(ms)
    assert result is not None
    return {"repeats": n, "total_ms": summarize(times), **outcome(requests, result, policy)}


def dense_estimate_bytes(slots: int, windows: int) -> int:
    """Estimated peak memory of ``dense_match`` on a batch of this shape."""
    return slots * (windows + slots) * DENSE_BYTES_PER_CELL


def _dense(requests: RequestBatch, pool: VolunteerPool, policy: Policy, quick: bool) -> Results:
    slots, windows = int(requests.slots.sum()), pool.n_windows
    cells = slots * (windows + slots)
    estimate = dense_estimate_bytes(slots, windows)
    available = available_memory_bytes()
    budget = DENSE_MEMORY_SHARE * available if available else 8 * 1024**3
    matrix_gb = cells * 8 / 1024**3
    if estimate > budget:
        return {
            "ran": False,
            "skipped": (
                f"skipped: dense matrix would be {matrix_gb:.1f} GB "
                f"(~{estimate / 1024**3:.0f} GB peak with its index arrays; "
                f"{budget / 1024**3:.0f} GB allowed)"
            ),
            "matrix_gb": matrix_gb,
        }
    n = 1 if quick or cells > DENSE_ONE_REPEAT_CELLS else 3
    times = []
    solution = None
    for _ in range(n):
        gc.collect()
        solution, ms = timed(lambda: dense_match(requests, PoolIndex.build(pool), policy))
        times.append(ms)
    assert solution is not None
    return {
        "ran": True,
        "repeats": n,
        "total_ms": summarize(times),
        "value_served": solution.value_served,
        "total_cost": solution.total_cost,
        "matrix_gb": matrix_gb,
    }


def _objective(method: str, result: MatchResult) -> Objective:
    return Objective(method, float(result.value_served), float(result.total_cost))


def compare(case: Results, label: str, progress: Progress) -> None:
    """Check engine = dense where dense ran; add speed-up and quality against greedy."""
    engine, greedy, dense = case["engine"], case["greedy"], case["dense"]
    engine_ms = engine["total_ms"]["p50"]
    if dense["ran"]:
        case["agreement"] = check_agreement(
            label,
            Objective("dense", dense["value_served"], dense["total_cost"]),
            Objective("engine", engine["value_served"], engine["total_cost"]),
        )
        case["speedup_vs_dense"] = dense["total_ms"]["p50"] / engine_ms
    else:
        case["agreement"] = f"{label}: not checked ({dense['skipped']})"
        case["speedup_vs_dense"] = None
    case["speedup_vs_greedy"] = case["greedy"]["total_ms"]["p50"] / engine_ms
    case["travel_change_vs_greedy_pct"] = travel_change_pct(engine, greedy)
    case["value_gain_vs_greedy"] = engine["value_served"] - greedy["value_served"]
    progress.note(
        f"{label}: engine {engine_ms:.0f} ms (warm {engine['warm_solve_ms']['p50']:.0f}), "
        f"greedy {greedy['total_ms']['p50']:.0f} ms, "
        + (f"dense {dense['total_ms']['p50']:.0f} ms" if dense["ran"] else "dense skipped")
    )
