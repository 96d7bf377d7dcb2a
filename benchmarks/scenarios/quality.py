"""Quality against the greedy baseline on the demo day (``matcher.tools.demo``'s default seed and
sizes) and on a contended day (far fewer volunteers per request): what each serves per
urgency tier and how far its volunteers travel in total.

The engine minimises a weighted cost (distance + skill + rating + fairness), not km alone;
to tell the policy from the solver, the engine is also run with a distance-only policy
(``DISTANCE_ONLY``) and its travel reported beside. Targets are judged on the default policy.
"""

from __future__ import annotations

import inspect

from benchmarks.checks import Objective, check_agreement
from benchmarks.outcomes import asked, outcome, tiers_where_worse, travel_change_pct
from benchmarks.suite import Progress, Results, SuiteConfig
from benchmarks.timing import timed
from matcher.core.dense import dense_match
from matcher.core.greedy import greedy_match
from matcher.core.model import Policy
from matcher.core.pool_index import PoolIndex
from matcher.core.solve import solve_match
from matcher.tools.demo import run_demo
from matcher.tools.synthetic import gonghe_day

#: A day with about two volunteers per request: many requests compete for few volunteers.
CONTENDED = (400, 800)
#: The default policy with every non-distance weight set to zero.
DISTANCE_ONLY = Policy(skill_weight=0.0, rating_weight=0.0, fairness_weight=0.0)
#: Dense checks the engine's optimum on days up to this many slot x window cells.
DENSE_CHECK_CELLS = 5_000_000


def demo_defaults() -> tuple[int, int, int]:
    """``run_demo``'s default seed, requests and volunteers (so the two never drift)."""
    params = inspect.signature(run_demo).parameters
    return (
        int(params["seed"].default),
        int(params["n_requests"].default),
        int(params["n_volunteers"].default),
    )


def steps(config: SuiteConfig) -> int:
    return 2


def run(config: SuiteConfig, progress: Progress) -> Results:
    seed, n_req, n_vol = demo_defaults()
    days = [("demo day", seed, n_req, n_vol), ("contended day", seed, *CONTENDED)]
    out = []
    for name, day_seed, requests_n, volunteers_n in days:
        progress.step(f"{name}: {requests_n:,} requests x {volunteers_n:,} volunteers")
        out.append(_day(name, day_seed, requests_n, volunteers_n, progress))
    return {"days": out}


def _day(name: str, seed: int, n_req: int, n_vol: int, progress: Progress) -> Results:
    requests, pool = gonghe_day(seed, n_req, n_vol)
    policy = Policy()
    engine, engine_ms = timed(lambda: solve_match(requests, PoolIndex.build(pool), policy))
    greedy, greedy_ms = timed(lambda: greedy_match(requests, pool, policy))
    mine, theirs = outcome(requests, engine, policy), outcome(requests, greedy, policy)
    km_only = outcome(requests, solve_match(requests, PoolIndex.build(pool), DISTANCE_ONLY), policy)
    day: Results = {
        "name": name,
        "seed": seed,
        "requests": n_req,
        "volunteers": n_vol,
        "windows": pool.n_windows,
        "asked": asked(requests),
        "engine": {**mine, "ms": engine_ms},
        "greedy": {**theirs, "ms": greedy_ms},
        "travel_change_pct": travel_change_pct(mine, theirs),
        "tiers_where_engine_serves_fewer": tiers_where_worse(mine, theirs),
        "engine_distance_only": km_only,
        "distance_only_travel_change_pct": travel_change_pct(km_only, theirs),
    }
    if int(requests.slots.sum()) * pool.n_windows <= DENSE_CHECK_CELLS:
        dense = dense_match(requests, PoolIndex.build(pool), policy)
        day["agreement"] = check_agreement(
            name,
            Objective("dense", dense.value_served, dense.total_cost),
            Objective("engine", engine.value_served, engine.total_cost),
        )
    change = day["travel_change_pct"]
    progress.note(
        f"{name}: engine value {mine['value_served']} vs greedy {theirs['value_served']}, "
        f"travel {change:+.1f}%"
        if change is not None
        else f"{name}: greedy travelled 0 km"
    )
    return day
