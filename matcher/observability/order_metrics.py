"""The order lifecycle's metrics: ``OrderMetrics`` turns what the desk wrote and what the
dispatcher ran into counters, and ``export_order_gauges`` reads orders per state from the
store when Prometheus scrapes.

Counters count what *this* server did (several servers on one Redis: sum them); the state
gauges read the shared store, so every server reports the same figures.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from matcher.errors import MatcherError
from matcher.observability.metrics import URGENCY_LABEL, Metrics, OrderFigures
from matcher.orders.model import EntryKind, OfferState, Order, OrderState, Transaction
from matcher.orders.store.base import OrderStore, moved_minutes

#: States whose oldest order operators watch ("orders waiting too long").
WAITING_STATES = (OrderState.PENDING, OrderState.OFFERED)


class OrderMetrics:
    """A ``LifecycleObserver`` feeding ``Metrics``."""

    def __init__(self, metrics: Metrics) -> None:
        self._m = metrics

    def order_written(self, before: Order | None, after: Order, txn: Transaction | None) -> None:
        m = self._m
        if before is None:
            m.orders_submitted.labels(URGENCY_LABEL[after.spec.urgency]).inc()
            m.order_transitions.labels(_label(after.state)).inc()
            return
        if after.state is not before.state:
            m.order_transitions.labels(_label(after.state)).inc()
            if after.state is OrderState.ACCEPTED:
                waited = max(0.0, (after.updated_ms - after.created_ms) / 1000.0)
                m.order_acceptance.labels(URGENCY_LABEL[after.spec.urgency]).observe(waited)
        for offer in after.offers:
            earlier = before.offer(offer.offer_id)
            if earlier is None:
                m.offers.labels("made").inc()
                if offer.state is not OfferState.OPEN:  # made and answered in one write
                    m.offers.labels(_label(offer.state)).inc()
            elif earlier.state is not offer.state:
                m.offers.labels(_label(offer.state)).inc()
        if txn is not None and txn.kind is EntryKind.EARNED:
            m.hours_credited.inc(moved_minutes(txn) / 60.0)

    def round_finished(self, seconds: float, offers: int, failed: bool) -> None:
        self._m.dispatch_rounds.labels("failed" if failed else "ok").inc()
        self._m.dispatch_round_duration.observe(seconds)


def export_order_gauges(
    metrics: Metrics, store: OrderStore, clock: Callable[[], float] = time.time
) -> None:
    """Orders per state and the age of the oldest waiting ones, read from ``store`` once per
    scrape (NaN while the store cannot be read; ``matcher_store_up`` says why)."""

    def read() -> OrderFigures:
        try:
            census = store.census()
        except MatcherError:  # the store is unreachable
            unknown = dict.fromkeys((_label(s) for s in OrderState), math.nan)
            return unknown, {_label(s): math.nan for s in WAITING_STATES}
        now = clock()
        counts = {_label(s): float(c.count) for s, c in census.items()}
        ages = {
            _label(s): max(0.0, now - census[s].oldest_created_ms / 1000.0)
            if census[s].count
            else 0.0
            for s in WAITING_STATES
        }
        return counts, ages

    metrics.order_gauges.read = read


def _label(state: OrderState | OfferState) -> str:
    return state.name.lower()
