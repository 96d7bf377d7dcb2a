"""Candidate generation: which (request, window) pairs enter the sparse assignment graph.

A request's candidates are its ``k`` nearest windows in the tree of its rarest skill (or,
for a remote request, its ``k`` cheapest feasible windows), filtered by the hard
constraints. Along with the pairs, each request gets a *lower bound* on the cost of every
feasible pair that was left out (``inf`` when nothing was left out). ``solve`` uses the
bound to prove, with the LP duals, that the pruning lost nothing, and widens ``k`` only for
the requests where it cannot.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from matcher.core.arrays import F64, I64, U8, Bool
from matcher.core.model import Policy, RequestBatch
from matcher.core.pool_index import PoolIndex
from matcher.core.scoring import (
    chord_for_km,
    cost_terms,
    haversine_km,
    km_for_chord,
    mask_bits,
    unit_xyz,
)

# Distances within this many km of a bound count as equal (float noise between the chord
# and haversine formulas); the bound is loosened by it, never tightened.
_KM_SLACK = 1e-9


class SolveContext:
    """Per-Match arrays shared by candidate generation and scoring."""

    def __init__(self, requests: RequestBatch, index: PoolIndex, policy: Policy) -> None:
        self.requests = requests
        self.index = index
        self.policy = policy
        self.need_bits: U8 = mask_bits(requests.skill_mask)
        own = np.where(requests.max_distance_km > 0, requests.max_distance_km, np.inf)
        self.radius_km: F64 = np.minimum(own, policy.default_radius_km)
        self.request_xyz: F64 = unit_xyz(requests.lat, requests.lon)
        static = policy.rating_weight * index.rating_t + policy.fairness_weight * index.fairness_t
        self.static_cost: F64 = static
        self.static_min = float(static.min()) if len(static) else 0.0
        self.tree_keys = np.array(
            [index.tree_key(int(m)) for m in requests.skill_mask], dtype=np.int64
        )

    def feasible(self, req: I64, win: I64, distance_km: F64) -> Bool:
        """The hard constraints for pairs: skills, window containment, distance limits."""
        r, ix = self.requests, self.index
        need = r.skill_mask[req]
        owner = ix.window_owner[win]
        ok: Bool = (ix.window_mask[win] & need) == need
        ok &= ix.pool.window_start[win] <= r.start[req]
        ok &= ix.pool.window_end[win] >= r.end[req]
        travel = ix.pool.max_travel_km[owner]
        limit = np.minimum(self.radius_km[req], np.where(travel > 0, travel, np.inf))
        ok &= r.remote[req] | (distance_km <= limit)
        return ok

    def cost_terms(self, req: I64, win: I64, distance_km: F64) -> F64:
        """The four weighted cost terms of each pair, shape (pairs, 4)."""
        owner = self.index.window_owner[win]
        ix = self.index
        return cost_terms(
            self.policy,
            distance_km,
            self.need_bits[req],
            ix.pool.levels[owner],
            ix.rating_t[owner],
            ix.fairness_t[owner],
        )

    def pair_cost(self, req: I64, win: I64, distance_km: F64) -> F64:
        """Total weighted cost of each pair."""
        out: F64 = self.cost_terms(req, win, distance_km).sum(axis=1)
        return out


@dataclass(frozen=True)
class Candidates:
    """Feasible pairs for some requests, and per request a bound on what was left out."""

    request: I64
    window: I64
    distance_km: F64
    rows: I64  # the requests these candidates are for
    exhaustive: Bool  # per entry of ``rows``: every feasible pair is included
    lower_bound: F64  # per entry of ``rows``: cost of any feasible pair left out is >= this


def _concat(parts: list[Candidates]) -> Candidates:
    def cat(name: str, dtype: type) -> np.ndarray:  # type: ignore[type-arg]
        arrays = [getattr(p, name) for p in parts]
        return np.concatenate(arrays) if arrays else np.zeros(0, dtype=dtype)

    return Candidates(
        request=cat("request", np.int64),
        window=cat("window", np.int64),
        distance_km=cat("distance_km", np.float64),
        rows=cat("rows", np.int64),
        exhaustive=cat("exhaustive", np.bool_),
        lower_bound=cat("lower_bound", np.float64),
    )


def find_candidates(ctx: SolveContext, rows: I64, k: I64) -> Candidates:
    """Candidates for ``rows`` with ``k[i]`` windows searched for ``rows[i]``.

    ``k[i] <= 0`` asks for every feasible pair of the request (an exhaustive search).
    """
    remote = ctx.requests.remote[rows]
    parts = [_remote(ctx, rows[remote], k[remote])]
    near_rows, near_k = rows[~remote], k[~remote]
    groups = np.stack([ctx.tree_keys[near_rows], near_k], axis=1)
    if len(near_rows):
        keys, inverse = np.unique(groups, axis=0, return_inverse=True)
        inverse = inverse.reshape(-1)
        for g, (tree_key, kk) in enumerate(keys):
            members = near_rows[inverse == g]
            if kk <= 0:
                parts.append(_near_all(ctx, members, int(tree_key)))
            else:
                parts.append(_near_k(ctx, members, int(tree_key), int(kk)))
    return _concat(parts)


def _filtered(
    ctx: SolveContext, rows: I64, req: I64, win: I64, exhaustive: Bool, bound: F64
) -> Candidates:
    dist = haversine_km(
        ctx.requests.lat[req],
        ctx.requests.lon[req],
        ctx.index.pool.lat[ctx.index.window_owner[win]],
        ctx.index.pool.lon[ctx.index.window_owner[win]],
    )
    dist = np.where(ctx.requests.remote[req], 0.0, dist)
    ok = ctx.feasible(req, win, dist)
    return Candidates(req[ok], win[ok], dist[ok], rows, exhaustive, bound)


def _near_k(ctx: SolveContext, rows: I64, tree_key: int, k: int) -> Candidates:
    skill_tree = ctx.index.tree(tree_key)
    n = skill_tree.size
    if skill_tree.tree is None or k >= n:
        return _near_all(ctx, rows, tree_key)
    bound = float(chord_for_km(float(ctx.radius_km[rows].max()) + 1e-6))
    chord, idx = skill_tree.tree.query(ctx.request_xyz[rows], k=k, distance_upper_bound=bound)
    found = idx < n
    req = np.repeat(rows, k).reshape(len(rows), k)[found]
    win = skill_tree.windows[idx[found]]
    # A row whose k-th neighbour was found may have more within its radius; anything it
    # did not get is at least as far as that k-th neighbour.
    truncated = found[:, -1] & (km_for_chord(np.where(found[:, -1], chord[:, -1], 0.0))
                                <= ctx.radius_km[rows])
    kth_km = km_for_chord(np.where(truncated, chord[:, -1], 0.0)) - _KM_SLACK
    lower = np.where(
        truncated,
        ctx.policy.distance_weight * np.maximum(kth_km, 0.0) + ctx.static_min,
        np.inf,
    )
    return _filtered(ctx, rows, req, win, ~truncated, lower)


def _near_all(ctx: SolveContext, rows: I64, tree_key: int) -> Candidates:
    skill_tree = ctx.index.tree(tree_key)
    exhaustive = np.ones(len(rows), dtype=np.bool_)
    lower = np.full(len(rows), np.inf)
    if skill_tree.tree is None or len(rows) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return Candidates(empty, empty, np.zeros(0), rows, exhaustive, lower)
    radius = chord_for_km(ctx.radius_km[rows] + 1e-6)
    hits = skill_tree.tree.query_ball_point(ctx.request_xyz[rows], r=radius, return_sorted=True)
    lengths = np.fromiter((len(h) for h in hits), dtype=np.int64, count=len(rows))
    flat = (
        np.concatenate([np.asarray(h, dtype=np.int64) for h in hits])
        if lengths.sum()
        else np.zeros(0, dtype=np.int64)
    )
    req = np.repeat(rows, lengths)
    return _filtered(ctx, rows, req, skill_tree.windows[flat], exhaustive, lower)


def _remote(ctx: SolveContext, rows: I64, k: I64) -> Candidates:
    """Remote requests: distance does not matter, so keep the ``k`` cheapest feasible."""
    parts: list[Candidates] = []
    for row, kk in zip(rows.tolist(), k.tolist(), strict=True):
        windows = ctx.index.tree(int(ctx.tree_keys[row])).windows
        req = np.full(len(windows), row, dtype=np.int64)
        zero = np.zeros(len(windows))
        ok = ctx.feasible(req, windows, zero)
        req, win = req[ok], windows[ok]
        cost = ctx.pair_cost(req, win, zero[ok])
        if 0 < kk < len(win):
            order = np.argpartition(cost, kk)
            keep, bound = order[:kk], float(cost[order[kk]])
            req, win = req[keep], win[keep]
            parts.append(_one(row, req, win, False, bound))
        else:
            parts.append(_one(row, req, win, True, np.inf))
    return _concat(parts)


def _one(row: int, req: I64, win: I64, exhaustive: bool, bound: float) -> Candidates:
    return Candidates(
        req,
        win,
        np.zeros(len(req)),
        np.array([row], dtype=np.int64),
        np.array([exhaustive]),
        np.array([bound]),
    )
