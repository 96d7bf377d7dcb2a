"""Candidate generation: which (request, window) pairs enter the sparse assignment graph.

A request's candidates are its ``k`` nearest windows in the tree of its rarest skill (or,
for a remote request, its ``k`` cheapest feasible windows), filtered by the hard
constraints. Along with the pairs, each request gets a *lower bound* on the cost of every
feasible pair that was left out (``inf`` when nothing was left out). ``solve`` uses the
bound to prove, with the LP duals, that the pruning lost nothing, and widens ``k`` only for
the requests where it cannot.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from matcher.core.arrays import F64, I64, U8, Bool
from matcher.core.exclusions import ExcludedPairs
from matcher.core.model import Policy, RequestBatch
from matcher.core.pool_index import PoolIndex, SkillTree
from matcher.core.scoring import (
    chord_for_km,
    haversine_km,
    km_for_chord,
    mask_bits,
    skill_term_of_sum,
    unit_xyz,
    weighted_terms,
)
from matcher.core.skills import N_SKILLS

# Distances within this many km of a bound count as equal (float noise between the chord
# and haversine formulas); the bound is loosened by it, never tightened.
_KM_SLACK = 1e-9


class SolveContext:
    """Per-Match arrays shared by candidate generation and scoring. ``excluded`` pairs
    (request, volunteer of the index's pool) are infeasible (see ``exclusions``)."""

    def __init__(
        self,
        requests: RequestBatch,
        index: PoolIndex,
        policy: Policy,
        excluded: ExcludedPairs | None = None,
    ) -> None:
        self.requests = requests
        self.index = index
        self.policy = policy
        self.excluded = excluded
        need_bits: U8 = mask_bits(requests.skill_mask)
        self.n_need: I64 = need_bits.sum(axis=1, dtype=np.int64)
        # Required skill columns per request, padded with N_SKILLS (a column of zeros in
        # ``levels_padded``), so a pair's level sum is a few gathers, not a 20-wide product.
        width = max(int(self.n_need.max(initial=0)), 1)
        order = np.argsort(-need_bits.astype(np.int8), axis=1, kind="stable")[:, :width]
        held = np.take_along_axis(need_bits, order, axis=1).astype(np.bool_)
        self.need_idx: I64 = np.where(held, order, N_SKILLS).astype(np.int64)
        self.levels_padded: U8 = np.hstack(
            (index.pool.levels, np.zeros((len(index.pool), 1), dtype=np.uint8))
        )
        own = np.where(requests.max_distance_km > 0, requests.max_distance_km, np.inf)
        self.radius_km: F64 = np.minimum(own, policy.default_radius_km)
        self.request_xyz: F64 = unit_xyz(requests.lat, requests.lon)
        static = policy.rating_weight * index.rating_t + policy.fairness_weight * index.fairness_t
        self.static_cost: F64 = static
        self.static_min = float(static.min()) if len(static) else 0.0
        self._by_static: dict[tuple[int, int], tuple[I64, F64]] = {}
        self.skill_keys: I64 = np.array(
            [index.skill_key(int(m)) for m in requests.skill_mask], dtype=np.int64
        )
        self.buckets: I64 = index.bucket(requests.start)

    def trees(self, rows: I64) -> Iterator[tuple[I64, SkillTree]]:
        """``rows`` grouped by the tree they search: (rows of the group, tree)."""
        keys = np.stack((self.skill_keys[rows], self.buckets[rows]), axis=1)
        if len(rows) == 0:
            return
        unique, inverse = np.unique(keys, axis=0, return_inverse=True)
        inverse = inverse.reshape(-1)
        for g, (skill, bucket) in enumerate(unique.tolist()):
            yield rows[inverse == g], self.index.tree(skill, bucket)

    def by_static_cost(self, row: int) -> tuple[I64, F64]:
        """The windows of ``row``'s tree sorted by their volunteer's static cost, and those
        costs."""
        key = (int(self.skill_keys[row]), int(self.buckets[row]))
        found = self._by_static.get(key)
        if found is None:
            windows = self.index.tree(*key).windows
            static = self.static_cost[self.index.window_owner[windows]]
            order = np.argsort(static, kind="stable")
            found = (windows[order], static[order])
            self._by_static[key] = found
        return found

    def feasible(self, req: I64, win: I64, distance_km: F64) -> Bool:
        """The hard constraints for pairs: skills, window containment, distance limits."""
        return self.skilled_and_free(req, win) & self.within_reach(req, win, distance_km)

    def skilled_and_free(self, req: I64, win: I64) -> Bool:
        """The window's volunteer holds every required skill and the window contains the
        request's window."""
        r, ix = self.requests, self.index
        need = r.skill_mask[req]
        ok: Bool = (ix.window_mask[win] & need) == need
        ok &= ix.pool.window_start[win] <= r.start[req]
        ok &= ix.pool.window_end[win] >= r.end[req]
        if self.excluded is not None and len(self.excluded):
            ok &= self.excluded.allowed(req, ix.window_owner[win])
        return ok

    def within_reach(self, req: I64, win: I64, distance_km: F64) -> Bool:
        """Remote, or within the request's, the volunteer's and the policy's limits."""
        travel = self.index.pool.max_travel_km[self.index.window_owner[win]]
        limit = np.minimum(self.radius_km[req], np.where(travel > 0, travel, np.inf))
        ok: Bool = self.requests.remote[req] | (distance_km <= limit)
        return ok

    def cost_terms(self, req: I64, win: I64, distance_km: F64) -> F64:
        """The four weighted cost terms of each pair, shape (pairs, 4)."""
        owner = self.index.window_owner[win]
        level_sum = np.zeros(len(req), dtype=np.int64)
        for j in range(self.need_idx.shape[1]):
            level_sum += self.levels_padded[owner, self.need_idx[req, j]]
        skill_t = skill_term_of_sum(level_sum, self.n_need[req])
        ix = self.index
        return weighted_terms(
            self.policy, distance_km, skill_t, ix.rating_t[owner], ix.fairness_t[owner]
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
    def cat(name: str, dtype: type) -> np.ndarray:
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


def find_nearest(ctx: SolveContext, rows: I64, k: int) -> Candidates:
    """First-round candidates: each request's ``k`` nearest windows (for a remote request,
    its ``k`` cheapest feasible windows), filtered by the hard constraints."""
    remote = ctx.requests.remote[rows]
    n_remote = int(remote.sum())
    parts = [_remote(ctx, rows[remote], np.full(n_remote, np.inf), np.full(n_remote, k))]
    near = [_near_k(ctx, members, tree, k) for members, tree in ctx.trees(rows[~remote])]
    return _concat([*parts, _filtered(ctx, _concat(near))])


def find_within(ctx: SolveContext, rows: I64, max_cost: F64, remote_k: I64) -> Candidates:
    """Every feasible pair of ``rows[i]`` that may cost less than ``max_cost[i]``.

    For a request with a location, a pair costs at least ``distance_weight * km +
    static_min``, so searching the ball of radius ``(max_cost - static_min) /
    distance_weight`` (capped at the request's radius) finds all of them. A remote request
    instead gets its ``remote_k[i]`` cheapest feasible pairs (every volunteer of a skill may
    cost about the same, so "all below a cost" can be most of the pool; the caller widens
    ``remote_k`` while the certificate fails). ``inf`` asks for every feasible pair.
    """
    remote = ctx.requests.remote[rows]
    remote_rows = rows[remote]
    k = np.where(np.isinf(max_cost[remote]), 0, remote_k[remote_rows])
    parts = [_remote(ctx, remote_rows, max_cost[remote], k)]
    near_rows, near_cost = rows[~remote], max_cost[~remote]
    weight = ctx.policy.distance_weight
    with np.errstate(divide="ignore", invalid="ignore"):
        reach = np.where(
            weight > 0, (near_cost - ctx.static_min) / weight * (1 + 1e-9) + 1e-6, np.inf
        )
    reach_of = np.zeros(len(ctx.requests))
    reach_of[near_rows] = np.maximum(reach, 0.0)
    near = [
        _near_ball(ctx, members, tree, reach_of[members]) for members, tree in ctx.trees(near_rows)
    ]
    return _concat([*parts, _filtered(ctx, _concat(near))])


def _filtered(ctx: SolveContext, raw: Candidates) -> Candidates:
    """Keep the feasible pairs of ``raw`` and compute their distances."""
    ok = ctx.skilled_and_free(raw.request, raw.window)
    req, win = raw.request[ok], raw.window[ok]
    owner = ctx.index.window_owner[win]
    pool = ctx.index.pool
    dist = haversine_km(
        ctx.requests.lat[req], ctx.requests.lon[req], pool.lat[owner], pool.lon[owner]
    )
    ok = ctx.within_reach(req, win, dist)
    return Candidates(req[ok], win[ok], dist[ok], raw.rows, raw.exhaustive, raw.lower_bound)


def _near_k(ctx: SolveContext, rows: I64, skill_tree: SkillTree, k: int) -> Candidates:
    n = skill_tree.size
    if skill_tree.tree is None or k >= n:
        return _near_ball(ctx, rows, skill_tree, np.full(len(rows), np.inf))
    bound = float(chord_for_km(float(ctx.radius_km[rows].max()) + 1e-6))
    chord, idx = skill_tree.tree.query(ctx.request_xyz[rows], k=k, distance_upper_bound=bound)
    chord, idx = chord.reshape(len(rows), k), idx.reshape(len(rows), k)  # k = 1 gives 1-D
    found = idx < n
    req = np.repeat(rows, k).reshape(len(rows), k)[found]
    win = skill_tree.windows[idx[found]]
    # A row whose k-th neighbour is within its radius may have more there; anything it did
    # not get is at least as far as that k-th neighbour.
    kth_km = km_for_chord(np.where(found[:, -1], chord[:, -1], 0.0))
    truncated = found[:, -1] & (kth_km <= ctx.radius_km[rows])
    lower = np.where(
        truncated,
        ctx.policy.distance_weight * np.maximum(kth_km - _KM_SLACK, 0.0) + ctx.static_min,
        np.inf,
    )
    return Candidates(req, win, np.zeros(0), rows, ~truncated, lower)


def _near_ball(ctx: SolveContext, rows: I64, skill_tree: SkillTree, reach_km: F64) -> Candidates:
    """Every window of the tree within ``min(reach_km, radius)`` of each row."""
    radius = ctx.radius_km[rows]
    exhaustive = reach_km >= radius
    ball_km = np.minimum(reach_km, radius)
    lower = np.where(exhaustive, np.inf, ctx.policy.distance_weight * ball_km + ctx.static_min)
    if skill_tree.tree is None or len(rows) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return Candidates(empty, empty, np.zeros(0), rows, exhaustive, lower)
    hits = skill_tree.tree.query_ball_point(
        ctx.request_xyz[rows], r=chord_for_km(ball_km + 1e-6), return_sorted=True
    )
    lengths = np.fromiter((len(h) for h in hits), dtype=np.int64, count=len(rows))
    flat = np.fromiter((i for h in hits for i in h), dtype=np.int64, count=int(lengths.sum()))
    req = np.repeat(rows, lengths)
    return Candidates(req, skill_tree.windows[flat], np.zeros(0), rows, exhaustive, lower)


def _remote(ctx: SolveContext, rows: I64, max_cost: F64, ks: I64) -> Candidates:
    """Remote requests: distance does not matter. Windows are scanned cheapest-static-cost
    first (a pair costs at least its volunteer's static cost), keeping the ``k`` cheapest
    feasible pairs (``k`` > 0) or every pair cheaper than ``max_cost``."""
    parts: list[Candidates] = []
    for row, limit, k in zip(rows.tolist(), max_cost.tolist(), ks.tolist(), strict=True):
        windows, static = ctx.by_static_cost(row)
        n = len(windows)
        scan = n if k <= 0 else min(n, 16 * k)
        while True:
            if k <= 0:
                scan = int(np.searchsorted(static, limit, side="right"))
            req = np.full(scan, row, dtype=np.int64)
            ok = ctx.skilled_and_free(req, windows[:scan])
            if k <= 0 or scan == n or np.count_nonzero(ok) > k:
                break
            scan = n
        req, win = req[ok], windows[:scan][ok]
        cost = ctx.pair_cost(req, win, np.zeros(len(win)))
        keep = np.argsort(cost, kind="stable")[:k] if k > 0 else np.flatnonzero(cost <= limit)
        left_out = np.ones(len(win), dtype=np.bool_)
        left_out[keep] = False
        unscanned = float(static[scan]) if scan < n else np.inf
        bound = min(float(cost[left_out].min(initial=np.inf)), unscanned)
        parts.append(_one(row, req[keep], win[keep], bool(np.isinf(bound)), bound))
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
