"""``solve_match``: the exact optimum of one batch on an adaptively pruned sparse graph.

Algorithm (each round):

1. find candidates for the requests that need them (``candidates``): nearest windows in the
   tree of the rarest required skill, filtered by the hard constraints;
2. score the new pairs (``scoring``), build the sparse graph of slots x windows plus one
   "unserved" column per slot, and solve it exactly (``round_graph``);
3. recover the LP duals and check every pruned request: if its row dual is at most the
   lower bound on its left-out pairs' cost, nothing left out can improve the optimum;
   otherwise widen that request's search (x4 nearest, then every feasible pair) and repeat.

The loop ends with a certificate of optimality for the full feasible graph, without ever
building the dense requests x volunteers matrix. Rows and candidates are ordered
deterministically, so the same input always gives the same output.
"""

from __future__ import annotations

import time

import numpy as np

from matcher.core.arrays import I64
from matcher.core.candidates import Candidates, SolveContext, find_nearest, find_within
from matcher.core.exclusions import ExcludedPairs
from matcher.core.model import MatchResult, Policy, RequestBatch, SolveStats
from matcher.core.pool_index import PoolIndex
from matcher.core.reasons import diagnose
from matcher.core.round_graph import Pairs, Prices, SlotRows, dominated_private
from matcher.core.scoring import haversine_km

INITIAL_K = 32  # nearest windows searched per request in the first round
GROWTH = 4  # a remote request failing the certificate keeps 4x more cheapest pairs
ADD_PER_SLOT, ADD_BASE = 4, 4  # violated pairs a request may add to the graph per round
UNCAPPED_AFTER_ROUND = 8  # from this round on, every violated parked pair is added
EXHAUSTIVE_AFTER_ROUND = 6  # from this round on, a failing request gets every feasible pair


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
    search = _Search(SolveContext(requests, index, policy, excluded))
    pending = np.arange(len(requests), dtype=np.int64)
    while True:
        match, pending, moved = search.round(pending)
        if not len(pending) and not moved:
            break
    timer = search.timer
    stats = SolveStats(
        candidate_pairs=len(search.graph.request),
        rounds=search.rounds,
        candidates_ms=timer["candidates"] * 1e3,
        scoring_ms=timer["scoring"] * 1e3,
        solve_ms=timer["solve"] * 1e3,
        total_ms=(time.perf_counter() - started) * 1e3,
    )
    return _result(search.ctx, search.rows, search.graph, match, stats)


class _Search:
    """One solve across its rounds: the graph, the parked pairs, and what is known of each
    request (searched exhaustively, the lower bound on its left-out pairs, how far to look)."""

    def __init__(self, ctx: SolveContext) -> None:
        requests = ctx.requests
        n = len(requests)
        self.ctx = ctx
        self.n_windows = ctx.index.pool.n_windows
        self.rows = SlotRows(requests, ctx.policy, self.n_windows)
        self.exhaustive = np.zeros(n, dtype=np.bool_)
        self.lower = np.zeros(n)
        self.graph, self.parked = Pairs.empty(), Pairs.empty()
        self.reach = np.full(n, np.inf)
        self.prices: Prices | None = None
        self.remote_k = np.full(n, INITIAL_K, dtype=np.int64)  # cheapest pairs kept, remote
        self.add_cap = ADD_PER_SLOT * requests.slots.astype(np.int64) + ADD_BASE
        self.timer = {"candidates": 0.0, "scoring": 0.0, "solve": 0.0}
        self.rounds = 0

    def round(self, pending: I64) -> tuple[I64, I64, bool]:
        """Search for ``pending``, grow the graph, solve and price it: the round's match,
        the requests to search again, and whether parked pairs entered the graph."""
        self.rounds += 1
        t = time.perf_counter()
        fresh = self._find(pending)
        t2 = time.perf_counter()
        self._grow(fresh)
        t3 = time.perf_counter()
        match, moved = self._solve()
        if self.rounds + 1 >= EXHAUSTIVE_AFTER_ROUND:
            self.reach = np.where(np.isnan(self.reach), np.nan, np.inf)
        t4 = time.perf_counter()
        self.timer["candidates"] += t2 - t
        self.timer["scoring"] += t3 - t2
        self.timer["solve"] += t4 - t3
        return match, np.flatnonzero(~np.isnan(self.reach)), moved

    def _find(self, pending: I64) -> Candidates:
        """Candidates of ``pending``: the nearest at first, then within each one's reach."""
        if self.rounds == 1:
            fresh = find_nearest(self.ctx, pending, INITIAL_K)
        else:
            self.remote_k[pending] *= GROWTH
            fresh = find_within(self.ctx, pending, self.reach[pending], self.remote_k)
        self.exhaustive[fresh.rows] |= fresh.exhaustive
        self.lower[fresh.rows] = np.maximum(self.lower[fresh.rows], fresh.lower_bound)
        return fresh

    def _grow(self, fresh: Candidates) -> None:
        """Score the new pairs; add those that may help to the graph, park the rest."""
        n_windows, graph, parked = self.n_windows, self.graph, self.parked
        cost = self.ctx.pair_cost(fresh.request, fresh.window, fresh.distance_km)
        found = Pairs(fresh.request, fresh.window, fresh.distance_km, cost)
        known = np.concatenate((graph.keys(n_windows), parked.keys(n_windows)))
        found = found.take(~np.isin(found.keys(n_windows), known))
        if self.prices is None:
            graph.add(found)
        else:
            hot = self.prices.most_violated(found, self.add_cap)
            graph.add(found.take(hot))
            parked.add(found.take(~hot))
        dominated = dominated_private(graph, self.rows.slots, n_windows)
        parked.add(graph.take(dominated))
        self.graph = graph.take(~dominated)

    def _solve(self) -> tuple[I64, bool]:
        """Solve the graph and set each request's reach for the next round (NaN: done)."""
        need_prices = bool(len(self.parked.request)) or not self.exhaustive.all()
        match, prices = self.rows.solve(self.graph, self.n_windows, need_prices=need_prices)
        self.prices = prices
        if prices is None:
            self.graph.add(self.parked)
            self.parked = Pairs.empty()
            n = len(self.exhaustive)
            failing = ~self.exhaustive if self.rows.certificate_failed else np.zeros(n, np.bool_)
            self.reach = np.where(failing, np.inf, np.nan)
            return match, False
        if self.rounds < UNCAPPED_AFTER_ROUND:
            hot = prices.most_violated(self.parked, self.add_cap)
        else:
            hot = prices.violated(self.parked)
        self.graph.add(self.parked.take(hot))
        self.parked = self.parked.take(~hot)
        failing = ~self.exhaustive & (prices.request > self.lower + prices.tol)
        # Left-out pairs costing at least u - tol cannot improve the optimum (v <= 0).
        self.reach = np.where(failing, prices.request - prices.tol, np.nan)
        return match, bool(hot.any())


def _result(
    ctx: SolveContext, rows: SlotRows, graph: Pairs, match: I64, stats: SolveStats
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
