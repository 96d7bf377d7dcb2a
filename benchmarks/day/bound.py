"""The hindsight bound: the most orders any dispatcher could answer on the day, knowing every
arrival and every volunteer's answer in advance, as an integer program on a time-expanded
network (``scipy.optimize.milp``, HiGHS).

The model, on steps of ``step_s`` seconds. Per volunteer shift a chain of nodes, one per
step, with an idle arc from each node to the next; one unit of flow enters at the shift's
first node and leaves at its last. A job arc ``x[o, v, t]`` (binary) takes the volunteer
from step ``t`` to ``t + floor(busy / step)``: volunteer ``v`` sets off on order ``o`` at step
``t``. Arcs exist only for the pairs that would accept (``world.reach``, ``Answer.ACCEPT``),
for ``t`` from the arrival's step (and the shift's) to the deadline's step (and the last
step the job still fits the shift). ``y[o]`` (binary) says order ``o`` is answered:
``sum x[o, ., .] = slots[o] * y[o]``, each volunteer at most once per order; maximise
``sum y``. Then, with that many answered, minimise the km, in ``TRAVEL_SHARE`` of the time
limit more (``travel_minimal`` says whether that was proven). The schedule sets off whenever
the program likes within the deadline: its waits are not a goal.

Why it is an upper bound on every dispatcher of ``world``: every time is rounded down to its
step (a job's length too), and ``floor(a) + floor(b) <= floor(a + b)``, so any schedule the
world allows (set off after arrival and by the deadline, inside a shift with the whole job,
one job at a time) maps to arcs of the network with the same orders answered; answer delays
and offers that expire are ignored. Solved to optimality it is exact for this relaxation
(``method`` "exact"); at the time limit HiGHS's dual bound is still a bound ("milp bound");
where the arcs exceed ``MAX_ARCS`` the step is doubled until they fit, and the LP relaxation
("lp bound") is used when the integer program finds nothing. Whatever the method, the bound
is at most the number of orders that could be answered each on its own.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_array

from benchmarks.day.world import Answer, Day, Outcome, Reach, Trip, busy_s, reach, shifts

MAX_ARCS = 400_000
STEP_S = 5 * 60
#: The km stage's share of the time limit (on top of it).
TRAVEL_SHARE = 0.25


@dataclass
class Network:
    """The arcs and the rows of the program."""

    step_s: int
    origin: int
    arcs: list[tuple[int, int, int, float, int]] = field(default_factory=list)  # o, v, t, km, busy
    tails: list[int] = field(default_factory=list)  # node index of each arc's start
    heads: list[int] = field(default_factory=list)
    idle: list[tuple[int, int]] = field(default_factory=list)  # (from node, to node)
    supply: list[float] = field(default_factory=list)  # per node: out - in


def build(day: Day, pairs: Reach, step_s: int) -> Network:
    """The time-expanded network of ``day`` on ``step_s`` steps."""
    spans = shifts(day.pool)
    origin = min(int(day.pool.window_start.min(initial=day.opens)), day.opens)
    net = Network(step_s, origin)
    first: list[list[tuple[int, int, int]]] = []  # per volunteer: (node of step lo, lo, hi)
    for spans_v in spans:
        mine = []
        for start, end in spans_v:
            lo, hi = _step(start, net), _step(end, net)
            base = len(net.supply)
            net.supply += [0.0] * (hi - lo + 1)
            net.supply[base] += 1.0
            net.supply[base + hi - lo] -= 1.0
            net.idle += [(base + k, base + k + 1) for k in range(hi - lo)]
            mine.append((base, lo, hi))
        first.append(mine)
    accepting = np.flatnonzero(pairs.answer == Answer.ACCEPT)
    for row in accepting.tolist():
        o, v, km = int(pairs.order[row]), int(pairs.volunteer[row]), float(pairs.km[row])
        job = busy_s(day, o, km)
        length = job // step_s
        early, late = _step(int(day.arrival[o]), net), _step(int(day.deadline[o]), net)
        for base, lo, hi in first[v]:
            for t in range(max(early, lo), min(late, hi - length) + 1):
                net.arcs.append((o, v, t, km, job))
                net.tails.append(base + t - lo)
                net.heads.append(base + t - lo + length)
    return net


def _step(t: int, net: Network) -> int:
    return (t - net.origin) // net.step_s


@dataclass(frozen=True)
class Bound:
    """The bound on orders answered, how it was found, and the schedule found (if any)."""

    served: int
    method: str
    step_s: int
    arcs: int
    schedule: Outcome
    travel_minimal: bool  # the schedule's km are the fewest for ``served`` orders
    seconds: float


def solve(day: Day, pairs: Reach | None = None, time_limit_s: float = 120.0) -> Bound:
    """The hindsight bound of ``day`` (see the module docstring)."""
    pairs = pairs if pairs is not None else reach(day)
    step = STEP_S
    net = build(day, pairs, step)
    while len(net.arcs) > MAX_ARCS:
        step *= 2
        net = build(day, pairs, step)
    alone = alone_bound(day, net)
    program = _Program(day, net)
    first = program.run(time_limit_s, integral=True)
    dual = getattr(first, "mip_dual_bound", None)
    schedule, minimal = Outcome("bound"), False
    if first.status == 0:
        served, method = round(-first.fun), "exact"
        second = program.run(time_limit_s * TRAVEL_SHARE, integral=True, served=served)
        minimal = second.status == 0
        schedule.trips = program.trips(second.x if second.x is not None else first.x)
    elif dual is not None and np.isfinite(dual):
        served, method = int(np.floor(-dual + 1e-6)), "milp bound"
        if first.x is not None:
            schedule.trips = program.trips(first.x)
    else:
        relaxed = program.run(time_limit_s, integral=False)
        ok = relaxed.status == 0
        served, method = (int(np.floor(-relaxed.fun + 1e-6)), "lp bound") if ok else (alone, "")
    if alone < served or not method:
        served, method = alone, "answerable alone"
    return Bound(served, method, net.step_s, len(net.arcs), schedule, minimal, program.seconds)


def alone_bound(day: Day, net: Network) -> int:
    """Orders with an arc for each slot from distinct volunteers: each answerable alone."""
    reachable: dict[int, set[int]] = {}
    for o, v, *_ in net.arcs:
        reachable.setdefault(o, set()).add(v)
    slots = day.needs.slots
    return sum(1 for o, vs in reachable.items() if len(vs) >= int(slots[o]))


class _Program:
    """The matrices of the program, solved with or without integrality."""

    def __init__(self, day: Day, net: Network) -> None:
        self.day, self.net = day, net
        n_x, n_o, n_z = len(net.arcs), len(day), len(net.idle)
        self.n_x, self.n_o = n_x, n_o
        arc_order = np.array([a[0] for a in net.arcs], dtype=np.int64)
        arc_vol = np.array([a[1] for a in net.arcs], dtype=np.int64)
        self.km = np.array([a[3] for a in net.arcs])
        n_nodes = len(net.supply)
        x, z = np.arange(n_x), n_x + n_o + np.arange(n_z)
        idle = np.array(net.idle, dtype=np.int64).reshape(-1, 2)
        rows = [np.array(net.tails), np.array(net.heads), idle[:, 0], idle[:, 1]]
        cols = [x, x, z, z]
        vals = [np.ones(n_x), -np.ones(n_x), np.ones(n_z), -np.ones(n_z)]
        # order rows: sum x - slots * y = 0
        rows += [n_nodes + arc_order, n_nodes + np.arange(n_o)]
        cols += [x, n_x + np.arange(n_o)]
        vals += [np.ones(n_x), -day.needs.slots.astype(np.float64)]
        # each volunteer at most once per order needing several
        multi = day.needs.slots[arc_order] > 1
        keys, which = np.unique(
            arc_order[multi] * len(day.pool) + arc_vol[multi], return_inverse=True
        )
        rows.append(n_nodes + n_o + which)
        cols.append(x[multi])
        vals.append(np.ones(int(multi.sum())))
        n_rows = n_nodes + n_o + len(keys)
        self.matrix = coo_array(
            (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
            shape=(n_rows, n_x + n_o + n_z),
        ).tocsr()
        supply = np.array(net.supply)
        self.lower = np.concatenate((supply, np.zeros(n_o), np.full(len(keys), -np.inf)))
        self.upper = np.concatenate((supply, np.zeros(n_o), np.ones(len(keys))))
        self.seconds = 0.0

    def run(self, time_limit_s: float, *, integral: bool, served: int | None = None) -> Any:
        """Maximise orders answered; or, given ``served``, minimise km with at least that."""
        n_cols = self.matrix.shape[1]
        cost = np.zeros(n_cols)
        constraints = [LinearConstraint(self.matrix, self.lower, self.upper)]
        if served is None:
            cost[self.n_x : self.n_x + self.n_o] = -1.0
        else:
            cost[: self.n_x] = self.km
            at_least = np.zeros((1, n_cols))
            at_least[0, self.n_x : self.n_x + self.n_o] = 1.0
            constraints.append(LinearConstraint(at_least, served, np.inf))
        integrality = np.zeros(n_cols)
        if integral:
            integrality[: self.n_x + self.n_o] = 1
        started = time.perf_counter()
        result = milp(
            cost,
            integrality=integrality,
            bounds=Bounds(0, 1),
            constraints=constraints,
            options={"time_limit": time_limit_s, "mip_rel_gap": 1e-6},
        )
        self.seconds += time.perf_counter() - started
        return result

    def trips(self, x: np.ndarray) -> list[Trip]:
        """The schedule of a solution: one trip per chosen arc, at its step (or arrival)."""
        out = []
        for k in np.flatnonzero(x[: self.n_x] > 0.5).tolist():
            o, v, t, km, job = self.net.arcs[k]
            at = max(int(self.day.arrival[o]), self.net.origin + t * self.net.step_s)
            out.append(Trip(o, v, at, at, km, job))
        return out
