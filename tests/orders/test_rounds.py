"""A dispatch round in process (``rounds.run_round`` on the in-memory stores): its offers go to
the store in batches, and a batch write refused or overtaken by another process affects only
that order's offer, exactly as one write at a time did."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from matcher.orders import lifecycle
from matcher.orders.desk import OrderDesk
from matcher.orders.model import Actor, Hold, HoldChanges, Order, OrderState, Resident
from matcher.orders.rounds import run_round
from matcher.orders.store.base import OrderWrite, WriteOutcome
from matcher.orders.store.memory import MemoryOrderStore
from matcher.registry.model import Profile, VolunteerRecord
from matcher.registry.store.memory import MemoryStore
from matcher.registry.view import PoolView
from tests.support.orders import ManualClock, spec
from tests.support.registry import north_km
from tests.support.times import HOUR, T0


class InterleavedStore(MemoryOrderStore):
    """An order store where another process acts just before the next ``commit_many``."""

    def __init__(self) -> None:
        super().__init__()
        self.meanwhile: Callable[[], object] | None = None
        self.batches: list[int] = []

    def commit_many(self, writes: Sequence[OrderWrite], *, now_ms: int) -> list[WriteOutcome]:
        if self.meanwhile is not None:
            act, self.meanwhile = self.meanwhile, None
            act()
        self.batches.append(len(writes))
        return super().commit_many(writes, now_ms=now_ms)


def setup(volunteers: int) -> tuple[OrderDesk, PoolView, InterleavedStore, ManualClock]:
    registry = MemoryStore()
    window = ((T0, T0 + 10 * HOUR),)
    registry.upsert(
        [
            VolunteerRecord(f"vol-{k}", Profile((("elderly_care", 3),), *north_km(k + 1), window))
            for k in range(volunteers)
        ]
    )
    clock = ManualClock()
    store = InterleavedStore()
    desk = OrderDesk(store, registry, clock, offer_ttl_seconds=600)
    return desk, PoolView(registry, clock), store, clock


def submit(desk: OrderDesk, key: str, needed: int = 1) -> Order:
    order, _ = desk.submit("grid-1", Resident("res-1"), spec(2, 3, needed=needed), key)
    return order


def hold_elsewhere(store: MemoryOrderStore, volunteer_id: str) -> None:
    """Another dispatcher's offer holds the volunteer's time (its order written at once)."""
    other, _ = store.create(lifecycle.submit("ord-x", "", Resident("r"), spec(2, 3), "x", T0))
    held = Hold(volunteer_id, "ord-x.1", T0 + 2 * HOUR, T0 + 3 * HOUR, 0)
    store.commit(other, HoldChanges(add=(held,)), now_ms=T0 * 1000)


def test_offers_are_written_in_one_batch_per_slot() -> None:
    desk, view, store, _ = setup(6)
    ids = [submit(desk, f"k{n}").order_id for n in range(3)] + [submit(desk, "team", 2).order_id]
    report = run_round(desk, view)
    assert len(report.offers) == 5 and report.orders_unserved == 0
    assert store.batches == [4, 1]  # first offers of all four orders, then the team's second
    assert {o.state for o in store.get_many(ids) if o} == {OrderState.OFFERED}
    assert set(report.timings_ms) == {"sweep", "holds", "solve", "reserve"}


def test_a_refused_offer_refuses_only_itself_and_the_round_solves_again() -> None:
    desk, view, store, _ = setup(3)
    team = submit(desk, "team", 2)
    store.meanwhile = lambda: hold_elsewhere(store, "vol-0")  # the nearest: in the first batch
    report = run_round(desk, view)
    assert report.reservation_conflicts == 1 and report.solves == 2
    after = desk.get(team.order_id)
    assert after.state is OrderState.OFFERED
    assert sorted(o.volunteer_id for o in after.open_offers) == ["vol-1", "vol-2"]
    assert [h.volunteer_id for h in store.holds()].count("vol-0") == 1  # only the other's


def test_an_order_written_meanwhile_is_read_again_and_decided_again() -> None:
    desk, view, store, _ = setup(3)
    kept, cancelled = submit(desk, "a"), submit(desk, "b")
    store.meanwhile = lambda: desk.cancel(cancelled.order_id, Actor.RESIDENT)
    report = run_round(desk, view)
    assert [o.order_id for o, _ in report.offers] == [kept.order_id]
    assert desk.get(cancelled.order_id).state is OrderState.CANCELLED
    assert not desk.get(cancelled.order_id).offers
    assert [h.hold_id for h in store.holds()] == [report.offers[0][1].offer_id]


def test_overdue_offers_expire_in_one_batch_and_go_to_someone_else() -> None:
    desk, view, store, clock = setup(4)
    ids = [submit(desk, f"k{n}").order_id for n in range(3)]
    first = {o.order_id: made.volunteer_id for o, made in run_round(desk, view).offers}
    clock.advance(601)
    store.batches.clear()
    report = run_round(desk, view)
    assert report.offers_expired == 3 and store.batches[0] == 3  # the sweep: one batch
    for order in store.get_many(ids):
        assert order is not None and order.state is OrderState.OFFERED
        assert order.open_offers[0].volunteer_id != first[order.order_id]
