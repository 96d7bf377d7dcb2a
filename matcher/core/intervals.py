"""Half-open time intervals ``[start, end)`` in integer epoch seconds: subtracting one from a
list of spans, and adding one with touching spans merged.

A volunteer's availability is such a list, sorted and disjoint; both functions keep it so.
"""

from __future__ import annotations

from collections.abc import Iterable

Span = tuple[int, int]


def subtract(spans: Iterable[Span], start: int, end: int) -> tuple[Span, ...]:
    """``spans`` minus ``[start, end)``: a span around it splits in two, one it covers goes,
    the others stay as they are (in their order)."""
    out: list[Span] = []
    for s, e in spans:
        if e <= start or end <= s:
            out.append((s, e))
            continue
        if s < start:
            out.append((s, start))
        if end < e:
            out.append((end, e))
    return tuple(out)


def merge(spans: Iterable[Span], start: int, end: int) -> tuple[Span, ...]:
    """``spans`` plus ``[start, end)``, sorted, with touching or overlapping spans merged."""
    out: list[Span] = []
    for s, e in sorted([*spans, (start, end)]):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return tuple(out)
