"""``matcher.core.intervals`` against a model of the same spans as sets of whole seconds."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from matcher.core.intervals import Span, merge, subtract

_TIME = st.integers(min_value=0, max_value=60)


@st.composite
def disjoint_spans(draw: st.DrawFn) -> tuple[Span, ...]:
    """Sorted, disjoint, non-empty spans (possibly touching), as availability is kept."""
    cuts = sorted(draw(st.sets(_TIME, max_size=10)))
    pairs = list(zip(cuts[::2], cuts[1::2], strict=False))
    return tuple((s, e) for s, e in pairs if s < e)


@st.composite
def one_span(draw: st.DrawFn) -> Span:
    start = draw(_TIME)
    return start, draw(st.integers(min_value=start + 1, max_value=61))


def seconds(spans: tuple[Span, ...]) -> set[int]:
    return {t for s, e in spans for t in range(s, e)}


def is_sorted_and_disjoint(spans: tuple[Span, ...], touching_allowed: bool) -> bool:
    ordered = all(s < e for s, e in spans)
    apart = all(
        e < s2 or (touching_allowed and e == s2) for (_, e), (s2, _) in itertools.pairwise(spans)
    )
    return ordered and apart


@given(disjoint_spans(), one_span())
def test_subtract_leaves_exactly_the_seconds_outside_the_span(
    spans: tuple[Span, ...], cut: Span
) -> None:
    left = subtract(spans, *cut)
    assert seconds(left) == seconds(spans) - set(range(*cut))
    assert is_sorted_and_disjoint(left, touching_allowed=True)


@given(disjoint_spans(), one_span())
def test_subtract_keeps_spans_it_does_not_touch_and_is_idempotent(
    spans: tuple[Span, ...], cut: Span
) -> None:
    left = subtract(spans, *cut)
    untouched = [(s, e) for s, e in spans if e <= cut[0] or cut[1] <= s]
    assert set(untouched) <= set(left)
    assert subtract(left, *cut) == left


@given(disjoint_spans(), one_span())
def test_merge_adds_the_span_and_leaves_no_touching_spans(
    spans: tuple[Span, ...], added: Span
) -> None:
    merged = merge(spans, *added)
    assert seconds(merged) == seconds(spans) | set(range(*added))
    assert is_sorted_and_disjoint(merged, touching_allowed=False)


@given(disjoint_spans(), one_span())
def test_merge_gives_back_what_subtract_took(spans: tuple[Span, ...], span: Span) -> None:
    whole = merge(spans, *span)
    assert merge(subtract(whole, *span), *span) == whole


def test_subtract_splits_a_window_around_the_span() -> None:
    assert subtract(((0, 10), (20, 30)), 4, 6) == ((0, 4), (6, 10), (20, 30))
    assert subtract(((0, 10),), 0, 10) == ()
    assert merge(((0, 4), (6, 10)), 4, 6) == ((0, 10),)
