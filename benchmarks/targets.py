"""The project's performance and quality targets, judged against a run's results.

Each target is MET or NOT MET on the figure it names, with the figure shown either way;
NOT MEASURED says why there is no figure (a scenario not run, a quick run's smaller sizes,
the registry not available). Where only a lower bound was measured (the core alone, for a
pool target) and it already misses, the target is NOT MET on that bound.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

MET, NOT_MET, NOT_MEASURED = "MET", "NOT MET", "NOT MEASURED"
Scenarios = dict[str, Any]


@dataclass(frozen=True)
class Verdict:
    """One target's row in the report."""

    target: str
    goal: str
    measured: str
    status: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def evaluate(scenarios: Scenarios) -> list[Verdict]:
    """Every target, in the order of the issue."""
    rules: list[Callable[[Scenarios], Verdict]] = [
        _pool_match,
        _inline_match,
        _city_time,
        _city_memory,
        _throughput,
        _dense_speedup,
        _quality_served,
        _quality_travel,
    ]
    return [rule(scenarios) for rule in rules]


def _missing(target: str, goal: str, why: str) -> Verdict:
    return Verdict(target, goal, why, NOT_MEASURED)


def _status(ok: bool) -> str:
    return MET if ok else NOT_MET


def _e2e(scenarios: Scenarios, target: str, goal: str) -> Any:
    e2e = scenarios.get("e2e")
    if e2e is None:
        return _missing(target, goal, "scenario e2e not run")
    if (e2e["requests"], e2e["volunteers"]) != (1_000, 20_000):
        return _missing(
            target, goal, f"quick run: only {e2e['requests']:,}x{e2e['volunteers']:,} measured"
        )
    return e2e


def _pool_match(scenarios: Scenarios) -> Verdict:
    target = "Match 1,000 requests vs a registered pool of 20,000, over gRPC"
    goal = "p50 < 50 ms, exact"
    e2e = _e2e(scenarios, target, goal)
    if isinstance(e2e, Verdict):
        return e2e
    pool = e2e["pool"]
    if not pool["available"]:
        return _missing(target, goal, pool["reason"])
    p50 = pool["round_trip_ms"]["p50"]
    measured = f"p50 {p50:.0f} ms (first call after upsert {pool['first_call_ms']:.0f} ms)"
    return Verdict(target, goal, measured, _status(p50 < 50))


def _inline_match(scenarios: Scenarios) -> Verdict:
    target = "Match 1,000 x 20,000 inline, over gRPC"
    goal = "p50 < 250 ms"
    e2e = _e2e(scenarios, target, goal)
    if isinstance(e2e, Verdict):
        return e2e
    p50 = e2e["inline"]["round_trip_ms"]["p50"]
    core = e2e["inline"]["server_core_ms"]
    return Verdict(target, goal, f"p50 {p50:.0f} ms (core {core:.0f} ms)", _status(p50 < 250))


def _city(scenarios: Scenarios, target: str, goal: str) -> Any:
    city = scenarios.get("city")
    if city is None:
        return _missing(target, goal, "scenario city not run")
    if (city["requests"], city["volunteers"]) != (10_000, 200_000):
        return _missing(
            target, goal, f"quick run: only {city['requests']:,}x{city['volunteers']:,} measured"
        )
    return city


def _city_time(scenarios: Scenarios) -> Verdict:
    target = "City 10,000 x 200,000 against the registered pool"
    goal = "< 2 s, exact"
    city = _city(scenarios, target, goal)
    if isinstance(city, Verdict):
        return city
    pool, core = city["pool"], city["core"]
    if pool["available"]:
        p50 = pool["round_trip_ms"]["p50"] / 1e3
        measured = (
            f"{p50:.1f} s per Match (p50; the first after registering "
            f"{pool['first_call_ms'] / 1e3:.1f} s); core alone {core['warm_solve_ms'] / 1e3:.1f} s"
        )
        return Verdict(target, goal, measured, _status(p50 < 2))
    core_s = core["warm_solve_ms"] / 1e3
    measured = f"pool {pool['reason']}; core alone (warm index) {core_s:.1f} s"
    return Verdict(target, goal, measured, NOT_MET if core_s >= 2 else NOT_MEASURED)


def _city_memory(scenarios: Scenarios) -> Verdict:
    target = "City 10,000 x 200,000: peak memory"
    goal = "< 4 GB"
    city = _city(scenarios, target, goal)
    if isinstance(city, Verdict):
        return city
    pool, core = city["pool"], city["core"]
    core_gb = core["peak_rss_mb"] / 1024
    if pool["available"] and pool.get("server_memory_mb"):
        gb = pool["server_memory_mb"]["peak_mb"] / 1024
        measured = f"server peak {gb:.2f} GB (core alone, data included: {core_gb:.2f} GB)"
        return Verdict(target, goal, measured, _status(gb < 4))
    measured = f"core alone, data included: {core_gb:.2f} GB; server not measured"
    return Verdict(target, goal, measured, NOT_MET if core_gb >= 4 else NOT_MEASURED)


def _throughput(scenarios: Scenarios) -> Verdict:
    target = "Small batches (10 requests, pool of 2,000), 16 concurrent clients"
    goal = ">= 1,500 Match/s"
    found = scenarios.get("throughput")
    if found is None:
        return _missing(target, goal, "scenario throughput not run")
    rate = found["calls_per_s"]
    lat = found["latency_ms"]
    measured = (
        f"{rate:,.0f} Match/s (p50 {lat.get('p50', 0):.0f} ms, p99 {lat.get('p99', 0):.0f} ms, "
        f"{found['errors']} errors; {found['duration_s']:g} s)"
    )
    if found["mode"] != "pool":
        return Verdict(target, goal, f"{measured}; {found['mode']}", NOT_MEASURED)
    return Verdict(target, goal, measured, _status(rate >= 1_500 and found["errors"] == 0))


def _dense_speedup(scenarios: Scenarios) -> Verdict:
    target = "Faster than dense numpy + scipy at 1,000 x 20,000, same objective"
    goal = ">= 10x"
    core = scenarios.get("core")
    if core is None:
        return _missing(target, goal, "scenario core not run")
    cases = [
        c
        for c in core["cases"]
        if (c["requests"], c["volunteers"]) == (1_000, 20_000) and c["dense"]["ran"]
    ]
    if not cases:
        return _missing(target, goal, "dense not run at 1,000 x 20,000 (quick run?)")
    parts = [f"{c['geography']} {c['speedup_vs_dense']:.0f}x" for c in cases]
    ok = all(c["speedup_vs_dense"] >= 10 for c in cases)
    measured = ", ".join(parts) + " (engine build + cold solve vs dense; objectives equal)"
    return Verdict(target, goal, measured, _status(ok))


def _demo_day(scenarios: Scenarios) -> Any:
    quality = scenarios.get("quality")
    if quality is None:
        return None
    return next((d for d in quality["days"] if d["name"] == "demo day"), None)


def _quality_served(scenarios: Scenarios) -> Verdict:
    target = "Demo day vs greedy: served at every urgency"
    goal = "at least as many requests and slots in every tier"
    day = _demo_day(scenarios)
    if day is None:
        return _missing(target, goal, "scenario quality not run")
    cells = []
    for tier, mine in day["engine"]["by_urgency"].items():
        theirs = day["greedy"]["by_urgency"][tier]
        cells.append(f"{tier} {mine['requests']} vs {theirs['requests']}")
    measured = "requests served, engine vs greedy: " + ", ".join(cells)
    worse = day["tiers_where_engine_serves_fewer"]
    if worse:
        measured += f"; fewer in: {', '.join(worse)}"
    return Verdict(target, goal, measured, _status(not worse))


def _quality_travel(scenarios: Scenarios) -> Verdict:
    target = "Demo day vs greedy: total travel"
    goal = ">= 15% less"
    day = _demo_day(scenarios)
    if day is None:
        return _missing(target, goal, "scenario quality not run")
    change = day["travel_change_pct"]
    if change is None:
        return _missing(target, goal, "greedy travelled 0 km")
    engine_km, greedy_km = day["engine"]["total_km"], day["greedy"]["total_km"]
    direction = "less" if change <= 0 else "more"
    measured = (
        f"{abs(change):.1f}% {direction} ({engine_km:,.0f} km vs {greedy_km:,.0f} km; "
        f"slots filled {day['engine']['slots_filled']} vs {day['greedy']['slots_filled']})"
    )
    only = day.get("distance_only_travel_change_pct")
    if only is not None:
        measured += f"; with a distance-only policy {only:+.1f}%"
    return Verdict(target, goal, measured, _status(change <= -15))
