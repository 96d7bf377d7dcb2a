"""The sparse rectangular assignment and its dual certificate.

Rows are request slots; columns are volunteer windows plus one private "unserved" column
per row, so a full row matching always exists. The lexicographic objective (most value
first, then least cost) becomes one linear cost: a real edge costs ``cost + 1`` and a row's
unserved column ``big_m * value + 1``, where ``big_m`` exceeds the cost of any matching.
(The ``+ 1`` keeps every weight non-zero: scipy's sparse solver treats stored zeros as
missing edges.) Shifting all of a row's weights by one constant does not change the
optimum, so this equals "minimise cost - big_m * value".

``solve_sparse`` runs scipy's LAPJVsp (``min_weight_full_bipartite_matching``; Jonker and
Volgenant 1987, sparse variant; O(n^3) worst case, near-linear in practice on these
graphs). ``column_duals`` then recovers optimal LP duals from the residual graph:

    max sum(u) + sum(v)  s.t.  u_i + v_j <= c_ij,  v_j <= 0  (columns may stay unmatched)

With ``v`` the shortest-path distances below and ``u_i = c(i, m(i)) - v(m(i))``,
complementary slackness holds by construction. A pair (i, j) outside the graph cannot
improve the optimum when ``c_ij >= u_i`` (because ``v_j <= 0``): the pruning certificate.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import csr_array
from scipy.sparse.csgraph import connected_components, min_weight_full_bipartite_matching

from matcher.core.arrays import F64, I64

_MAX_RELAX_ROUNDS = 10_000
_PACK_ROWS = 96  # rows per group of small components solved together


def solve_sparse(n_rows: int, n_cols: int, row: I64, col: I64, weight: F64) -> I64:
    """Minimum-weight full matching of the rows; returns the column of each row.

    Every weight must be positive; the graph must admit a matching of every row. The graph
    is split into connected components (towns far apart share no volunteer), each solved
    on its own: LAPJVsp's work grows with rows x columns, so the parts cost far less than
    the whole. A component with one row takes its cheapest edge.
    """
    match = np.full(n_rows, -1, dtype=np.int64)
    if n_rows == 0:
        return match
    if n_rows <= _PACK_ROWS:  # small: one call costs less than finding the components
        graph = csr_array((weight, (row, col)), shape=(n_rows, n_cols))
        rows, cols = min_weight_full_bipartite_matching(graph)
        match[rows] = cols
        return match
    label = _row_components(n_rows, n_cols, row, col)
    size = np.bincount(label)
    edge_label = label[row]
    single = size[edge_label] == 1
    _cheapest_edges(row[single], col[single], weight[single], match)
    group = _pack_components(size)[edge_label]
    multi = np.flatnonzero(~single)
    order = multi[np.argsort(group[multi], kind="stable")]
    bounds = np.flatnonzero(np.diff(group[order])) + 1
    for part in np.split(order, bounds) if len(order) else []:
        r_ids, r_local = np.unique(row[part], return_inverse=True)
        c_ids, c_local = np.unique(col[part], return_inverse=True)
        graph = csr_array(
            (weight[part], (r_local.reshape(-1), c_local.reshape(-1))),
            shape=(len(r_ids), len(c_ids)),
        )
        rows, cols = min_weight_full_bipartite_matching(graph)
        match[r_ids[rows]] = c_ids[cols]
    return match


def _row_components(n_rows: int, n_cols: int, row: I64, col: I64) -> I64:
    """Connected-component label of each row of the bipartite graph."""
    n = n_rows + n_cols
    adjacency = csr_array((np.ones(len(row), dtype=np.int8), (row, n_rows + col)), shape=(n, n))
    _, label = connected_components(adjacency, directed=False)
    out: I64 = label[:n_rows].astype(np.int64)
    return out


def _pack_components(size: I64) -> I64:
    """A solve group per component: large components alone, small ones packed together
    (about ``_PACK_ROWS`` rows a group) so per-call overhead does not dominate."""
    big = size >= _PACK_ROWS
    start = np.cumsum(np.where(big, 0, size)) - np.where(big, 0, size)
    small_group = start // _PACK_ROWS
    n_small = int(small_group.max(initial=0)) + 1
    out: I64 = np.where(big, n_small + np.cumsum(big), small_group).astype(np.int64)
    return out


def _cheapest_edges(row: I64, col: I64, weight: F64, match: I64) -> None:
    """Match each row (alone in its component) to its cheapest edge; ties go to the
    lowest column, so the result is deterministic."""
    if len(row) == 0:
        return
    order = np.lexsort((col, weight, row))
    first = np.concatenate(([True], np.diff(row[order]) != 0))
    chosen = order[first]
    match[row[chosen]] = col[chosen]


def column_duals(n_cols: int, row: I64, col: I64, weight: F64, match: I64) -> F64 | None:
    """Optimal column duals ``v <= 0`` for the matching ``match``, or None when the
    residual graph shows the matching is not optimal (numerical trouble).

    ``v`` solves the difference constraints ``v_j <= v_m(i) + c_ij - c_i,m(i)`` for every
    edge (i, j), ``v_j <= 0``, and ``v_j = 0`` for unmatched columns: shortest paths from a
    virtual source joined to every column at 0, by frontier Bellman-Ford (vectorised).
    """
    matched_weight = _matched_weight(row, col, weight, match)
    src = match[row]
    keep = src != col
    src, dst = src[keep], col[keep]
    arc = weight[keep] - matched_weight[row[keep]]
    scale = max(1.0, float(np.abs(weight).max(initial=0.0)))
    tol = 4 * np.finfo(np.float64).eps * scale
    dist = np.zeros(n_cols)
    active = np.ones(n_cols, dtype=np.bool_)
    for _ in range(_MAX_RELAX_ROUNDS):
        sel = active[src]
        if not sel.any():
            break
        proposal = dist.copy()
        np.minimum.at(proposal, dst[sel], dist[src[sel]] + arc[sel])
        active = proposal < dist - tol
        dist = np.where(active, proposal, dist)
    else:
        return None
    unmatched = np.ones(n_cols, dtype=np.bool_)
    unmatched[match] = False
    if (dist[unmatched] < -1e-9 - 64 * np.finfo(np.float64).eps * scale).any():
        return None
    return dist


def row_duals(row: I64, col: I64, weight: F64, match: I64, v: F64) -> F64:
    """``u_i = c(i, m(i)) - v(m(i))``."""
    out: F64 = _matched_weight(row, col, weight, match) - v[match]
    return out


def _matched_weight(row: I64, col: I64, weight: F64, match: I64) -> F64:
    """The weight of each row's matched edge."""
    is_matched = match[row] == col
    out = np.zeros(len(match))
    out[row[is_matched]] = weight[is_matched]
    return out
