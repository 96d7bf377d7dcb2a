"""One Markdown section per scenario, from its JSON-ready results."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Row = list[str]
Results = dict[str, Any]


def table(headers: Row, rows: list[Row]) -> str:
    """A Markdown table."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def ms(summary: Results | None) -> str:
    """A summary's p50 in ms, or '-'."""
    if not summary or not summary.get("n"):
        return "-"
    return f"{summary['p50']:,.1f}"


def _size(case: Results) -> str:
    return f"{case['requests']:,} x {case['volunteers']:,}"


def _pct(change: float | None) -> str:
    return "-" if change is None else f"{change:+.1f}%"


CORE_TIMING_HEAD = ["geography", "requests x volunteers", "slots x windows", "repeats"]
CORE_TIMING_HEAD += ["engine build", "engine solve (cold)", "engine total", "engine warm solve"]
CORE_TIMING_HEAD += ["greedy", "dense", "engine vs dense", "objective"]
CORE_WHERE_HEAD = ["geography", "size", "candidates", "scoring", "solve + proof", "rounds"]
CORE_WHERE_HEAD += ["candidate pairs", "warm: candidates / scoring / solve"]
CORE_QUALITY_HEAD = ["geography", "size", "value served", "requests served", "total km", "travel"]


def _core_timing(c: Results) -> Row:
    e, g, d = c["engine"], c["greedy"], c["dense"]
    return [
        c["geography"],
        _size(c),
        f"{c['slots']:,} x {c['windows']:,}",
        str(e["repeats"]),
        ms(e["build_ms"]),
        ms(e["solve_ms"]),
        ms(e["total_ms"]),
        ms(e["warm_solve_ms"]),
        ms(g["total_ms"]),
        ms(d["total_ms"]) if d["ran"] else d["skipped"],
        f"{c['speedup_vs_dense']:.0f}x" if c["speedup_vs_dense"] else "-",
        "equal" if d["ran"] else "not checked",
    ]


def _core_quality(c: Results) -> Row:
    e, g = c["engine"], c["greedy"]
    return [
        c["geography"],
        _size(c),
        f"{e['value_served']:,} / {g['value_served']:,}",
        f"{e['requests_served']:,} / {g['requests_served']:,}",
        f"{e['total_km']:,.0f} / {g['total_km']:,.0f}",
        _pct(c["travel_change_vs_greedy_pct"]),
    ]


def _core_where(c: Results) -> Row:
    s, w = c["engine"]["stats"], c["engine"]["warm_stats"]
    return [
        c["geography"],
        _size(c),
        f"{s['candidates_ms']:,.0f}",
        f"{s['scoring_ms']:,.0f}",
        f"{s['solve_ms']:,.0f}",
        str(s["rounds"]),
        f"{s['candidate_pairs']:,}",
        f"{w['candidates_ms']:,.0f} / {w['scoring_ms']:,.0f} / {w['solve_ms']:,.0f}",
    ]


def core(results: Results) -> str:
    cases = results["cases"]
    return "\n\n".join(
        [
            "## Solver core scaling (ms, median of repeats)",
            "Engine total = `PoolIndex.build` + the first `solve_match` on it (which builds "
            "the k-d trees it needs); warm = a second solve on the same index, as with a "
            "registered pool. Dense = `dense_match` (numpy cost matrix + scipy "
            "`linear_sum_assignment`); objective = engine and dense agree on value served and "
            "total cost (checked, the run fails otherwise).",
            table(CORE_TIMING_HEAD, [_core_timing(c) for c in cases]),
            "### Engine vs greedy on the same batches (engine / greedy)",
            table(CORE_QUALITY_HEAD, [_core_quality(c) for c in cases]),
            "Travel: the engine's total km relative to greedy's (negative = less). The engine "
            "maximises value served first, then minimises distance + skill + rating + "
            "fairness cost, not km alone.",
            "### Where the engine's time goes (cold solve, ms; from `MatchResult.stats`)",
            table(CORE_WHERE_HEAD, [_core_where(c) for c in cases]),
        ]
    )


def e2e(results: Results) -> str:
    rows = []
    for mode in ("inline", "pool"):
        f = results[mode]
        if mode == "pool" and not f["available"]:
            rows.append([mode, f["reason"], "", "", "", "", ""])
            continue
        rows.append(
            [
                mode,
                ms(f["round_trip_ms"]),
                f"{f['round_trip_ms']['p99']:,.1f}",
                str(f["calls"]),
                f"{f['server_core_ms']:,.1f}",
                f"{f['client_serialize_ms']:,.1f} / {f['client_parse_ms']:,.1f}",
                f"{f['request_bytes'] / 1e6:,.2f} / {f['response_bytes'] / 1e6:,.2f}",
            ]
        )
    notes = [
        "Round trip through the generated stub with a prebuilt message (includes the client "
        "serializing it and parsing the reply). Building the inline message from domain "
        f"objects took {results['inline']['client_build_ms']:,.0f} ms (once per batch, not in "
        "the round trip)."
    ]
    pool = results["pool"]
    if pool["available"]:
        notes.append(
            f"Pool: {results['volunteers']:,} volunteers upserted in {pool['upsert_ms']:,.0f} "
            f"ms; the first Match after that took {pool['first_call_ms']:,.0f} ms (it builds "
            "the pool view)."
        )
    head = ["mode", "p50 ms", "p99 ms", "calls", "server core ms"]
    head += ["client serialize / parse ms", "request / reply MB"]
    title = f"## End to end over gRPC ({_size(results)})"
    return "\n\n".join([title, table(head, rows), " ".join(notes)])


def throughput(t: Results) -> str:
    lat = t["latency_ms"]
    row = [
        t["mode"],
        f"{t['calls_per_s']:,.0f}",
        ms(lat),
        f"{lat.get('p99', 0):,.1f}",
        f"{t['calls']:,}",
        str(t["errors"]),
    ]
    title = (
        f"## Small-batch throughput ({t['requests_per_call']} requests, pool of {t['pool']:,}, "
        f"{t['concurrency']} concurrent, {t['duration_s']:g} s)"
    )
    head = ["mode", "Match/s", "p50 ms", "p99 ms", "calls", "errors"]
    return "\n\n".join(
        [title, table(head, [row]), f"Server: {t['server']}. Client: {t['client']}."]
    )


def city(results: Results) -> str:
    c, pool = results["core"], results["pool"]
    s = c["stats"]
    lines = [
        f"## City ({_size(results)}, clustered)\n",
        f"- Core in a fresh process: generate {c['generate_ms']:,.0f} ms, index "
        f"{c['build_ms']:,.0f} ms, solve {c['solve_ms']:,.0f} ms cold / "
        f"{c['warm_solve_ms']:,.0f} ms warm; peak memory {c['peak_rss_mb']:,.0f} MiB "
        "(data included).",
        f"- Cold solve: candidates {s['candidates_ms']:,.0f} ms, scoring {s['scoring_ms']:,.0f} "
        f"ms, solve + proof {s['solve_ms']:,.0f} ms; {s['rounds']} rounds, "
        f"{s['candidate_pairs']:,} candidate pairs.",
    ]
    if pool["available"]:
        peak = (pool["server_memory_mb"] or {}).get("peak_mb", float("nan"))
        lines.append(
            f"- Pool server (child process): upsert {pool['upsert_ms'] / 1e3:,.1f} s "
            f"({pool['upsert_per_s']:,.0f} volunteers/s); first Match "
            f"{pool['first_call_ms'] / 1e3:,.2f} s, then p50 "
            f"{pool['round_trip_ms']['p50'] / 1e3:,.2f} s; server peak memory {peak:,.0f} MiB."
        )
    else:
        lines.append(f"- Pool server: {pool['reason']}.")
    return "\n".join(lines)


def pool_load(p: Results) -> str:
    if not p["available"]:
        return f"## Redis pool load\n\n{p['reason']} (store {p['store']})."
    fresh, steps = p["fresh_server"], p.get("in_process", {})
    lines = [
        f"## Redis pool load ({p['volunteers']:,} volunteers, {p['store']})\n",
        f"- Upsert through VolunteerService: {p['upsert_ms']:,.0f} ms "
        f"({p['upsert_per_s']:,.0f} volunteers/s).",
        f"- Writer server: first pool Match {p['writer']['first_call_ms']:,.0f} ms, then p50 "
        f"{ms(p['writer']['round_trip_ms'])} ms.",
        f"- Fresh server on the same Redis: ready {fresh['launch_to_ready_ms']:,.0f} ms after "
        f"launch, first pool Match {fresh['first_call_ms']:,.0f} ms (loads the pool), then "
        f"p50 {ms(fresh['round_trip_ms'])} ms.",
    ]
    if steps.get("records"):
        lines.append(
            f"- The load step by step (in process): snapshot {steps['snapshot_ms']:,.0f} ms, "
            f"records to columns {steps['records_to_columns_ms']:,.0f} ms, index "
            f"{steps['index_build_ms']:,.0f} ms."
        )
    return "\n".join(lines)


def _day_rows(day: Results) -> list[Row]:
    """One row per urgency tier (asked, engine, greedy), then value, km, distance-only."""
    name, e, g = day["name"], day["engine"], day["greedy"]
    rows = []
    for tier, asked in day["asked"].items():
        mine, theirs = e["by_urgency"][tier], g["by_urgency"][tier]
        rows.append(
            [
                name,
                tier,
                f"{asked['requests']} / {asked['slots']}",
                f"{mine['requests']} / {mine['slots']}",
                f"{theirs['requests']} / {theirs['slots']}",
            ]
        )
    rows.append([name, "value", "", f"{e['value_served']:,}", f"{g['value_served']:,}"])
    km = f"{e['total_km']:,.0f} ({_pct(day['travel_change_pct'])})"
    rows.append([name, "total km", "", km, f"{g['total_km']:,.0f}"])
    if "engine_distance_only" in day:
        only = day["engine_distance_only"]
        change = _pct(day["distance_only_travel_change_pct"])
        figures = f"{only['value_served']:,}, {only['total_km']:,.0f} ({change})"
        rows.append([name, "distance-only policy: value, km", "", figures, ""])
    return rows


def quality(results: Results) -> str:
    rows = [row for day in results["days"] for row in _day_rows(day)]
    days = "; ".join(
        f"{d['name']}: seed {d['seed']}, {d['requests']:,} requests x {d['volunteers']:,} "
        "volunteers"
        for d in results["days"]
    )
    return "\n\n".join(
        [
            "## Quality against greedy",
            f"{days}. Cells: requests fully served / slots filled. The distance-only row "
            "solves the same day with skill, rating and fairness weights set to 0 (travel "
            "against greedy's in brackets): the default policy trades some km for better "
            "skill, rating and fairness cost.",
            table(["day", "tier", "asked", "engine", "greedy"], rows),
        ]
    )


def day(results: Results) -> str:
    """The day's section (``benchmarks.day.report``, imported here: it uses ``table``)."""
    from benchmarks.day.report import section

    return section(results)


#: Section renderers by scenario name, in report order.
RENDERERS: dict[str, Callable[[Results], str]] = {
    "core": core,
    "e2e": e2e,
    "throughput": throughput,
    "city": city,
    "pool-load": pool_load,
    "quality": quality,
    "day": day,
}
