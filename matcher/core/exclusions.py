"""Pairs a solve must not use: (request, volunteer) pairs made infeasible on purpose.

The dispatcher needs this when an order goes back to the pending set after a decline or an
expired offer: the next round must never offer it to the same volunteer again, while that
volunteer stays available to every other order. An excluded pair is simply one more hard
constraint, checked with the others in ``SolveContext.skilled_and_free``, so the optimality
proof of ``solve_match`` is unchanged: its lower bounds are bounds on the cost of *feasible*
left-out pairs, and excluding pairs only removes feasible ones.

Pairs are held as sorted int64 keys ``request * n_volunteers + volunteer``; a check is a
binary search per pair (``np.searchsorted``), O(pairs log excluded) per call. (``np.isin``
would sort or hash the whole excluded set on every call: with tens of thousands of excluded
pairs and a check per candidate query that was most of a dispatch round's solve.)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from matcher.core.arrays import I64, Bool


@dataclass(frozen=True)
class ExcludedPairs:
    """(request index, volunteer index) pairs that are infeasible whatever else holds."""

    keys: I64  # sorted, unique: request * n_volunteers + volunteer
    n_volunteers: int

    @classmethod
    def build(cls, pairs: Iterable[tuple[int, int]], n_volunteers: int) -> ExcludedPairs:
        """From (request index, volunteer index) pairs of a batch over ``n_volunteers``."""
        width = max(n_volunteers, 1)
        keys = np.array(
            sorted({r * width + v for r, v in pairs if 0 <= v < n_volunteers and r >= 0}),
            dtype=np.int64,
        )
        return cls(keys, n_volunteers)

    def __len__(self) -> int:
        return len(self.keys)

    def allowed(self, request: I64, volunteer: I64) -> Bool:
        """Per pair: not excluded."""
        if not len(self.keys):
            return np.ones(len(request), dtype=np.bool_)
        key = request * max(self.n_volunteers, 1) + volunteer
        at = np.minimum(np.searchsorted(self.keys, key), len(self.keys) - 1)
        out: Bool = self.keys[at] != key
        return out
