"""Registry side effects are applied exactly once, on both stores, in process: the order's
commit keeps them in the order store's outbox in the same atomic write, and a process that
dies before its registry write (or after it, before settling) leaves them to the next one,
whose replay applies each once (``registry_sync``). The process dying is a ``Killed`` raised
from inside the registry call; the "next process" is a new desk and dispatcher over the
same stores (on Redis, exactly what a restarted server has)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import pytest

from matcher.orders import lifecycle, registry_sync
from matcher.orders.desk import OrderDesk
from matcher.orders.dispatcher import Dispatcher
from matcher.orders.model import Actor, EffectKind, OrderState, RegistryEffect, Resident
from matcher.orders.store.base import OrderStore, StaleOrderError
from matcher.orders.store.memory import MemoryOrderStore
from matcher.orders.store.redis import RedisOrderStore
from matcher.registry.model import Profile, VolunteerRecord
from matcher.registry.store.base import VolunteerStore
from matcher.registry.store.memory import MemoryStore
from matcher.registry.store.redis import RedisStore
from matcher.registry.view import PoolView
from tests.support.orders import ManualClock, new_order, order_store, spec
from tests.support.redis_db import private_prefix, shared_redis_or_skip
from tests.support.registry import north_km
from tests.support.times import HOUR, T0

__all__ = ["order_store"]  # the fixture

LEASE_SECONDS = 5.0
FREE = ((T0, T0 + 10 * HOUR),)


class Killed(BaseException):
    """The process dying inside a registry call (nothing after it runs)."""


class DyingRegistry:
    """A ``VolunteerStore`` whose next read (``get``) or ``upsert`` dies: "read", or "before"
    or "after" the upsert's write."""

    def __init__(self, inner: VolunteerStore) -> None:
        self.inner = inner
        self.dies: str = ""

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def get(self, volunteer_id: str) -> VolunteerRecord | None:
        if self.dies == "read":
            self.dies = ""
            raise Killed
        return self.inner.get(volunteer_id)

    def upsert(
        self, records: Sequence[VolunteerRecord], expected_versions: Mapping[str, int] | None = None
    ) -> list[VolunteerRecord]:
        when, self.dies = self.dies, ""
        if when == "before":
            raise Killed
        stored = self.inner.upsert(records, expected_versions)
        if when == "after":
            raise Killed
        return stored


@contextmanager
def stores(kind: str) -> Iterator[tuple[OrderStore, VolunteerStore]]:
    if kind == "memory":
        yield MemoryOrderStore(), MemoryStore()
        return
    client = shared_redis_or_skip()
    try:
        with private_prefix(client) as prefix:
            yield RedisOrderStore(client, prefix), RedisStore(client, prefix)
    finally:
        client.close()


class Process:
    """What one server process runs over the shared stores: a desk and its dispatcher."""

    def __init__(self, orders: OrderStore, registry: DyingRegistry, clock: ManualClock) -> None:
        self.desk = OrderDesk(
            orders, registry, clock, offer_ttl_seconds=600, outbox_lease_seconds=LEASE_SECONDS
        )
        self.dispatcher = Dispatcher(self.desk, PoolView(registry, clock), window_seconds=0)


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def world(request: pytest.FixtureRequest) -> Iterator[tuple[OrderStore, DyingRegistry]]:
    with stores(request.param) as (orders, registry):
        registry.upsert(
            [VolunteerRecord("vol-1", Profile((("elderly_care", 3),), *north_km(1), FREE))]
        )
        yield orders, DyingRegistry(registry)


def accepted_order(first: Process) -> str:
    order, _ = first.desk.submit("grid-1", Resident("res-1"), spec(2, 3), "key-1")
    [(_, offer)] = first.dispatcher.run_round().offers
    first.desk.accept(offer.offer_id)
    return order.order_id


def restart(orders: OrderStore, registry: DyingRegistry, clock: ManualClock) -> Process:
    """A new process after the lease of the dead one's claims ran out; it recovers."""
    clock.advance(LEASE_SECONDS + 1)
    second = Process(orders, registry, clock)
    second.dispatcher.start()
    return second


def completed_by_a_dying_process(
    orders: OrderStore, registry: DyingRegistry, clock: ManualClock, dies: str, minutes: int
) -> str:
    """An order accepted, then completed by a process that dies at ``dies``; its id."""
    first = Process(orders, registry, clock)
    order_id = accepted_order(first)
    registry.dies = dies
    with pytest.raises(Killed):
        first.desk.complete(order_id, minutes, Actor.CENTRE, "")
    return order_id


CUT = ((T0, T0 + 2 * HOUR), (T0 + 3 * HOUR, T0 + 10 * HOUR))


@pytest.mark.parametrize("dies", ["read", "before", "after"])
def test_every_effect_lands_once_when_the_process_dies_around_the_registry_write(
    world: tuple[OrderStore, DyingRegistry], dies: str
) -> None:
    orders, registry = world
    clock = ManualClock()
    order_id = completed_by_a_dying_process(orders, registry, clock, dies, 90)
    assert orders.get(order_id).state is OrderState.COMPLETED  # type: ignore[union-attr]
    second = restart(orders, registry, clock)
    registry.dies = dies
    with pytest.raises(Killed):
        second.desk.rate(order_id, 4, "")
    third = restart(orders, registry, clock)
    third.dispatcher.run_round()  # a later replay changes nothing
    profile = registry.get("vol-1").profile  # type: ignore[union-attr]
    assert profile.windows == CUT
    assert profile.recent_hours == 1.5
    assert (profile.rating, profile.rating_count) == (4.0, 1)
    assert orders.pending_effects() == []


def test_an_unsettled_effect_waits_for_its_lease_and_is_then_replayed_once(
    world: tuple[OrderStore, DyingRegistry],
) -> None:
    orders, registry = world
    clock = ManualClock()
    first = Process(orders, registry, clock)
    registry.dies = "before"
    with pytest.raises(Killed):
        accepted_order(first)
    [effect] = orders.pending_effects()
    assert effect.volunteer_id == "vol-1"
    second = Process(orders, registry, clock)
    second.dispatcher.start()  # within the lease: the dead process might still be writing
    assert registry.get("vol-1").profile.windows == FREE  # type: ignore[union-attr]
    clock.advance(LEASE_SECONDS + 1)
    second.dispatcher.run_round()  # every round replays what is due
    second.dispatcher.run_round()
    assert registry.get("vol-1").profile.windows == CUT  # type: ignore[union-attr]
    assert orders.pending_effects() == []


@pytest.mark.parametrize("dies", ["read", "before"])
def test_an_effect_on_a_volunteer_written_meanwhile_is_applied_on_top(
    world: tuple[OrderStore, DyingRegistry], dies: str
) -> None:
    orders, registry = world
    clock = ManualClock()
    completed_by_a_dying_process(orders, registry, clock, dies, 60)
    record = registry.get("vol-1")
    assert record is not None
    changed = Profile(record.profile.skills, *north_km(2), record.profile.windows)
    registry.upsert([VolunteerRecord("vol-1", changed)], {"vol-1": record.version})
    restart(orders, registry, clock)
    profile = registry.get("vol-1").profile  # type: ignore[union-attr]
    assert (profile.lat, profile.recent_hours) == (north_km(2)[0], 1.0)


def test_the_outbox_is_written_with_the_order_and_claimed_only_as_read(
    order_store: OrderStore,
) -> None:
    stored, _ = order_store.create(new_order())
    effect = RegistryEffect("ord-1@2.1", "vol-1", EffectKind.HOURS, amount=90, claim="a")
    stale = dataclasses.replace(stored, version=7)
    with pytest.raises(StaleOrderError):
        order_store.commit(stale, now_ms=T0 * 1000, effects=[effect])
    assert order_store.pending_effects() == []  # a refused write leaves no effect behind
    order_store.commit(stored, now_ms=T0 * 1000, effects=[effect])
    assert order_store.pending_effects() == [effect]
    mine = dataclasses.replace(effect, claim="b", claimed_ms=5, attempt_version=3)
    assert order_store.replace_effect(effect, mine)
    assert not order_store.replace_effect(effect, dataclasses.replace(effect, claim="c"))
    assert order_store.pending_effects() == [mine]
    order_store.settle_effect(mine.effect_id)
    order_store.settle_effect(mine.effect_id)  # settling twice is harmless
    assert order_store.pending_effects() == []
    assert not order_store.replace_effect(mine, effect)


def test_effects_follow_the_write_and_a_closed_order_gives_no_time_back() -> None:
    order = lifecycle.offer(new_order(), "vol-1", FREE[0], 1.0, T0 * 1000 + 600_000, T0 * 1000)
    accepted = lifecycle.accept(order, "ord-1.1", T0 * 1000)
    [cut] = registry_sync.effects_of(order, accepted, 4)
    assert (cut.effect_id, cut.kind, cut.volunteer_id) == ("ord-1@4.1", EffectKind.CUT, "vol-1")
    cancelled = lifecycle.cancel(accepted, Actor.CENTRE, T0 * 1000)
    [back] = registry_sync.effects_of(accepted, cancelled, 5)
    assert back.kind is EffectKind.GIVE_BACK
    closed = lifecycle.close_uncompleted(accepted, 0, (T0 + 3 * HOUR) * 1000)
    assert registry_sync.effects_of(accepted, closed, 5) == ()
    done = lifecycle.complete(accepted, 90, Actor.CENTRE, "", T0 * 1000)
    rated = lifecycle.rate(done, 5, "", T0 * 1000)
    kinds = [(e.kind, e.amount) for e in registry_sync.effects_of(accepted, rated, 6)]
    assert kinds == [(EffectKind.HOURS, 90), (EffectKind.RATING, 5)]
