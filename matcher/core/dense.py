"""The obvious dense pipeline, kept as a reference and a baseline (never used to serve).

It scores every slot x window pair with numpy, marks infeasible pairs +inf, appends one
"unserved" column per slot and calls ``scipy.optimize.linear_sum_assignment`` (a shortest
augmenting path Jonker-Volgenant variant, O(n^3)). Same objective as ``solve_match``, so the
two must agree on value served and total cost; memory is O(slots x windows).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

from matcher.core.arrays import I64
from matcher.core.candidates import SolveContext
from matcher.core.exclusions import ExcludedPairs
from matcher.core.model import Policy, RequestBatch
from matcher.core.pool_index import PoolIndex
from matcher.core.scoring import haversine_km


@dataclass(frozen=True)
class DenseSolution:
    """The dense optimum: assigned (request, window) pairs and the objective."""

    request: I64
    window: I64
    value_served: int
    total_cost: float


def dense_match(
    requests: RequestBatch,
    index: PoolIndex,
    policy: Policy,
    excluded: ExcludedPairs | None = None,
) -> DenseSolution:
    """Solve the batch on the dense slots x windows matrix (``excluded`` pairs forbidden)."""
    ctx = SolveContext(requests, index, policy, excluded)
    slots = requests.slots.astype(np.int64)
    request_of = np.repeat(np.arange(len(requests), dtype=np.int64), slots)
    n_rows, n_win = len(request_of), index.pool.n_windows
    req = np.repeat(request_of, n_win)
    win = np.tile(np.arange(n_win, dtype=np.int64), n_rows)
    owner = index.window_owner[win]
    pool = index.pool
    dist = haversine_km(requests.lat[req], requests.lon[req], pool.lat[owner], pool.lon[owner])
    dist = np.where(requests.remote[req], 0.0, dist)
    ok = ctx.feasible(req, win, dist)
    cost = np.full(n_rows * n_win, np.inf)
    cost[ok] = ctx.pair_cost(req[ok], win[ok], dist[ok])
    values = policy.values(requests.urgency).astype(np.float64)[request_of]
    big_m = min(n_rows, n_win) * policy.max_pair_cost + 1.0
    unserved = np.full((n_rows, n_rows), np.inf)
    np.fill_diagonal(unserved, big_m * values)
    matrix = np.hstack((cost.reshape(n_rows, n_win), unserved))
    rows, cols = linear_sum_assignment(matrix)
    real = cols < n_win
    chosen = matrix[rows[real], cols[real]]
    return DenseSolution(
        request=request_of[rows[real]],
        window=cols[real].astype(np.int64),
        value_served=int(policy.values(requests.urgency)[request_of[rows[real]]].sum()),
        total_cost=float(chosen.sum()),
    )
