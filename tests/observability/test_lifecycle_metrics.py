"""The order lifecycle's metrics, scraped from /metrics after real calls on both stores."""

from __future__ import annotations

import math
import urllib.request
from collections.abc import Iterator

import pytest
from prometheus_client.parser import text_string_to_metric_families

from matcher.v1 import match_pb2
from tests.support.orders import ORDER_SETTINGS, OrderSystem, system_on
from tests.support.registry import north_km, upsert

Sample = tuple[str, tuple[tuple[str, str], ...]]


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def system(request: pytest.FixtureRequest) -> Iterator[OrderSystem]:
    with system_on(request.param, ORDER_SETTINGS.with_overrides(metrics_port=0)) as running:
        yield running


def scrape(system: OrderSystem) -> dict[Sample, float]:
    port = system.app.metrics_port
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(samples: dict[Sample, float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_the_lifecycle_moves_its_metrics(system: OrderSystem) -> None:
    system.register(
        *(upsert(v, at=north_km(i + 1), branch="grid-1") for i, v in enumerate(("a", "b", "c")))
    )
    empty = scrape(system)
    assert value(empty, "matcher_orders", state="pending") == 0
    assert value(empty, "matcher_orders_oldest_age_seconds", state="pending") == 0

    done = system.submit("k-done")
    system.submit("k-done")  # an idempotent retry creates nothing
    system.clock.advance(90)
    waiting = scrape(system)
    assert value(waiting, "matcher_orders", state="pending") == 1
    assert value(waiting, "matcher_orders_oldest_age_seconds", state="pending") == 90
    assert value(waiting, "matcher_orders_submitted_total", urgency="routine") == 1
    assert value(waiting, "matcher_dispatch_rounds_total", result="ok") == 0

    # An URGENT order starts a round at once; it offers both orders.
    urgent = system.submit("k-urgent", start_h=4, end_h=5, urgency=match_pb2.URGENCY_URGENT)
    offered = {o.order_id: o for o in system.get(done.order_id).offers}
    offered |= {o.order_id: o for o in system.get(urgent.order_id).offers}
    system.clock.advance(30)
    system.accept(offered[done.order_id].offer_id)  # 120 s after submission
    system.decline(offered[urgent.order_id].offer_id)
    system.complete(done.order_id, 1.5)
    system.round()  # the urgent order goes to someone else

    after = scrape(system)
    assert value(after, "matcher_orders_submitted_total", urgency="urgent") == 1
    assert value(after, "matcher_dispatch_rounds_total", result="ok") == 2
    assert value(after, "matcher_dispatch_round_seconds_count") == 2
    assert value(after, "matcher_offers_total", outcome="made") == 3
    assert value(after, "matcher_offers_total", outcome="accepted") == 1
    assert value(after, "matcher_offers_total", outcome="declined") == 1
    assert value(after, "matcher_order_acceptance_seconds_count", urgency="routine") == 1
    assert value(after, "matcher_order_acceptance_seconds_sum", urgency="routine") == 120
    assert value(after, "matcher_timebank_hours_credited_total") == 1.5
    assert value(after, "matcher_order_transitions_total", state="completed") == 1
    assert value(after, "matcher_orders", state="completed") == 1
    assert value(after, "matcher_orders", state="offered") == 1
    assert value(after, "matcher_orders", state="pending") == 0
    assert value(after, "matcher_orders_oldest_age_seconds", state="offered") == 30


def test_an_expired_offer_is_counted(system: OrderSystem) -> None:
    system.register(upsert("a", at=north_km(1), branch="grid-1"))
    system.submit("k-1")
    system.round()
    system.clock.advance(ORDER_SETTINGS.offer_ttl_seconds + 1)
    system.round()
    after = scrape(system)
    assert value(after, "matcher_offers_total", outcome="expired") == 1
    assert value(after, "matcher_orders", state="pending") == 1


def test_the_state_gauges_are_nan_while_the_store_cannot_be_read() -> None:
    from matcher.errors import StoreUnavailableError
    from matcher.observability.metrics import Metrics
    from matcher.observability.order_metrics import export_order_gauges

    class DownStore:
        def census(self) -> dict[object, object]:
            raise StoreUnavailableError("redis is down")

    metrics = Metrics()
    assert metrics.registry.get_sample_value("matcher_orders", {"state": "pending"}) is None
    export_order_gauges(metrics, DownStore())  # type: ignore[arg-type]
    for name in ("matcher_orders", "matcher_orders_oldest_age_seconds"):
        got = metrics.registry.get_sample_value(name, {"state": "pending"})
        assert got is not None and math.isnan(got)
