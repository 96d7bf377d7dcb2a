"""Running the three dispatchers on the same days and seeds, and summing over the seeds."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from benchmarks.day import bound, metrics
from benchmarks.day.engine_arm import ROUND_S, run_engine
from benchmarks.day.generate import make_day
from benchmarks.day.greedy_arm import run_greedy
from benchmarks.day.world import DEADLINE_S, OFFER_TTL_S, SPEED_KMH, TIERS, Day, reach

Results = dict[str, Any]
ARMS = ("greedy", "engine", "bound")
#: Seconds HiGHS may spend on a day's bound (answered; the km get a quarter more), full and
#: quick runs.
TIME_LIMIT_S, QUICK_TIME_LIMIT_S = 120.0, 10.0


def run_day(
    day: Day, time_limit_s: float = TIME_LIMIT_S, round_s: int = ROUND_S, window: str = "service"
) -> Results:
    """Greedy, the engine (its orders' windows written as ``window``) and the bound on
    ``day``: their figures and the day's."""
    pairs = reach(day)
    started = time.perf_counter()
    greedy = run_greedy(day, pairs)
    greedy_s = time.perf_counter() - started
    engine = run_engine(day, round_s, pairs, window).outcome
    engine_s = time.perf_counter() - started - greedy_s
    hindsight = bound.solve(day, pairs, time_limit_s)
    arms = {
        "greedy": {**metrics.figures(day, greedy), "seconds": round(greedy_s, 2)},
        "engine": {**metrics.figures(day, engine), "seconds": round(engine_s, 2)},
        "bound": metrics.figures(day, hindsight.schedule),
    }
    arms["bound"].update(
        served_bound=hindsight.served,
        schedule_served=arms["bound"]["served"],
        method=hindsight.method,
        travel_minimal=hindsight.travel_minimal,
        step_minutes=hindsight.step_s // 60,
        arcs=hindsight.arcs,
        seconds=round(hindsight.seconds, 1),
    )
    return {
        "variant": day.name,
        "seed": day.seed,
        "orders": len(day),
        "volunteers": len(day.pool),
        "shifts": day.pool.n_windows,
        "hours": round((day.closes - day.opens) / 3600, 1),
        "slots": int(day.needs.slots.sum()),
        "arms": arms,
        "gap_closed": metrics.gap_closed(
            arms["engine"]["served"], arms["greedy"]["served"], hindsight.served
        ),
    }


def run_days(
    variants: Sequence[str],
    seeds: Sequence[int],
    *,
    quick: bool = False,
    window: str = "service",
    step: Callable[[str], None] = lambda _: None,
    note: Callable[[str], None] = lambda _: None,
) -> Results:
    """Every variant on every seed, and the sums over the seeds per variant; ``step`` is told
    each day before it runs, ``note`` its outcome."""
    limit = QUICK_TIME_LIMIT_S if quick else TIME_LIMIT_S
    days: list[Results] = []
    for variant in variants:
        for seed in seeds:
            step(f"{variant} day, seed {seed}")
            days.append(run_day(make_day(variant, seed, quick=quick), limit, window=window))
            note(_line(days[-1]))
    return {
        "quick": quick,
        "seeds": list(seeds),
        "rules": {**rules(), "engine_window": window},
        "days": days,
        "variants": {v: summed([d for d in days if d["variant"] == v]) for v in variants},
    }


def rules() -> Results:
    """The world's constants, for the report."""
    return {
        "deadline_minutes": {t.name.lower(): DEADLINE_S[t] // 60 for t in TIERS},
        "speed_kmh": SPEED_KMH,
        "offer_ttl_minutes": OFFER_TTL_S // 60,
        "round_minutes": ROUND_S // 60,
        "bound_time_limit_s": TIME_LIMIT_S,
    }


def summed(days: list[Results]) -> Results:
    """Per arm over ``days``: served (per tier), urgent on time, km per served, the mean of
    the per-day wait percentiles and Ginis; and the gap closed on the sums."""
    out: Results = {"seeds": [d["seed"] for d in days], "orders": sum(d["orders"] for d in days)}
    for arm in ARMS:
        figs = [d["arms"][arm] for d in days]
        served = sum(f["served"] for f in figs)
        km = sum(f["travel_km"] for f in figs)
        row: Results = {
            "served": served,
            "urgent_on_time": sum(f["urgent_on_time"] for f in figs),
            "urgent_on_site": sum(f["urgent_on_site"] for f in figs),
            "travel_km": round(km, 1),
            "km_per_served": round(km / served, 3) if served else None,
            "hours_gini": round(float(np.mean([f["hours_gini"] for f in figs])), 4),
            "by_tier": {},
        }
        for tier in (t.name.lower() for t in TIERS):
            rows = [f["by_tier"][tier] for f in figs]
            row["by_tier"][tier] = {
                "asked": sum(r["asked"] for r in rows),
                "served": sum(r["served"] for r in rows),
                "wait_min_p50": _mean([r["wait_min_p50"] for r in rows]),
                "wait_min_p90": _mean([r["wait_min_p90"] for r in rows]),
            }
        if arm == "bound":
            row["served_bound"] = sum(f["served_bound"] for f in figs)
            row["methods"] = sorted({f["method"] for f in figs})
            row["travel_minimal"] = all(f["travel_minimal"] for f in figs)
        out[arm] = row
    out["gap_closed"] = metrics.gap_closed(
        out["engine"]["served"], out["greedy"]["served"], out["bound"]["served_bound"]
    )
    return out


def _mean(values: list[float | None]) -> float | None:
    found = [v for v in values if v is not None]
    return round(float(np.mean(found)), 1) if found else None


def _line(day: Results) -> str:
    a = day["arms"]
    return (
        f"served greedy {a['greedy']['served']}, engine {a['engine']['served']}, "
        f"bound {a['bound']['served_bound']} ({a['bound']['method']}); km/served "
        f"{a['greedy']['km_per_served']} vs {a['engine']['km_per_served']}"
    )
