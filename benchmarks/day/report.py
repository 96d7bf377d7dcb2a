"""The day's Markdown: the rules, a table per variant (sums over the seeds), one row per day,
and the targets. Built only from the JSON-ready results of ``run.run_days``."""

from __future__ import annotations

from typing import Any

from benchmarks.day.world import TIER_NAMES, TIERS
from benchmarks.sections import table
from benchmarks.targets import TARGETS

Results = dict[str, Any]
LABELS = {
    "greedy": "greedy on arrival",
    "engine": "engine (dispatch rounds)",
    "bound": "hindsight schedule",
}
HEAD = ["dispatcher", "served"] + [TIER_NAMES[t] for t in TIERS]
HEAD += ["urgent on time", "urgent on site", "wait p50 / p90, min (R / U / D)"]
HEAD += ["km per served", "hours Gini"]


def section(results: Results, plot: str = "") -> str:
    """The whole day section (``##`` level)."""
    parts = ["## A day in simulated time\n\n" + _rules(results)]
    for variant, summary in results["variants"].items():
        parts.append(f"### {variant} day\n\n" + _variant(summary))
    parts.append("### Each day\n\n" + _days(results["days"]))
    if results.get("targets"):
        verdicts = [t.verdict({"day": results}) for t in TARGETS if t.scenario == "day"]
        rows = [[v.target, v.goal, v.measured, f"**{v.status}**"] for v in verdicts]
        head = ["target", "goal", "measured", "status"]
        parts.append("### Targets (issue #14)\n\n" + table(head, rows))
    if plot:
        parts.append(f"![orders waiting over the day]({plot})")
    return "\n\n".join(parts)


def _rules(results: Results) -> str:
    r = results["rules"]
    deadlines = ", ".join(f"{k} {m} min" for k, m in r["deadline_minutes"].items())
    seeds = ", ".join(str(s) for s in results["seeds"])
    return (
        f"{'Quick run' if results['quick'] else 'Seeds'} {seeds}; figures summed over the "
        f"seeds (waits and Gini: mean of the days). Deadlines (latest set-off): {deadlines}; "
        f"volunteers travel at {r['speed_kmh']:g} km/h and are busy for the round trip plus "
        f"the service; offers expire after {r['offer_ttl_minutes']} min; the engine's rounds "
        f"run every {r['round_minutes']} min and at once for urgent orders; each order asks "
        + (
            "for its service time from its deadline (today's API has no deadline field). "
            if r.get("engine_window", "service") == "service"
            else "for one minute at its deadline (diagnosis run). "
        )
        + "*Greedy on "
        "arrival*: each order at once to its nearest feasible free volunteer, retried when "
        "someone frees up. *Hindsight schedule*: every arrival and answer known in advance, "
        "an integer program on a time-expanded network; its *bound* holds for any dispatcher "
        "(see `benchmarks/day/bound.py`)."
    )


def _variant(s: Results) -> str:
    rows = [_row(arm, s[arm]) for arm in ("greedy", "engine", "bound")]
    bound = s["bound"]
    closed = s["gap_closed"]
    note = (
        f"Bound on orders answered: **{bound['served_bound']:,}** of {s['orders']:,} "
        f"({', '.join(bound['methods'])}); the engine closes "
        + (f"**{closed:.0%}**" if closed is not None else "no gap (none left)")
        + " of greedy's served gap to it."
    )
    return table(HEAD, rows) + "\n\n" + note


def _row(arm: str, f: Results) -> list[str]:
    """One dispatcher's row; the hindsight schedule's waits and arrivals are not goals of
    its program, so they are not shown, and its km are marked when not proven fewest."""
    tiers = [f["by_tier"][t.name.lower()] for t in TIERS]
    planned = arm == "bound"
    waits = "-" if planned else " / ".join(_wait(t) for t in tiers)
    asked = sum(t["asked"] for t in tiers)
    km = "-" if f["km_per_served"] is None else f"{f['km_per_served']:.2f}"
    if planned and not f["travel_minimal"]:
        km += " (not proven fewest)"
    return [
        LABELS[arm],
        f"{f['served']:,} of {asked:,}",
        *(f"{t['served']:,} of {t['asked']:,}" for t in tiers),
        f"{f['urgent_on_time']:,}",
        "-" if planned else f"{f['urgent_on_site']:,}",
        waits,
        km,
        f"{f['hours_gini']:.3f}",
    ]


def _wait(t: Results) -> str:
    p50, p90 = t["wait_min_p50"], t["wait_min_p90"]
    return "-" if p50 is None else f"{p50:.0f}/{p90:.0f}"


def _days(days: list[Results]) -> str:
    head = ["day", "seed", "orders x volunteers", "greedy", "engine", "bound", "method"]
    head += ["step", "bound s", "gap closed"]
    rows = []
    for d in days:
        a = d["arms"]
        closed = d["gap_closed"]
        rows.append(
            [
                d["variant"],
                str(d["seed"]),
                f"{d['orders']:,} x {d['volunteers']:,}",
                str(a["greedy"]["served"]),
                str(a["engine"]["served"]),
                str(a["bound"]["served_bound"]),
                a["bound"]["method"],
                f"{a['bound']['step_minutes']} min",
                f"{a['bound']['seconds']:.0f}",
                "-" if closed is None else f"{closed:.0%}",
            ]
        )
    return table(head, rows)
