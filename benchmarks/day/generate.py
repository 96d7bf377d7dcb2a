"""Seeded days: who and where from ``synthetic.gonghe_day`` (Qabqa and the Gonghe villages,
skills, urgency mix, slots), when from here: arrivals with a morning and an evening peak,
service times per tier, and volunteers on shifts.

* ``contended``: 600 orders over 10 hours against 300 volunteers (demand above supply at
  the peaks);
* ``slack``: the same orders against twice the volunteers;
* ``demo``: the demo's day (``matcher demo``'s seed and sizes): its requests arrive when
  their window opens, its volunteers' windows are their shifts.

The same (variant, seed, quick) always gives the same day.
"""

from __future__ import annotations

import dataclasses
import inspect
from dataclasses import dataclass

import numpy as np

from benchmarks.day.world import DEADLINE_S, HOUR, MINUTE, Day
from matcher.core.arrays import I32, I64
from matcher.core.model import RequestBatch, Urgency
from matcher.tools.demo import run_demo
from matcher.tools.synthetic import DEFAULT_DAY, day_start, gonghe_day

#: The day opens at 08:00 local time.
OPEN_HOUR = 8
#: Morning and evening peaks, as fractions of the day, their spread, and the share of
#: arrivals in each (the rest arrive uniformly).
PEAKS, PEAK_SPREAD, PEAK_SHARE = (0.15, 0.85), 0.08, 0.4
#: Service minutes per tier: (shortest, longest), in 5-minute steps.
SERVICE_MIN = {Urgency.ROUTINE: (30, 90), Urgency.URGENT: (20, 60), Urgency.DIFFICULT: (60, 120)}
#: Shifts: (shortest, longest) hours, and the share of volunteers with a second shift.
SHIFT_HOURS, SECOND_SHIFT = (3, 5), 0.25


@dataclass(frozen=True)
class Size:
    """How big a generated day is."""

    orders: int
    volunteers: int
    hours: int


#: The variants, in report order.
VARIANTS = ("contended", "slack", "demo")
FULL = {"contended": Size(600, 300, 10), "slack": Size(600, 600, 10)}
QUICK = {"contended": Size(60, 30, 3), "slack": Size(60, 60, 3)}
#: The demo day in a quick run: the demo's ratio of volunteers to requests, smaller.
QUICK_DEMO = (50, 375)


def make_day(variant: str, seed: int, *, quick: bool = False) -> Day:
    """The ``variant`` day for ``seed`` (``demo`` ignores the seed for its data; its
    volunteers' answers still follow it)."""
    if variant == "demo":
        return demo_day(seed, quick=quick)
    return generated_day(variant, seed, (QUICK if quick else FULL)[variant])


def generated_day(name: str, seed: int, size: Size) -> Day:
    """A day of ``size``: Gonghe people, peaked arrivals, shifts."""
    needs, pool = gonghe_day(seed, size.orders, size.volunteers)
    order_rng, shift_rng = np.random.default_rng([seed, 14]).spawn(2)
    opens = day_start(DEFAULT_DAY) + OPEN_HOUR * HOUR
    closes = opens + size.hours * HOUR
    arrival = _arrivals(order_rng, len(needs), opens, closes)
    service = _service(order_rng, needs.urgency)
    timed = _timed(needs, arrival)
    owner, start, end = _shifts(shift_rng, len(pool), opens, closes)
    shifted = dataclasses.replace(pool, window_owner=owner, window_start=start, window_end=end)
    return Day(name, seed, opens, closes, timed, service, shifted)


def demo_day(seed: int, *, quick: bool = False) -> Day:
    """The demo's requests and volunteers as a day (``run_demo``'s defaults)."""
    params = inspect.signature(run_demo).parameters
    demo_seed = int(params["seed"].default)
    n_req, n_vol = (
        QUICK_DEMO
        if quick
        else (int(params["n_requests"].default), int(params["n_volunteers"].default))
    )
    needs, pool = gonghe_day(demo_seed, n_req, n_vol)
    service = (needs.end - needs.start).astype(np.int64)
    timed = _timed(needs, needs.start)
    opens, closes = int(needs.start.min()), int(needs.start.max()) + 1
    return Day("demo", seed, opens, closes, timed, service, pool)


def _timed(needs: RequestBatch, arrival: I64) -> RequestBatch:
    """``needs`` with start = arrival and end = the tier's deadline."""
    deadline = arrival + np.array(
        [DEADLINE_S[Urgency(int(u))] for u in needs.urgency.tolist()], dtype=np.int64
    )
    return dataclasses.replace(needs, start=arrival.astype(np.int64), end=deadline)


def _arrivals(rng: np.random.Generator, n: int, opens: int, closes: int) -> I64:
    """Arrival times in [opens, closes): two gaussian peaks over a uniform base."""
    which = rng.choice(3, size=n, p=(PEAK_SHARE, PEAK_SHARE, 1 - 2 * PEAK_SHARE))
    centre = np.array([*PEAKS, 0.5])[which]
    where = np.where(which < 2, rng.normal(centre, PEAK_SPREAD), rng.random(n))
    where = np.clip(where, 0.0, 1.0 - 1e-9)
    out: I64 = (opens + where * (closes - opens)).astype(np.int64)
    return out


def _service(rng: np.random.Generator, urgency: I32) -> I64:
    lo = np.array([SERVICE_MIN[Urgency(int(u))][0] for u in urgency.tolist()], dtype=np.int64)
    hi = np.array([SERVICE_MIN[Urgency(int(u))][1] for u in urgency.tolist()], dtype=np.int64)
    steps = rng.integers(0, (hi - lo) // 5 + 1)
    out: I64 = (lo + 5 * steps) * MINUTE
    return out


def _shifts(rng: np.random.Generator, n: int, opens: int, closes: int) -> tuple[I32, I64, I64]:
    """One shift per volunteer, a second after a break for some: 3-5 hours, starting on the
    half hour from an hour before opening to two hours before closing."""
    first_lo, first_hi = opens - HOUR, closes - 2 * HOUR
    length = _half_hours(rng, n, SHIFT_HOURS[0] * HOUR, SHIFT_HOURS[1] * HOUR)
    start = _half_hours(rng, n, first_lo, first_hi)
    owner, starts, ends = [np.arange(n)], [start], [start + length]
    second = rng.random(n) < SECOND_SHIFT
    gap = _half_hours(rng, n, HOUR, 3 * HOUR)
    length2 = _half_hours(rng, n, SHIFT_HOURS[0] * HOUR, SHIFT_HOURS[1] * HOUR)
    start2 = start + length + gap
    fits = second & (start2 < closes)
    owner.append(np.flatnonzero(fits))
    starts.append(start2[fits])
    ends.append((start2 + length2)[fits])
    all_owner = np.concatenate(owner)
    all_start, all_end = np.concatenate(starts), np.concatenate(ends)
    order = np.lexsort((all_start, all_owner))
    return (
        all_owner[order].astype(np.int32),
        all_start[order].astype(np.int64),
        all_end[order].astype(np.int64),
    )


def _half_hours(rng: np.random.Generator, n: int, lo: int, hi: int) -> I64:
    """``n`` uniform times in [lo, hi] on the half hour from ``lo``."""
    out: I64 = lo + rng.integers(0, (hi - lo) // (HOUR // 2) + 1, size=n) * (HOUR // 2)
    return out
