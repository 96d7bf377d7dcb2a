"""The sparse graph one round of ``solve_match`` solves, and its prices.

``Pairs`` are scored (request, window) pairs. ``SlotRows`` gives each request one row per
slot plus one "unserved" column per row, weighted so that serving more value always wins,
solves the graph exactly (``assignment.solve_sparse``) and recovers the LP duals as
``Prices``: a pair left out of the graph can improve the optimum only if its reduced cost is
negative. ``dominated_private`` drops pairs no optimum needs before a solve.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from matcher.core.arrays import F64, I64, Bool
from matcher.core.assignment import column_duals, row_duals, solve_sparse
from matcher.core.model import Policy, RequestBatch

_NOISE_ULPS = 64


@dataclass
class Pairs:
    """Scored (request, window) pairs, one entry per pair."""

    request: I64
    window: I64
    distance_km: F64
    cost: F64

    @classmethod
    def empty(cls) -> Pairs:
        none = np.zeros(0, dtype=np.int64)
        return cls(none, none, np.zeros(0), np.zeros(0))

    def take(self, keep: Bool) -> Pairs:
        return Pairs(self.request[keep], self.window[keep], self.distance_km[keep], self.cost[keep])

    def add(self, other: Pairs) -> None:
        self.request = np.concatenate((self.request, other.request))
        self.window = np.concatenate((self.window, other.window))
        self.distance_km = np.concatenate((self.distance_km, other.distance_km))
        self.cost = np.concatenate((self.cost, other.cost))

    def keys(self, n_windows: int) -> I64:
        out: I64 = self.request * max(n_windows, 1) + self.window
        return out


@dataclass(frozen=True)
class Prices:
    """LP duals of a round in cost units: a pair (r, w) outside the graph can improve the
    optimum only if ``cost < request[r] + window[w]`` (``window <= 0``)."""

    request: F64  # max over the request's slot rows of u, minus the +1 weight offset
    window: F64  # v per window of the pool (0 for windows not in the graph)
    tol: float

    def reduced(self, pairs: Pairs) -> F64:
        """Reduced cost of each pair; below ``-tol`` the pair could improve the optimum."""
        out: F64 = pairs.cost - (self.request[pairs.request] + self.window[pairs.window])
        return out

    def violated(self, pairs: Pairs) -> Bool:
        out: Bool = self.reduced(pairs) < -self.tol
        return out

    def most_violated(self, pairs: Pairs, cap: I64) -> Bool:
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


def dominated_private(graph: Pairs, slots: I64, n_windows: int) -> Bool:
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


class SlotRows:
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
        self, graph: Pairs, n_windows: int, *, need_prices: bool
    ) -> tuple[I64, Prices | None]:
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
        return match, Prices(request_u, window_v, tol)
