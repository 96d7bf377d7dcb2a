"""``solve_match``: the exact optimum of one batch on an adaptively pruned sparse graph.

Algorithm (each round):

1. find candidates for the requests that need them (``candidates``): nearest windows in the
   tree of the rarest required skill, filtered by the hard constraints;
2. score the new pairs (``scoring``), build the sparse graph of slots x windows plus one
   "unserved" column per slot, and solve it exactly (``assignment.solve_sparse``);
3. recover the LP duals and check every pruned request: if its row dual is at most the
   lower bound on its left-out pairs' cost, nothing left out can improve the optimum;
   otherwise widen that request's search (x4 nearest, then every feasible pair) and repeat.

The loop ends with a certificate of optimality for the full feasible graph, without ever
building the dense requests x volunteers matrix. Rows and candidates are ordered
deterministically, so the same input always gives the same output.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from matcher.core.arrays import F64, I64, Bool
from matcher.core.assignment import column_duals, row_duals, solve_sparse
from matcher.core.candidates import Candidates, SolveContext, find_nearest, find_within
from matcher.core.model import MatchResult, Policy, RequestBatch, SolveStats
from matcher.core.pool_index import PoolIndex
from matcher.core.reasons import diagnose
from matcher.core.scoring import haversine_km

INITIAL_K = 32  # nearest windows searched per request in the first round
EXHAUSTIVE_AFTER_ROUND = 6  # from this round on, a failing request gets every feasible pair


@dataclass
class _Graph:
    """Candidate pairs accumulated over rounds (one entry per request-window pair)."""

    request: I64
    window: I64
    distance_km: F64
    cost: F64

    def add(self, fresh: Candidates, cost: F64, n_windows: int) -> None:
        """Add new pairs; a pair found again is kept once (sets only grow, so a request's
        left-out pairs are outside every search made for it)."""
        request = np.concatenate((self.request, fresh.request))
        window = np.concatenate((self.window, fresh.window))
        _, first = np.unique(request * max(n_windows, 1) + window, return_index=True)
        self.request = request[first]
        self.window = window[first]
        self.distance_km = np.concatenate((self.distance_km, fresh.distance_km))[first]
        self.cost = np.concatenate((self.cost, cost))[first]


def solve_match(requests: RequestBatch, index: PoolIndex, policy: Policy) -> MatchResult:
    """The optimal assignment of ``requests`` to the windows of ``index``'s pool."""
    started = time.perf_counter()
    ctx = SolveContext(requests, index, policy)
    n = len(requests)
    exhaustive = np.zeros(n, dtype=np.bool_)
    lower = np.zeros(n)
    empty = np.zeros(0, dtype=np.int64)
    graph = _Graph(empty, empty, np.zeros(0), np.zeros(0))
    rows = _SlotRows(requests, policy)
    pending = np.arange(n, dtype=np.int64)
    reach = np.full(n, np.inf)
    timer = {"candidates": 0.0, "scoring": 0.0, "solve": 0.0}
    rounds = 0
    match = empty
    while len(pending):
        rounds += 1
        t = time.perf_counter()
        if rounds == 1:
            fresh = find_nearest(ctx, pending, INITIAL_K)
        else:
            fresh = find_within(ctx, pending, reach[pending])
        exhaustive[fresh.rows] |= fresh.exhaustive
        lower[fresh.rows] = np.maximum(lower[fresh.rows], fresh.lower_bound)
        t2 = time.perf_counter()
        cost = ctx.pair_cost(fresh.request, fresh.window, fresh.distance_km)
        graph.add(fresh, cost, index.pool.n_windows)
        t3 = time.perf_counter()
        match, reach = rows.solve(graph, exhaustive, lower)
        if rounds + 1 >= EXHAUSTIVE_AFTER_ROUND:
            reach = np.where(np.isnan(reach), np.nan, np.inf)
        pending = np.flatnonzero(~np.isnan(reach))
        t4 = time.perf_counter()
        timer["candidates"] += t2 - t
        timer["scoring"] += t3 - t2
        timer["solve"] += t4 - t3
    stats = SolveStats(
        candidate_pairs=len(graph.request),
        rounds=rounds,
        candidates_ms=timer["candidates"] * 1e3,
        scoring_ms=timer["scoring"] * 1e3,
        solve_ms=timer["solve"] * 1e3,
        total_ms=(time.perf_counter() - started) * 1e3,
    )
    return _result(ctx, rows, graph, match, stats)


class _SlotRows:
    """One row per request slot; solves a round and checks the pruning certificate."""

    def __init__(self, requests: RequestBatch, policy: Policy) -> None:
        self.slots = requests.slots.astype(np.int64)
        self.start = np.concatenate(([0], np.cumsum(self.slots)[:-1])).astype(np.int64)
        self.n_rows = int(self.slots.sum())
        self.request_of = np.repeat(np.arange(len(requests), dtype=np.int64), self.slots)
        values = policy.values(requests.urgency).astype(np.float64)
        big_m = self.n_rows * policy.max_pair_cost + 1.0
        self.unserved_weight: F64 = big_m * values[self.request_of] + 1.0
        self.columns: I64 = np.zeros(0, dtype=np.int64)

    def solve(self, graph: _Graph, exhaustive: Bool, lower: F64) -> tuple[I64, F64]:
        """Solve the round. Return each row's column and, per request, NaN when the
        certificate holds, else the cost below which left-out pairs must be searched."""
        self.columns, col = np.unique(graph.window, return_inverse=True)
        n_real = len(self.columns)
        rep = self.slots[graph.request]
        offset = np.arange(int(rep.sum())) - np.repeat(np.cumsum(rep) - rep, rep)
        row = np.concatenate(
            (np.repeat(self.start[graph.request], rep) + offset, np.arange(self.n_rows))
        )
        column = np.concatenate((np.repeat(col, rep), n_real + np.arange(self.n_rows)))
        weight = np.concatenate((np.repeat(graph.cost + 1.0, rep), self.unserved_weight))
        match = solve_sparse(self.n_rows, n_real + self.n_rows, row, column, weight)
        reach = np.full(len(exhaustive), np.nan)
        if exhaustive.all():
            return match, reach
        v = column_duals(n_real + self.n_rows, row, column, weight, match)
        if v is None:  # no certificate: fall back to every feasible pair
            reach[~exhaustive] = np.inf
            return match, reach
        # Edge weights are cost + 1, so a left-out pair may help only if cost < u - 1.
        worst = np.maximum.reduceat(row_duals(row, column, weight, match, v), self.start) - 1.0
        # Float noise in the duals is ~1e-16 x the largest weight x path length; pair costs
        # that differ by far less than a real unit must still be told apart.
        tol = 1e-9 + 1e-12 * float(weight.max(initial=0.0))
        failing = ~exhaustive & (worst > lower + tol)
        reach[failing] = worst[failing] + tol
        return match, reach


def _result(
    ctx: SolveContext, rows: _SlotRows, graph: _Graph, match: I64, stats: SolveStats
) -> MatchResult:
    real = np.flatnonzero(match < len(rows.columns))
    req = rows.request_of[real]
    win = rows.columns[match[real]]
    slot = np.arange(len(req)) - np.searchsorted(req, req, side="left")
    owner = ctx.index.window_owner[win]
    r, pool = ctx.requests, ctx.index.pool
    dist = haversine_km(r.lat[req], r.lon[req], pool.lat[owner], pool.lon[owner])
    dist = np.where(r.remote[req], 0.0, dist)
    filled = np.bincount(req, minlength=len(r)).astype(np.int64)
    unfilled = rows.slots - filled
    unserved = np.flatnonzero(unfilled > 0)
    pair_key = np.unique(graph.request * len(pool) + ctx.index.window_owner[graph.window])
    feasible = np.bincount(pair_key // max(len(pool), 1), minlength=len(r))
    reason = diagnose(ctx, unserved, filled[unserved], feasible[unserved])
    values = ctx.policy.values(r.urgency)
    return MatchResult(
        request=req,
        slot=slot.astype(np.int64),
        volunteer=owner,
        window=win,
        distance_km=dist,
        cost_terms=ctx.cost_terms(req, win, dist),
        unserved_request=unserved.astype(np.int64),
        unserved_slots=unfilled[unserved],
        unserved_reason=reason,
        value_served=int(values[req].sum()),
        stats=stats,
    )
