"""What a dispatcher achieved on a batch, as JSON-ready figures, and engine-vs-greedy
comparisons. Figures come from ``matcher.tools.demo_report.served`` so the suite and the demo
count alike: a request is served when every slot is filled; travel is the sum of assigned
distances."""

from __future__ import annotations

from typing import Any

from matcher.core.model import MatchResult, Policy, RequestBatch
from matcher.tools.demo_report import TIERS, Assignments, served

Figures = dict[str, Any]


def asked(requests: RequestBatch) -> Figures:
    """Requests and slots asked for, per urgency tier."""
    return {
        tier.name.lower(): {
            "requests": int((requests.urgency == tier).sum()),
            "slots": int(requests.slots[requests.urgency == tier].sum()),
        }
        for tier in TIERS
    }


def outcome(requests: RequestBatch, result: MatchResult, policy: Policy) -> Figures:
    """Value served, total cost, travel and what was served per tier."""
    done = served(requests, Assignments(result.request, result.distance_km, result.cost), policy)
    return {
        "value_served": int(result.value_served),
        "total_cost": float(result.total_cost),
        "total_km": done.total_km,
        "mean_km": done.mean_km,
        "requests_served": done.requests,
        "slots_filled": done.slots,
        "by_urgency": {
            tier.name.lower(): {
                "requests": done.requests_by_tier[k],
                "slots": done.slots_by_tier[k],
            }
            for k, tier in enumerate(TIERS)
        },
    }


def travel_change_pct(engine: Figures, greedy: Figures) -> float | None:
    """Engine total km relative to greedy's, in % (negative: the engine travels less)."""
    if greedy["total_km"] == 0:
        return None
    return 100.0 * (float(engine["total_km"]) / float(greedy["total_km"]) - 1.0)


def tiers_where_worse(engine: Figures, greedy: Figures) -> list[str]:
    """The tiers where the engine serves fewer requests or fills fewer slots than greedy."""
    worse = []
    for tier, mine in engine["by_urgency"].items():
        theirs = greedy["by_urgency"][tier]
        if mine["requests"] < theirs["requests"] or mine["slots"] < theirs["slots"]:
            worse.append(tier)
    return worse
