"""The exact-agreement check: every exact method must report the same objective.

The engine (``solve_match``, in process and over gRPC, inline and against the registered
pool) and the dense reference (``dense_match``) solve the same problem exactly: first the
most value served (an integer), then the least total pair cost. Any two exact answers must
agree on both, whatever ties they broke differently. A disagreement is a bug in one of them,
so it is raised, loudly, and never averaged away.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Relative tolerance on total cost (float sums over thousands of pairs, in any order).
REL_TOL = 1e-6


class AgreementError(AssertionError):
    """Two exact methods reported different objectives for the same case."""


@dataclass(frozen=True)
class Objective:
    """What an exact method reports: value served and total pair cost."""

    method: str
    value_served: float
    total_cost: float


def check_agreement(case: str, reference: Objective, other: Objective) -> str:
    """Raise ``AgreementError`` unless ``other`` has ``reference``'s value served exactly and
    its total cost within ``REL_TOL`` (relative); otherwise a one-line account of the check."""
    value_ok = reference.value_served == other.value_served
    scale = max(abs(reference.total_cost), abs(other.total_cost), 1.0)
    cost_ok = abs(reference.total_cost - other.total_cost) <= REL_TOL * scale
    if not (value_ok and cost_ok):
        raise AgreementError(
            "\n"
            + "!" * 78
            + f"\nEXACT METHODS DISAGREE on {case}:\n"
            + f"  {reference.method}: value served {reference.value_served}, "
            + f"total cost {reference.total_cost!r}\n"
            + f"  {other.method}: value served {other.value_served}, "
            + f"total cost {other.total_cost!r}\n"
            + "Both claim the exact optimum; at least one of them is wrong.\n"
            + "!" * 78
        )
    return (
        f"{case}: {other.method} = {reference.method} "
        f"(value {reference.value_served:g}, cost {reference.total_cost:.6f})"
    )
