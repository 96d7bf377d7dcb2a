"""Several dispatchers on one real Redis, racing over the same orders and volunteers, never
book anybody twice: run many times over, each time with fresh keys."""

from __future__ import annotations

import itertools
import random
import threading
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager

import pytest

from matcher.v1 import orders_pb2
from tests.support.orders import (
    ORDER_SETTINGS,
    ManualClock,
    OrderSystem,
    check_no_double_booking,
    running_system,
)
from tests.support.redis_db import on_private_prefix
from tests.support.registry import north_km, upsert
from tests.support.times import HOUR, T0

pytestmark = pytest.mark.redis
OR = orders_pb2
DISPATCHERS = 3
RACES = 25


def all_orders(system: OrderSystem) -> list[orders_pb2.Order]:
    reply = system.orders.ListOrders(OR.ListOrdersRequest(page_size=1000), timeout=10)
    return list(reply.orders)


def together(calls: list[Callable[[], object]]) -> list[object]:
    """Run ``calls`` in threads released at the same instant; re-raise the first failure,
    else return their results."""
    barrier = threading.Barrier(len(calls))
    failures: list[BaseException] = []
    results: list[object] = []

    def run(call: Callable[[], object]) -> None:
        barrier.wait()
        try:
            results.append(call())
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=run, args=(c,)) for c in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if failures:
        raise failures[0]
    return results


@contextmanager
def dispatchers() -> Iterator[list[OrderSystem]]:
    """``DISPATCHERS`` servers on one clock, over fresh keys of the shared Redis."""
    clock = ManualClock()
    with on_private_prefix(ORDER_SETTINGS) as settings, ExitStack() as stack:
        yield [stack.enter_context(running_system(settings, clock)) for _ in range(DISPATCHERS)]


def race(seed: int, systems: list[OrderSystem]) -> tuple[int, int]:
    """One race; returns the live offers at the end and the reservations refused."""
    rng = random.Random(seed)
    first = systems[0]
    first.register(
        *(upsert(f"vol-{k}", at=north_km(rng.uniform(0, 4)), hours=(0, 9)) for k in range(6))
    )
    for n in range(18):
        start = rng.choice(range(2, 14)) / 2
        first.submit(
            f"key-{n}",
            start_h=start,
            end_h=start + rng.choice((0.5, 1.0, 1.5)),
            needed=rng.choice((1, 1, 2)),
            branch=f"grid-{n % len(systems)}",
        )
    live = conflicts = 0
    for turn in range(3):
        # The first round gives each dispatcher its own branch: no order is shared, so every
        # collision is two dispatchers wanting one volunteer's time (a hold conflict); the
        # later rounds also race on the same orders.
        scopes = [
            OR.DispatchScope(branch_ids=[f"grid-{i}"]) if turn == 0 else None
            for i in range(len(systems))
        ]
        reports = together(
            [lambda s=s, c=c: s.round(scope=c) for s, c in zip(systems, scopes, strict=True)]
        )
        conflicts += sum(r.reservation_conflicts for r in reports)  # type: ignore[attr-defined]
        orders = all_orders(first)
        live = check_no_double_booking(orders)
        answers = [
            (rng.choice(systems), offer.offer_id, rng.random() < 0.7)
            for order in orders
            for offer in order.offers
            if offer.state == OR.OFFER_STATE_OPEN
        ]
        together(
            [
                (lambda s=s, o=o: s.accept(o)) if yes else (lambda s=s, o=o: s.decline(o))
                for s, o, yes in answers
            ]
        )
        live = check_no_double_booking(all_orders(first))
    assert first.app.orders is not None
    holds = [h for h in first.app.orders.store.holds()]
    by_volunteer: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for hold in holds:
        by_volunteer[hold.volunteer_id].append((hold.start, hold.end))
    for spans in by_volunteer.values():
        spans.sort()
        assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans))
    return live, conflicts


def test_racing_dispatchers_never_double_book() -> None:
    booked = refused = 0
    for seed in range(RACES):
        with dispatchers() as systems:
            live, conflicts = race(seed, systems)
        booked, refused = booked + live, refused + conflicts
    assert booked > RACES * 5, "the races booked too little to prove anything"
    assert refused > 0, "the dispatchers never actually collided"
    print(f"{RACES} races: {booked} live offers, {refused} reservations refused")


def test_two_dispatchers_on_one_order_make_one_offer() -> None:
    for _ in range(10):
        with dispatchers() as systems:
            systems[0].register(upsert("vol-a"), upsert("vol-b", at=north_km(1)))
            order = systems[0].submit("key-1")
            together([lambda s=s: s.round() for s in systems])
            offers = systems[0].get(order.order_id).offers
            assert len(offers) == 1 and offers[0].volunteer_id == "vol-a"


def test_orders_at_one_time_share_no_volunteer_across_dispatchers() -> None:
    with dispatchers() as systems:
        systems[0].register(*(upsert(f"vol-{k}", at=north_km(k)) for k in range(3)))
        ids = [systems[0].submit(f"key-{n}").order_id for n in range(6)]
        together([lambda s=s: s.round() for s in systems])
        offered = [o for i in ids for o in systems[0].get(i).offers]
        assert sorted(o.volunteer_id for o in offered) == ["vol-0", "vol-1", "vol-2"]
        assert systems[0].get(ids[0]).request.window.start.seconds == T0 + 2 * HOUR
