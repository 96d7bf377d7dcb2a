"""Tests of ``matcher.core.assignment``: the sparse solve and its LP dual certificate, on
hand-made graphs and against scipy's dense ``linear_sum_assignment``."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment

from matcher.core.assignment import column_duals, row_duals, solve_sparse

Edges = list[tuple[int, int, float]]


def arrays(edges: Edges) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    row = np.array([e[0] for e in edges], dtype=np.int64)
    col = np.array([e[1] for e in edges], dtype=np.int64)
    weight = np.array([e[2] for e in edges], dtype=np.float64)
    return row, col, weight


def check_certificate(
    n_rows: int, n_cols: int, row: np.ndarray, col: np.ndarray, weight: np.ndarray
) -> tuple[np.ndarray, float]:
    """Solve, then check the matching and its duals; return the matching and its cost."""
    match = solve_sparse(n_rows, n_cols, row, col, weight)
    assert match.shape == (n_rows,)
    assert np.all((match >= 0) & (match < n_cols)), "every row matched"
    assert len(np.unique(match)) == n_rows, "each column at most once"
    edge = {(int(i), int(j)): float(w) for i, j, w in zip(row, col, weight, strict=True)}
    assert all((i, int(j)) in edge for i, j in enumerate(match)), "matched along edges"
    primal = sum(edge[(i, int(j))] for i, j in enumerate(match))

    v = column_duals(n_cols, row, col, weight, match)
    assert v is not None
    u = row_duals(row, col, weight, match, v)
    scale = max(1.0, float(np.abs(weight).max()))
    tol = 1e-9 * scale
    assert v.shape == (n_cols,) and u.shape == (n_rows,)
    assert np.all(u[row] + v[col] <= weight + tol), "dual feasible on every edge"
    assert np.all(v <= tol), "v <= 0"
    matched = match[row] == col
    assert np.allclose(u[row[matched]] + v[col[matched]], weight[matched], atol=tol)
    unmatched = np.ones(n_cols, dtype=bool)
    unmatched[match] = False
    assert np.allclose(v[unmatched], 0.0, atol=tol), "v = 0 on unmatched columns"
    assert float(u.sum() + v.sum()) == pytest.approx(primal, rel=1e-9, abs=tol)
    return match, primal


# name, n_rows, n_cols, edges, the optimal matching (column of each row)
CASES: list[tuple[str, int, int, Edges, list[int]]] = [
    ("one edge", 1, 1, [(0, 0, 3.0)], [0]),
    ("cheapest of three", 1, 3, [(0, 0, 5.0), (0, 1, 2.0), (0, 2, 4.0)], [1]),
    (
        "greedy would be wrong",
        2,
        2,
        [(0, 0, 1.0), (0, 1, 2.0), (1, 0, 1.0), (1, 1, 10.0)],
        [1, 0],
    ),
    (
        "rectangular, one column left free",
        2,
        3,
        [(0, 0, 1.0), (0, 1, 3.0), (1, 0, 2.0), (1, 2, 5.0)],
        [1, 0],
    ),
    (
        "augmenting path through three rows",
        3,
        3,
        [(0, 0, 1.0), (1, 0, 1.0), (1, 1, 2.0), (2, 1, 1.0), (2, 2, 9.0), (0, 2, 7.0)],
        [2, 0, 1],
    ),
    (
        "private fallback columns (the solver's unserved columns)",
        3,
        5,
        [(0, 0, 2.0), (1, 0, 1.5), (2, 1, 4.0)] + [(i, 2 + i, 100.0) for i in range(3)],
        [2, 0, 1],
    ),
]


@pytest.mark.parametrize(
    ("n_rows", "n_cols", "edges", "expected"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_solved_cases(n_rows: int, n_cols: int, edges: Edges, expected: list[int]) -> None:
    row, col, weight = arrays(edges)
    match, _ = check_certificate(n_rows, n_cols, row, col, weight)
    assert match.tolist() == expected


@pytest.mark.parametrize(
    ("n_rows", "n_cols", "edges", "expected"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_solved_cases_with_edges_reversed_and_columns_renamed(
    n_rows: int, n_cols: int, edges: Edges, expected: list[int]
) -> None:
    rename = np.arange(n_cols)[::-1]  # column j becomes n_cols - 1 - j
    row, col, weight = arrays(edges[::-1])
    match, _ = check_certificate(n_rows, n_cols, row, rename[col], weight)
    assert match.tolist() == rename[expected].tolist()


def test_column_duals_rejects_a_suboptimal_matching() -> None:
    row, col, weight = arrays([(0, 0, 1.0), (0, 1, 2.0), (1, 0, 1.0), (1, 1, 10.0)])
    worse = np.array([0, 1], dtype=np.int64)  # cost 11 instead of 3: a negative cycle
    assert column_duals(2, row, col, weight, worse) is None


def test_column_duals_rejects_a_matching_that_leaves_a_cheaper_free_column() -> None:
    row, col, weight = arrays([(0, 0, 5.0), (0, 1, 1.0)])
    worse = np.array([0], dtype=np.int64)  # column 1 is free and cheaper
    assert column_duals(2, row, col, weight, worse) is None


def test_pruning_certificate_on_a_left_out_edge() -> None:
    """An edge (i, j) left out of the graph cannot improve the optimum when c_ij >= u_i."""
    full = [(0, 0, 1.0), (0, 1, 4.0), (1, 0, 2.0), (1, 1, 3.0), (1, 2, 6.0)]
    row, col, weight = arrays(full[:-1])
    match = solve_sparse(2, 3, row, col, weight)
    v = column_duals(3, row, col, weight, match)
    assert v is not None
    u = row_duals(row, col, weight, match, v)
    assert u[1] <= 6.0  # the left-out edge (1, 2) costs 6
    _, best_full = check_certificate(2, 3, *arrays(full))
    assert best_full == pytest.approx(float(weight[match[row] == col].sum()))


def random_sparse(
    rng: np.random.Generator, n_rows: int, n_cols: int, density: float, distribution: str
) -> np.ndarray:
    """A dense cost matrix with +inf for missing edges; every row has a private fallback
    column (like the solver's unserved columns), so a full matching of the rows exists."""
    if distribution == "uniform":
        cost = rng.uniform(0.1, 10.0, (n_rows, n_cols))
    elif distribution == "integer":  # many ties
        cost = rng.integers(1, 4, (n_rows, n_cols)).astype(np.float64)
    else:  # heavy tail
        cost = 0.1 + rng.lognormal(0.0, 2.0, (n_rows, n_cols))
    cost[rng.random((n_rows, n_cols)) > density] = np.inf
    fallback = np.full((n_rows, n_rows), np.inf)
    np.fill_diagonal(fallback, 1000.0 + rng.uniform(0, 1, n_rows))
    return np.hstack((cost, fallback))


@pytest.mark.parametrize("distribution", ["uniform", "integer", "lognormal"])
@pytest.mark.parametrize(
    ("n_rows", "n_cols", "density"),
    [(8, 8, 0.5), (20, 60, 0.1), (60, 20, 0.3), (100, 100, 0.05), (150, 400, 0.02)],
)
def test_differential_against_linear_sum_assignment(
    n_rows: int, n_cols: int, density: float, distribution: str
) -> None:
    rng = np.random.default_rng(n_rows * 1000 + n_cols + len(distribution))
    matrix = random_sparse(rng, n_rows, n_cols, density, distribution)
    row, col = np.nonzero(np.isfinite(matrix))
    weight = matrix[row, col]
    _, primal = check_certificate(n_rows, matrix.shape[1], row, col, weight)
    r, c = linear_sum_assignment(matrix)
    assert primal == pytest.approx(float(matrix[r, c].sum()), rel=1e-12)
