"""Issue #14's targets for the day, judged on the sums over the seeds (``run.summed``).

Each judge returns the measured figure and MET / NOT MET; a quick run's days are too small to
count (NOT MEASURED), and so is a variant that was not run. The suite's ``benchmarks.targets``
lists them (by ``KEYS``) with their wording; ``judge_all`` fills the figures.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from benchmarks.targets import MET, NOT_MEASURED, NOT_MET

Summary = dict[str, Any]
Judged = dict[str, str]

#: The share of greedy's km per served order the engine must save on the contended day,
#: and how much worse it may be on the slack day.
CONTENDED_SAVING, SLACK_SLACK = 0.15, 0.01


def _status(ok: bool) -> str:
    return MET if ok else NOT_MET


def _tiers(s: Summary) -> tuple[str, bool]:
    cells, ok = [], True
    for tier, mine in s["engine"]["by_tier"].items():
        theirs = s["greedy"]["by_tier"][tier]["served"]
        cells.append(f"{tier} {mine['served']} vs {theirs}")
        ok &= mine["served"] >= theirs
    return "served, engine vs greedy: " + ", ".join(cells), ok


def _urgent(s: Summary) -> tuple[str, bool]:
    mine, theirs = s["engine"]["urgent_on_time"], s["greedy"]["urgent_on_time"]
    asked = s["engine"]["by_tier"]["urgent"]["asked"]
    return f"{mine} vs {theirs} of {asked}", mine >= theirs


def _km_change(s: Summary) -> float | None:
    mine, theirs = s["engine"]["km_per_served"], s["greedy"]["km_per_served"]
    if not mine or not theirs:
        return None
    return float(mine) / float(theirs) - 1.0


def _travel(s: Summary, limit: float) -> tuple[str, bool]:
    change = _km_change(s)
    if change is None:
        return "nothing served", False
    e, g = s["engine"]["km_per_served"], s["greedy"]["km_per_served"]
    served = f"{s['engine']['served']:,} vs {s['greedy']['served']:,} served"
    return f"{change:+.1%} ({e:.2f} vs {g:.2f} km per served order; {served})", change <= limit


def contended_tiers(s: Summary) -> Judged:
    measured, ok = _tiers(s)
    return {"measured": measured, "status": _status(ok)}


def contended_urgent(s: Summary) -> Judged:
    measured, ok = _urgent(s)
    return {"measured": measured, "status": _status(ok)}


def contended_travel(s: Summary) -> Judged:
    measured, ok = _travel(s, -CONTENDED_SAVING)
    return {"measured": measured, "status": _status(ok)}


def contended_gap(s: Summary) -> Judged:
    closed = s["gap_closed"]
    e, g, b = s["engine"]["served"], s["greedy"]["served"], s["bound"]["served_bound"]
    measured = f"engine {e}, greedy {g}, bound {b}: "
    if closed is None:
        return {"measured": measured + "no gap", "status": _status(e >= g)}
    return {"measured": measured + f"{closed:.0%} closed", "status": _status(closed >= 0.5)}


def slack(s: Summary) -> Judged:
    travel, travel_ok = _travel(s, SLACK_SLACK)
    ok = travel_ok and s["engine"]["served"] >= s["greedy"]["served"]
    return {"measured": f"travel {travel}", "status": _status(ok)}


def demo(s: Summary) -> Judged:
    tiers, tiers_ok = _tiers(s)
    urgent, urgent_ok = _urgent(s)
    travel, travel_ok = _travel(s, 0.0)
    measured = f"{tiers}; urgent on time {urgent}; travel {travel}"
    return {"measured": measured, "status": _status(tiers_ok and urgent_ok and travel_ok)}


#: key -> (variant, judge)
KEYS: dict[str, tuple[str, Callable[[Summary], Judged]]] = {
    "contended_tiers": ("contended", contended_tiers),
    "contended_urgent": ("contended", contended_urgent),
    "contended_travel": ("contended", contended_travel),
    "contended_gap": ("contended", contended_gap),
    "slack": ("slack", slack),
    "demo": ("demo", demo),
}


def judge_all(results: Summary) -> dict[str, Judged]:
    """Every target's figure and status for a ``run.run_days`` result."""
    out = {}
    for key, (variant, judge) in KEYS.items():
        found = results["variants"].get(variant)
        if found is None:
            out[key] = {"measured": f"{variant} day not run", "status": NOT_MEASURED}
        elif results["quick"]:
            figure = judge(found)["measured"]
            out[key] = {"measured": f"quick run, small days: {figure}", "status": NOT_MEASURED}
        else:
            out[key] = judge(found)
    return out
