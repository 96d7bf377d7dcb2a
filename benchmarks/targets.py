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


#: What a judge says of a scenario's results: the measured figure, and the status.
Judgement = tuple[str, str]


@dataclass(frozen=True)
class Target:
    """A target judged on one scenario's results; ``full_size``: the (requests, volunteers)
    it is stated for, when a quick run's smaller size does not count."""

    target: str
    goal: str
    scenario: str
    judge: Callable[[Any], Judgement]
    full_size: tuple[int, int] | None = None

    def verdict(self, scenarios: Scenarios) -> Verdict:
        """MET / NOT MET on the scenario's figure, or NOT MEASURED and why."""
        found = scenarios.get(self.scenario)
        if found is None:
            return self._unmeasured(f"scenario {self.scenario} not run")
        if self.full_size is not None:
            size = (found["requests"], found["volunteers"])
            if size != self.full_size:
                return self._unmeasured(f"quick run: only {size[0]:,}x{size[1]:,} measured")
        measured, status = self.judge(found)
        return Verdict(self.target, self.goal, measured, status)

    def _unmeasured(self, why: str) -> Verdict:
        return Verdict(self.target, self.goal, why, NOT_MEASURED)


def evaluate(scenarios: Scenarios) -> list[Verdict]:
    """Every target, in the order of the issue."""
    return [target.verdict(scenarios) for target in TARGETS]


def _status(ok: bool) -> str:
    return MET if ok else NOT_MET


def _pool_match(e2e: Scenarios) -> Judgement:
    pool = e2e["pool"]
    if not pool["available"]:
        return pool["reason"], NOT_MEASURED
    p50 = pool["round_trip_ms"]["p50"]
    measured = f"p50 {p50:.0f} ms (first call after upsert {pool['first_call_ms']:.0f} ms)"
    return measured, _status(p50 < 50)


def _inline_match(e2e: Scenarios) -> Judgement:
    p50 = e2e["inline"]["round_trip_ms"]["p50"]
    core = e2e["inline"]["server_core_ms"]
    return f"p50 {p50:.0f} ms (core {core:.0f} ms)", _status(p50 < 250)


def _city_time(city: Scenarios) -> Judgement:
    pool, core = city["pool"], city["core"]
    if pool["available"]:
        p50 = pool["round_trip_ms"]["p50"] / 1e3
        measured = (
            f"{p50:.1f} s per Match (p50; the first after registering "
            f"{pool['first_call_ms'] / 1e3:.1f} s); core alone {core['warm_solve_ms'] / 1e3:.1f} s"
        )
        return measured, _status(p50 < 2)
    core_s = core["warm_solve_ms"] / 1e3
    measured = f"pool {pool['reason']}; core alone (warm index) {core_s:.1f} s"
    return measured, NOT_MET if core_s >= 2 else NOT_MEASURED


def _city_memory(city: Scenarios) -> Judgement:
    pool, core = city["pool"], city["core"]
    core_gb = core["peak_rss_mb"] / 1024
    if pool["available"] and pool.get("server_memory_mb"):
        gb = pool["server_memory_mb"]["peak_mb"] / 1024
        measured = f"server peak {gb:.2f} GB (core alone, data included: {core_gb:.2f} GB)"
        return measured, _status(gb < 4)
    measured = f"core alone, data included: {core_gb:.2f} GB; server not measured"
    return measured, NOT_MET if core_gb >= 4 else NOT_MEASURED


def _throughput(found: Scenarios) -> Judgement:
    rate = found["calls_per_s"]
    lat = found["latency_ms"]
    measured = (
        f"{rate:,.0f} Match/s (p50 {lat.get('p50', 0):.0f} ms, p99 {lat.get('p99', 0):.0f} ms, "
        f"{found['errors']} errors; {found['duration_s']:g} s)"
    )
    if found["mode"] != "pool":
        return f"{measured}; {found['mode']}", NOT_MEASURED
    return measured, _status(rate >= 1_500 and found["errors"] == 0)


def _dense_speedup(core: Scenarios) -> Judgement:
    cases = [
        c
        for c in core["cases"]
        if (c["requests"], c["volunteers"]) == (1_000, 20_000) and c["dense"]["ran"]
    ]
    if not cases:
        return "dense not run at 1,000 x 20,000 (quick run?)", NOT_MEASURED
    parts = [f"{c['geography']} {c['speedup_vs_dense']:.0f}x" for c in cases]
    ok = all(c["speedup_vs_dense"] >= 10 for c in cases)
    measured = ", ".join(parts) + " (engine build + cold solve vs dense; objectives equal)"
    return measured, _status(ok)


def _demo_day(quality: Scenarios) -> Any:
    return next((d for d in quality["days"] if d["name"] == "demo day"), None)


def _quality_served(quality: Scenarios) -> Judgement:
    day = _demo_day(quality)
    if day is None:
        return "scenario quality not run", NOT_MEASURED
    cells = []
    for tier, mine in day["engine"]["by_urgency"].items():
        theirs = day["greedy"]["by_urgency"][tier]
        cells.append(f"{tier} {mine['requests']} vs {theirs['requests']}")
    measured = "requests served, engine vs greedy: " + ", ".join(cells)
    worse = day["tiers_where_engine_serves_fewer"]
    if worse:
        measured += f"; fewer in: {', '.join(worse)}"
    return measured, _status(not worse)


def _quality_travel(quality: Scenarios) -> Judgement:
    day = _demo_day(quality)
    if day is None:
        return "scenario quality not run", NOT_MEASURED
    change = day["travel_change_pct"]
    if change is None:
        return "greedy travelled 0 km", NOT_MEASURED
    engine_km, greedy_km = day["engine"]["total_km"], day["greedy"]["total_km"]
    direction = "less" if change <= 0 else "more"
    measured = (
        f"{abs(change):.1f}% {direction} ({engine_km:,.0f} km vs {greedy_km:,.0f} km; "
        f"slots filled {day['engine']['slots_filled']} vs {day['greedy']['slots_filled']})"
    )
    only = day.get("distance_only_travel_change_pct")
    if only is not None:
        measured += f"; with a distance-only policy {only:+.1f}%"
    return measured, _status(change <= -15)


def _day(key: str) -> Callable[[Scenarios], Judgement]:
    """The judgement ``benchmarks.day.targets`` made of target ``key`` (sums over the seeds)."""

    def judge(day: Scenarios) -> Judgement:
        found = day["targets"][key]
        return found["measured"], found["status"]

    return judge


E2E_SIZE, CITY_SIZE = (1_000, 20_000), (10_000, 200_000)
#: The targets, in the order of the issue.
TARGETS: tuple[Target, ...] = (
    Target(
        "Match 1,000 requests vs a registered pool of 20,000, over gRPC",
        "p50 < 50 ms, exact",
        "e2e",
        _pool_match,
        E2E_SIZE,
    ),
    Target(
        "Match 1,000 x 20,000 inline, over gRPC", "p50 < 250 ms", "e2e", _inline_match, E2E_SIZE
    ),
    Target(
        "City 10,000 x 200,000 against the registered pool",
        "< 2 s, exact",
        "city",
        _city_time,
        CITY_SIZE,
    ),
    Target("City 10,000 x 200,000: peak memory", "< 4 GB", "city", _city_memory, CITY_SIZE),
    Target(
        "Small batches (10 requests, pool of 2,000), 16 concurrent clients",
        ">= 1,500 Match/s",
        "throughput",
        _throughput,
    ),
    Target(
        "Faster than dense numpy + scipy at 1,000 x 20,000, same objective",
        ">= 10x",
        "core",
        _dense_speedup,
    ),
    Target(
        "Demo day vs greedy: served at every urgency",
        "at least as many requests and slots in every tier",
        "quality",
        _quality_served,
    ),
    Target("Demo day vs greedy: total travel", ">= 15% less", "quality", _quality_travel),
    Target(
        "Contended day, simulated: served per tier",
        "engine >= greedy on arrival in every tier (3 seeds)",
        "day",
        _day("contended_tiers"),
    ),
    Target(
        "Contended day, simulated: urgent on time",
        "engine >= greedy on arrival",
        "day",
        _day("contended_urgent"),
    ),
    Target(
        "Contended day, simulated: travel per served order",
        ">= 15% lower than greedy on arrival",
        "day",
        _day("contended_travel"),
    ),
    Target(
        "Contended day, simulated: served gap to the hindsight bound",
        "engine closes >= half of greedy's gap",
        "day",
        _day("contended_gap"),
    ),
    Target(
        "Slack day (twice the volunteers), simulated",
        "travel per served <= greedy + 1%, served >= greedy",
        "day",
        _day("slack"),
    ),
    Target(
        "Demo day, simulated",
        "served per tier and urgent on time >= greedy, travel per served <= greedy",
        "day",
        _day("demo"),
    ),
)
