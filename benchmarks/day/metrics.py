"""The figures of one dispatcher on one day, from its trips, JSON-ready.

* ``served``: orders whose every slot was answered (``world``: a volunteer accepted and
  could set off by the deadline), per tier, of those asked; ``slots_filled`` counts trips;
* ``urgent_on_time``: urgent orders answered within their deadline; ``urgent_on_site``:
  those whose volunteers also reached the place by the deadline (set off + one way);
* ``wait_min``: minutes from arrival to the answer of the order's last slot, p50 and p90 per
  tier, over the served orders;
* ``travel_km``: one-way km of every trip made (a partly served order's trips too), and per
  served order;
* ``hours_gini``: the Gini coefficient of busy hours over every volunteer of the day (0:
  all worked alike; 1: one did everything);
* ``waiting``: orders waiting (arrived, not yet answered, deadline not passed) each
  ``WAIT_STEP_S`` from opening, for the plot.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from benchmarks.day.world import HOUR, MINUTE, SPEED_KMH, TIERS, Day, Outcome
from matcher.core.arrays import F64, I64

Figures = dict[str, Any]
WAIT_STEP_S = 5 * MINUTE


def answered_at(day: Day, outcome: Outcome) -> I64:
    """Per order, when its last slot was answered; -1 when not every slot was."""
    count = np.zeros(len(day), dtype=np.int64)
    last = np.full(len(day), -1, dtype=np.int64)
    for trip in outcome.trips:
        count[trip.order] += 1
        last[trip.order] = max(last[trip.order], trip.answered_s)
    done: I64 = np.where(count >= day.needs.slots, last, -1)
    return done


def figures(day: Day, outcome: Outcome) -> Figures:
    """Everything ``metrics`` reports for ``outcome`` on ``day``."""
    done = answered_at(day, outcome)
    served = done >= 0
    urgency = day.needs.urgency
    km = float(sum(t.km for t in outcome.trips))
    n_served = int(served.sum())
    out: Figures = {
        "served": n_served,
        "slots_filled": len(outcome.trips),
        "by_tier": {},
        "urgent_on_time": int((served & (urgency == TIERS[1])).sum()),
        "urgent_on_site": _on_site(day, outcome, served),
        "travel_km": round(km, 1),
        "km_per_served": round(km / n_served, 3) if n_served else None,
        "hours_gini": round(gini(volunteer_hours(day, outcome)), 4),
        "waiting": waiting_curve(day, done),
        **outcome.notes,
    }
    for tier in TIERS:
        mine = urgency == tier
        waits = (done[mine & served] - day.arrival[mine & served]) / MINUTE
        out["by_tier"][tier.name.lower()] = {
            "asked": int(mine.sum()),
            "served": int((mine & served).sum()),
            "wait_min_p50": _pct(waits, 50),
            "wait_min_p90": _pct(waits, 90),
        }
    return out


def _pct(values: F64, q: float) -> float | None:
    return round(float(np.percentile(values, q)), 1) if len(values) else None


def _on_site(day: Day, outcome: Outcome, served: np.ndarray) -> int:
    """Urgent served orders whose every volunteer arrived by the deadline."""
    late = np.zeros(len(day), dtype=np.bool_)
    for t in outcome.trips:
        arrive = t.start_s + t.km / SPEED_KMH * HOUR
        late[t.order] |= arrive > day.deadline[t.order]
    return int((served & ~late & (day.needs.urgency == TIERS[1])).sum())


def volunteer_hours(day: Day, outcome: Outcome) -> F64:
    hours = np.zeros(len(day.pool))
    for t in outcome.trips:
        hours[t.volunteer] += t.busy_s / HOUR
    return hours


def gini(values: F64) -> float:
    """The Gini coefficient of non-negative ``values`` (0 when they are all 0)."""
    x = np.sort(np.asarray(values, dtype=np.float64))
    n, total = len(x), float(x.sum())
    if n == 0 or total == 0:
        return 0.0
    ranks = np.arange(1, n + 1)
    return float(2 * (ranks * x).sum() / (n * total) - (n + 1) / n)


def waiting_curve(day: Day, done: I64) -> dict[str, list[float]]:
    """Orders waiting at each step: arrived, not answered yet, deadline not passed."""
    last = int(day.deadline.max(initial=day.opens))
    times = np.arange(day.opens, last + WAIT_STEP_S, WAIT_STEP_S)
    until = np.where(done >= 0, np.minimum(done, day.deadline), day.deadline)
    arrived = day.arrival[None, :] <= times[:, None]
    open_ = until[None, :] > times[:, None]
    counts = (arrived & open_).sum(axis=1)
    return {
        "hour": [round((t - day.opens) / HOUR, 3) for t in times.tolist()],
        "orders": [int(c) for c in counts.tolist()],
    }


def gap_closed(engine: int, greedy: int, bound: int) -> float | None:
    """The share of greedy's served gap to the bound the engine closes (None: no gap)."""
    if bound <= greedy:
        return None
    return round((engine - greedy) / (bound - greedy), 4)
