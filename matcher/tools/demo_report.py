"""The figures of the demo day, computed from each dispatcher's assignments, and how they print.

``served`` and ``town_rows`` count what the engine (its ``MatchResponse``) and the greedy
dispatcher achieved on the same requests; ``print_report`` writes the side-by-side report
that ``matcher.tools.demo`` shows. The engine's own solve figures are its ``MatchStats``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple, TextIO

import numpy as np

from matcher.core.arrays import F64, I64
from matcher.core.model import Policy, RequestBatch, Urgency
from matcher.tools.synthetic import TOWNS, nearest_town
from matcher.v1 import match_pb2

#: Tiers in the order the report lists them (and the dispatcher serves them).
TIERS = (Urgency.URGENT, Urgency.DIFFICULT, Urgency.ROUTINE)


class Assignments(NamedTuple):
    """One dispatcher's filled slots as columns: request index, travel km, pair cost."""

    request: I64
    km: F64
    cost: F64


@dataclass(frozen=True)
class Served:
    """What one dispatcher achieved; per-tier tuples follow ``TIERS``."""

    requests_by_tier: tuple[int, ...]  # requests with every slot filled
    slots_by_tier: tuple[int, ...]  # slots filled
    value: int  # the policy's value of the filled slots (what the engine maximises first)
    mean_cost: float  # mean weighted pair cost per filled slot (what it then minimises)
    mean_km: float  # mean travel per filled slot (0 when none)
    p95_km: float
    total_km: float

    @property
    def requests(self) -> int:
        return sum(self.requests_by_tier)

    @property
    def slots(self) -> int:
        return sum(self.slots_by_tier)


@dataclass(frozen=True)
class TownRow:
    """One town's requests and how each dispatcher served them (NaN km: none served)."""

    town: str
    requests: int
    engine_served: int
    greedy_served: int
    engine_mean_km: float
    greedy_mean_km: float


@dataclass(frozen=True)
class DemoReport:
    """Every figure the demo prints."""

    seed: int
    requests_by_tier: tuple[int, ...]  # requests asked for, per ``TIERS``
    slots_by_tier: tuple[int, ...]  # slots asked for
    volunteers: int
    windows: int
    engine: Served
    greedy: Served
    towns: tuple[TownRow, ...]
    stats: match_pb2.MatchStats  # the engine's own figures, as its response carried them
    rpc_ms: float  # the Match call's round trip (serialising, solving, replying)
    greedy_ms: float

    @property
    def km_reduction_pct(self) -> float:
        """How much less the engine's volunteers travel in total than greedy's, in %."""
        if self.greedy.total_km == 0:
            return 0.0
        return 100.0 * (1.0 - self.engine.total_km / self.greedy.total_km)


def response_columns(response: match_pb2.MatchResponse, requests: RequestBatch) -> Assignments:
    """The assignments of ``response`` as columns (request index from its id)."""
    row_of = {rid: i for i, rid in enumerate(requests.ids)}
    found = response.assignments
    return Assignments(
        request=np.array([row_of[a.request_id] for a in found], dtype=np.int64),
        km=np.array([a.distance_km for a in found], dtype=np.float64),
        cost=np.array([a.score for a in found], dtype=np.float64),
    )


def asked_by_tier(requests: RequestBatch) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Requests and slots asked for, per ``TIERS``."""
    every = np.ones(len(requests), dtype=np.int64)
    return _per_tier(requests, every), _per_tier(requests, requests.slots.astype(np.int64))


def served(requests: RequestBatch, done: Assignments, policy: Policy | None = None) -> Served:
    """One dispatcher's figures from its assignments."""
    filled = np.bincount(done.request, minlength=len(requests)).astype(np.int64)
    full = (filled >= requests.slots).astype(np.int64)
    values = (policy or Policy()).values(requests.urgency[done.request])
    any_done = len(done.request) > 0
    return Served(
        requests_by_tier=_per_tier(requests, full),
        slots_by_tier=_per_tier(requests, filled),
        value=int(values.sum()),
        mean_cost=float(done.cost.mean()) if any_done else 0.0,
        mean_km=float(done.km.mean()) if any_done else 0.0,
        p95_km=float(np.percentile(done.km, 95)) if any_done else 0.0,
        total_km=float(done.km.sum()),
    )


def town_rows(
    requests: RequestBatch, engine: Assignments, greedy: Assignments
) -> tuple[TownRow, ...]:
    """Per town (the nearest to each request): requests, fully served ones and mean km."""
    town = nearest_town(requests.lat, requests.lon)
    asked = np.bincount(town, minlength=len(TOWNS))
    figures = [_town_figures(requests, town, side) for side in (engine, greedy)]
    return tuple(
        TownRow(
            town=t.name_en,
            requests=int(asked[k]),
            engine_served=int(figures[0][0][k]),
            greedy_served=int(figures[1][0][k]),
            engine_mean_km=float(figures[0][1][k]),
            greedy_mean_km=float(figures[1][1][k]),
        )
        for k, t in enumerate(TOWNS)
    )


def _town_figures(requests: RequestBatch, town: I64, done: Assignments) -> tuple[I64, F64]:
    """Fully served requests per town, and mean km per filled slot per town (NaN if none)."""
    n_towns = len(TOWNS)
    filled = np.bincount(done.request, minlength=len(requests))
    full = np.bincount(town[filled >= requests.slots], minlength=n_towns).astype(np.int64)
    slots = np.bincount(town[done.request], minlength=n_towns)
    total = np.bincount(town[done.request], weights=done.km, minlength=n_towns)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean: F64 = np.where(slots > 0, total / slots, np.nan)
    return full, mean


def _per_tier(requests: RequestBatch, counts: I64) -> tuple[int, ...]:
    return tuple(int(counts[requests.urgency == tier].sum()) for tier in TIERS)


def print_report(report: DemoReport, out: TextIO) -> None:
    """The whole report, section by section."""
    sections = (_header, _service, _travel, _towns, _solve)
    out.write("\n\n".join("\n".join(section(report)) for section in sections) + "\n")


def _header(report: DemoReport) -> list[str]:
    return [
        f"Gonghe County, one synthetic day (seed {report.seed})",
        f"{sum(report.requests_by_tier)} requests asking for {sum(report.slots_by_tier)} "
        f"volunteer slots; {report.volunteers} volunteers with {report.windows} free windows",
    ]


def _service(report: DemoReport) -> list[str]:
    sides = (
        (report.requests_by_tier, report.slots_by_tier),
        (report.engine.requests_by_tier, report.engine.slots_by_tier),
        (report.greedy.requests_by_tier, report.greedy.slots_by_tier),
    )
    cells = [
        [f"{r}/{s}" for r, s in zip((*rq, sum(rq)), (*sl, sum(sl)), strict=True)]
        for rq, sl in sides
    ]
    names = [*(tier.name.lower() for tier in TIERS), "total"]
    return [
        "== Served by tier (requests fully served / slots filled) ==",
        f"{'tier':<10} {'asked':>11} {'engine':>11} {'greedy':>11}",
        *(
            f"{n:<10} {cells[0][k]:>11} {cells[1][k]:>11} {cells[2][k]:>11}"
            for k, n in enumerate(names)
        ),
    ]


def _travel(report: DemoReport) -> list[str]:
    cut = report.km_reduction_pct
    rows = [
        f"{name:<10} {side.value:>7} {side.mean_cost:>6.2f} {side.mean_km:>8.2f} "
        f"{side.p95_km:>7.2f} {side.total_km:>9.1f}"
        for name, side in (("engine", report.engine), ("greedy", report.greedy))
    ]
    return [
        "== Value, cost and travel (per filled slot) ==",
        f"{'':<10} {'value':>7} {'cost':>6} {'mean km':>8} {'p95 km':>7} {'total km':>9}",
        *rows,
        f"engine volunteers travel {abs(cut):.1f}% {'less' if cut >= 0 else 'more'} in total "
        "than greedy's",
        "(the engine serves the most value first, then minimises distance + skill + rating"
        " + fairness cost, not km alone)",
    ]


def _towns(report: DemoReport) -> list[str]:
    rows = [
        f"{row.town:<12} {row.requests:>8} {row.engine_served:>7} {row.greedy_served:>7} "
        f"{_km(row.engine_mean_km):>7} {_km(row.greedy_mean_km):>7}"
        for row in report.towns
    ]
    return [
        "== Per town (requests fully served, mean km per slot) ==",
        f"{'town':<12} {'requests':>8} {'engine':>7} {'greedy':>7} {'eng km':>7} {'grd km':>7}",
        *rows,
    ]


def _solve(report: DemoReport) -> list[str]:
    s = report.stats
    return [
        "== Engine solve ==",
        f"candidate pairs {s.candidate_pairs}, rounds {s.rounds}",
        f"candidates {s.candidates_ms:.1f} ms, scoring {s.scoring_ms:.1f} ms, "
        f"solve {s.solve_ms:.1f} ms, core total {s.total_ms:.1f} ms; "
        f"Match call round trip {report.rpc_ms:.0f} ms",
        f"greedy (in process, no gRPC) {report.greedy_ms:.1f} ms",
    ]


def _km(value: float) -> str:
    return "-" if np.isnan(value) else f"{value:.2f}"
