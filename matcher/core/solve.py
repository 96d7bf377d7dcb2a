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
from matcher.core.candidates import SolveContext, find_nearest, find_within
from matcher.core.exclusions import ExcludedPairs
from matcher.core.model import MatchResult, Policy, RequestBatch, SolveStats
from matcher.core.pool_index import PoolIndex
from matcher.core.reasons import diagnose
from matcher.core.scoring import haversine_km

INITIAL_K = 32  # nearest windows searched per request in the first round
_NOISE_ULPS = 64
GROWTH = 4  # a remote request failing the certificate keeps 4x more cheapest pairs
ADD_PER_SLOT, ADD_BASE = 4, 4  # violated pairs a request may add to the graph per round
UNCAPPED_AFTER_ROUND = 8  # from this round on, every violated parked pair is added
EXHAUSTIVE_AFTER_ROUND = 6  # from this round on, a failing request gets every feasible pair


@dataclass
class _Pairs:
    """Scored (request, window) pairs, one entry per pair."""

    request: I64
    window: I64
    distance_km: F64
    cost: F64

    @classmethod
    def empty(cls) -> _Pairs:
        none = np.zeros(0, dtype=np.int64)
        return cls(none, none, np.zeros(0), np.zeros(0))

    def take(self, keep: Bool) -> _Pairs:
        return _Pairs(
            self.request[keep], self.window[keep], self.distance_km[keep], self.cost[keep]
        )

    def add(self, other: _Pairs) -> None:
        self.request = np.concatenate((self.request, other.request))
        self.window = np.concatenate((self.window, other.window))
        self.distance_km = np.concatenate((self.distance_km, other.distance_km))
        self.cost = np.concatenate((self.cost, other.cost))

    def keys(self, n_windows: int) -> I64:
        out: I64 = self.request * max(n_windows, 1) + self.window
        return out


@dataclass(frozen=True)
class _Prices:
    """LP duals of a round in cost units: a pair (r, w) outside the graph can improve the
    optimum only if ``cost < request[r] + window[w]`` (``window <= 0``)."""

    request: F64  # max over the request's slot rows of u, minus the +1 weight offset
    window: F64  # v per window of the pool (0 for windows not in the graph)
    tol: float

    def reduced(self, pairs: _Pairs) -> F64:
        """Reduced cost of each pair; below ``-tol`` the pair could improve the optimum."""
        out: F64 = pairs.cost - (self.request[pairs.request] + self.window[pairs.window])
        return out

    def violated(self, pairs: _Pairs) -> Bool:
        out: Bool = self.reduced(pairs) < -self.tol
        return out

    def most_violated(self, pairs: _Pairs, cap: I64) -> Bool:
        """The violated pairs with the lowest reduced costs, at most ``cap[r]`` per request:
        many equally cheap volunteers (ties are common) need not all enter the graph, one
        free one is enough to move the optimum; the rest stay parked and are re-priced."""
        reduced = self.reduced(pairs)
        hot = np.flatnonzero(reduced < -self.tol)
        order = hot[np.lexsort((reduced[hot], pairs.request[hot]))]
        req = pairs.request[order]
        rank = np.arange(len(order)) - np.searchsorted(req, req, side="left")
        out = np.zeros(len(pairs.request), dtype=np.bool_)
        out[order[rank < cap[req]]] = True
        return out


def solve_match(
    requests: RequestBatch,
    index: PoolIndex,
    policy: Policy,
    *,
    excluded: ExcludedPairs | None = None,
) -> MatchResult:
    """The optimal assignment of ``requests`` to the windows of ``index``'s pool, never
    using an ``excluded`` (request, volunteer) pair.

    Pairs found by a search but priced out by the current duals are *parked* rather than
    added to the graph (column generation): each round re-prices them and adds only those
    that could improve the optimum, so the solver works on a much smaller graph.
    """
    started = time.perf_counter()
    ctx = SolveContext(requests, index, policy, excluded)
    n, n_windows = len(requests), index.pool.n_windows
    exhaustive = np.zeros(n, dtype=np.bool_)
    lower = np.zeros(n)
    graph, parked = _Pairs.empty(), _Pairs.empty()
    rows = _SlotRows(requests, policy, n_windows)
    pending = np.arange(n, dtype=np.int64)
    reach = np.full(n, np.inf)
    prices: _Prices | None = None
    remote_k = np.full(n, INITIAL_K, dtype=np.int64)  # cheapest pairs kept, remote requests
    add_cap = ADD_PER_SLOT * requests.slots.astype(np.int64) + ADD_BASE
    timer = {"candidates": 0.0, "scoring": 0.0, "solve": 0.0}
    rounds = 0
    while True:
        rounds += 1
        t = time.perf_counter()
        if rounds == 1:
            fresh = find_nearest(ctx, pending, INITIAL_K)
        else:
            remote_k[pending] *= GROWTH
            fresh = find_within(ctx, pending, reach[pending], remote_k)
        exhaustive[fresh.rows] |= fresh.exhaustive
        lower[fresh.rows] = np.maximum(lower[fresh.rows], fresh.lower_bound)
        t2 = time.perf_counter()
        found = _Pairs(
            fresh.request,
            fresh.window,
            fresh.distance_km,
            ctx.pair_cost(fresh.request, fresh.window, fresh.distance_km),
        )
        known = np.concatenate((graph.keys(n_windows), parked.keys(n_windows)))
        found = found.take(~np.isin(found.keys(n_windows), known))
        if prices is None:
            graph.add(found)
        else:
            hot = prices.most_violated(found, add_cap)
            graph.add(found.take(hot))
            parked.add(found.take(~hot))
        dominated = _dominated_private(graph, rows.slots, n_windows)
        parked.add(graph.take(dominated))
        graph = graph.take(~dominated)
        t3 = time.perf_counter()
        match, prices = rows.solve(
            graph, n_windows, need_prices=bool(len(parked.request)) or not exhaustive.all()
        )
        if prices is None:
            graph.add(parked)
            parked = _Pairs.empty()
            moved = False
            failing = ~exhaustive if rows.certificate_failed else np.zeros(n, dtype=np.bool_)
            reach = np.where(failing, np.inf, np.nan)
        else:
            if rounds < UNCAPPED_AFTER_ROUND:
                hot = prices.most_violated(parked, add_cap)
            else:
                hot = prices.violated(parked)
            moved = bool(hot.any())
            graph.add(parked.take(hot))
            parked = parked.take(~hot)
            failing = ~exhaustive & (prices.request > lower + prices.tol)
            # Left-out pairs costing at least u - tol cannot improve the optimum (v <= 0).
            reach = np.where(failing, prices.request - prices.tol, np.nan)
        if rounds + 1 >= EXHAUSTIVE_AFTER_ROUND:
            reach = np.where(np.isnan(reach), np.nan, np.inf)
        pending = np.flatnonzero(~np.isnan(reach))
        t4 = time.perf_counter()
        timer["candidates"] += t2 - t
        timer["scoring"] += t3 - t2
        timer["solve"] += t4 - t3
        if not len(pending) and not moved:
            break
    stats = SolveStats(
        candidate_pairs=len(graph.request),
        rounds=rounds,
        candidates_ms=timer["candidates"] * 1e3,
        scoring_ms=timer["scoring"] * 1e3,
        solve_ms=timer["solve"] * 1e3,
        total_ms=(time.perf_counter() - started) * 1e3,
    )
    return _result(ctx, rows, graph, match, stats)


def _dominated_private(graph: _Pairs, slots: I64, n_windows: int) -> Bool:
    """Pairs no optimum needs: a window that only one request can use is worth keeping only
    among that request's ``slots`` cheapest such windows (the rows of one request are
    interchangeable, and nobody else competes for these windows).

    Dropping them is exact and the certificate stays whole: at the optimum each dropped pair
    costs at least a kept private pair of the same request, whose dual bounds the row's.
    They are parked, so pricing re-checks them every round anyway.
    """
    users = np.bincount(graph.window, minlength=n_windows)
    private = np.flatnonzero(users[graph.window] == 1)
    order = private[np.lexsort((graph.cost[private], graph.request[private]))]
    req = graph.request[order]
    rank = np.arange(len(order)) - np.searchsorted(req, req, side="left")
    out = np.zeros(len(graph.request), dtype=np.bool_)
    out[order[rank >= slots[req]]] = True
    return out


class _SlotRows:
    """One row per request slot; solves a round and prices it."""

    def __init__(self, requests: RequestBatch, policy: Policy, n_windows: int) -> None:
        self.slots = requests.slots.astype(np.int64)
        self.start = np.concatenate(([0], np.cumsum(self.slots)[:-1])).astype(np.int64)
        self.n_rows = int(self.slots.sum())
        self.request_of = np.repeat(np.arange(len(requests), dtype=np.int64), self.slots)
        values = policy.values(requests.urgency).astype(np.float64)
        # Larger than the cost of any matching: at most min(rows, windows) pairs. Kept as
        # small as that allows, since float noise in the duals scales with it.
        big_m = min(self.n_rows, n_windows) * policy.max_pair_cost + 1.0
        self.unserved_weight: F64 = big_m * values[self.request_of] + 1.0
        self.columns: I64 = np.zeros(0, dtype=np.int64)
        self.certificate_failed = False

    def solve(
        self, graph: _Pairs, n_windows: int, *, need_prices: bool
    ) -> tuple[I64, _Prices | None]:
        """Solve the round: each row's column, and the duals (None when not needed, or
        when they cannot be recovered: then ``certificate_failed`` is set)."""
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
        self.certificate_failed = False
        if not need_prices or self.n_rows == 0:
            return match, None
        v = column_duals(n_real + self.n_rows, row, column, weight, match)
        if v is None:  # no certificate: the caller falls back to every feasible pair
            self.certificate_failed = True
            return match, None
        u = row_duals(row, column, weight, match, v)
        window_v = np.zeros(n_windows)
        window_v[self.columns] = v[:n_real]
        # Float noise in the duals is a few ulps of the largest weight per arc on a path. A
        # tolerance too small only widens a search needlessly; one too large could accept a
        # worse pair, so it stays near the noise floor.
        tol = 1e-9 + _NOISE_ULPS * np.finfo(np.float64).eps * float(weight.max(initial=0.0))
        # Edge weights are cost + 1, so a pair may help only if cost < u - 1 + v.
        request_u = np.maximum.reduceat(u, self.start) - 1.0
        return match, _Prices(request_u, window_v, tol)


def _result(
    ctx: SolveContext, rows: _SlotRows, graph: _Pairs, match: I64, stats: SolveStats
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
