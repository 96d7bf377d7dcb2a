"""Redis stopped (SIGTERM) or killed (SIGKILL) for a couple of seconds while clients keep
submitting orders, registering volunteers, running rounds, accepting and completing offers,
then started again on the same port and append-only file (fsync always).

While it is down every store-backed call fails with UNAVAILABLE (never INTERNAL or UNKNOWN,
never a hang) and health turns NOT_SERVING for the services that need the store; once it is
back the same server answers again by itself, and every write it acknowledged is still there
in the state it acknowledged, with nobody double-booked and the time-bank ledger balanced.
"""

from __future__ import annotations

import signal
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import grpc
import pytest

from matcher.orders.model import OfferState, OrderState
from matcher.orders.store.redis import RedisOrderStore
from matcher.registry.store.redis import RedisStore
from matcher.v1 import orders_pb2, volunteers_pb2
from tests.faults.harness import (
    EXPECTED_CODES,
    STORE_SERVICES,
    ledger_problems,
    listed_orders,
    stray_holds,
)
from tests.support.net import wait_until
from tests.support.orders import (
    ORDER_SETTINGS,
    OrderSystem,
    check_no_double_booking,
    running_system,
    submit_request,
)
from tests.support.private_redis import PrivateRedis
from tests.support.registry import north_km, upsert
from tests.support.server_process import NOT_SERVING, SERVING, health_of

pytestmark = [pytest.mark.redis, pytest.mark.slow]

OR = orders_pb2
LOAD_SECONDS = 1.5  # before the fault, and again after recovery
DOWN_SECONDS = 2.0
RECOVERY_BOUND_SECONDS = 10.0
KINDS = ("submit", "upsert", "round", "accept", "complete")


@dataclass(frozen=True)
class Call:
    kind: str
    began: float
    ended: float
    code: grpc.StatusCode


@dataclass
class Load:
    """Client threads calling the server until ``stop``; what was acknowledged, and every
    call's kind, time and status."""

    system: OrderSystem
    calls: list[Call] = field(default_factory=list)
    orders: set[str] = field(default_factory=set)  # submitted
    volunteers: dict[str, int] = field(default_factory=dict)  # id -> version written
    accepted: dict[str, str] = field(default_factory=dict)  # offer id -> order id
    completed: set[str] = field(default_factory=set)  # order ids
    stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def call(self, kind: str, rpc: Callable[[], object]) -> object | None:
        """Run one call; record it; its reply, or None if it failed."""
        began = time.monotonic()
        try:
            reply = rpc()
            code = grpc.StatusCode.OK
        except grpc.RpcError as error:
            reply, code = None, error.code()
        with self._lock:
            self.calls.append(Call(kind, began, time.monotonic(), code))
        if reply is None:
            time.sleep(0.02)  # a client backing off
        return reply

    def run(self) -> list[threading.Thread]:
        threads = [
            threading.Thread(target=loop, daemon=True)
            for loop in (self._submit, self._upsert, self._round, self._accept)
        ]
        for thread in threads:
            thread.start()
        return threads

    def _submit(self) -> None:
        n = 0
        while not self.stop.is_set():
            h = 1 + n % 7
            request = submit_request(f"key-{n}", start_h=h, end_h=h + 1)
            reply = self.call(
                "submit", lambda r=request: self.system.orders.SubmitOrder(r, timeout=5)
            )
            if isinstance(reply, OR.SubmitOrderResponse):
                self.orders.add(reply.order.order_id)
                n += 1
            time.sleep(0.02)

    def _upsert(self) -> None:
        n = 0
        while not self.stop.is_set():
            entry = upsert(f"vol-{n:04d}", at=north_km(n % 5), hours=(0, 9))
            request = volunteers_pb2.UpsertVolunteersRequest(volunteers=[entry])
            reply = self.call(
                "upsert", lambda r=request: self.system.volunteers.UpsertVolunteers(r, timeout=5)
            )
            if isinstance(reply, volunteers_pb2.UpsertVolunteersResponse):
                [written] = reply.volunteers
                self.volunteers[written.volunteer.id] = written.version
                n += 1
            time.sleep(0.05)

    def _round(self) -> None:
        request = OR.RunDispatchRoundRequest()
        while not self.stop.is_set():
            self.call("round", lambda: self.system.dispatch.RunDispatchRound(request, timeout=5))
            time.sleep(0.1)

    def _accept(self) -> None:
        offered = OR.ListOrdersRequest(states=[OR.ORDER_STATE_OFFERED], page_size=5)
        while not self.stop.is_set():
            page = self.call("list", lambda: self.system.orders.ListOrders(offered, timeout=5))
            if not isinstance(page, OR.ListOrdersResponse) or not page.orders:
                time.sleep(0.05)
                continue
            for order in page.orders:
                for offer in order.offers:
                    if offer.state == OR.OFFER_STATE_OPEN:
                        self._accept_and_complete(offer.offer_id, order.order_id)

    def _accept_and_complete(self, offer_id: str, order_id: str) -> None:
        request = OR.AcceptOfferRequest(offer_id=offer_id)
        if self.call("accept", lambda: self.system.offers.AcceptOffer(request, timeout=5)):
            self.accepted[offer_id] = order_id
            if len(self.accepted) % 2:  # every other one is completed, crediting the bank
                done = OR.CompleteOrderRequest(
                    order_id=order_id, hours_served=1.5, actor=OR.ACTOR_CENTRE
                )
                if self.call("complete", lambda: self.system.orders.CompleteOrder(done, timeout=5)):
                    self.completed.add(order_id)

    def codes(self, kinds: tuple[str, ...] = ()) -> Counter[grpc.StatusCode]:
        return Counter(c.code for c in self.calls if not kinds or c.kind in kinds)


@pytest.fixture
def system(private_redis: PrivateRedis) -> Iterator[OrderSystem]:
    settings = ORDER_SETTINGS.with_overrides(store=private_redis.url, redis_prefix="matcher")
    with running_system(settings) as running:
        running.register(*(upsert(f"vol-seed-{k}", at=north_km(k), hours=(0, 9)) for k in range(5)))
        yield running


def first_ok_after(load: Load, kind: str, up: float) -> float:
    """Seconds from ``up`` to the end of the first OK call of ``kind`` begun after it."""
    return (
        min(c.ended for c in load.calls if c.kind == kind and c.began >= up and c.code.name == "OK")
        - up
    )


def all_health(system: OrderSystem, status: int) -> bool:
    return all(health_of(system.channel, s) == status for s in STORE_SERVICES)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"])
def test_redis_restarted_under_load_loses_nothing_acknowledged(
    private_redis: PrivateRedis, system: OrderSystem, sig: int
) -> None:
    load = Load(system)
    threads = load.run()
    try:
        time.sleep(LOAD_SECONDS)
        fault = time.monotonic()
        private_redis.stop(sig)
        down = time.monotonic()
        wait_until(lambda: all_health(system, NOT_SERVING), 5, "NOT_SERVING while Redis is down")
        time.sleep(max(0.0, DOWN_SECONDS - (time.monotonic() - down)))
        restart = time.monotonic()
        private_redis.start()
        up = time.monotonic()
        wait_until(lambda: all_health(system, SERVING), RECOVERY_BOUND_SECONDS, "SERVING again")
        serving = time.monotonic() - up

        def recovered(kind: str) -> bool:
            return any(c.kind == kind and c.began >= up and c.code.name == "OK" for c in load.calls)

        for kind in ("submit", "upsert", "round"):
            wait_until(lambda k=kind: recovered(k), RECOVERY_BOUND_SECONDS, f"{kind} to work")
        time.sleep(LOAD_SECONDS)
    finally:
        load.stop.set()
        for thread in threads:
            thread.join(timeout=10)

    # No call answered anything but OK, UNAVAILABLE or an ordinary refusal, ever.
    assert set(load.codes()) <= EXPECTED_CODES, load.codes()
    # While Redis was certainly down, every store-backed call failed with UNAVAILABLE.
    while_down = [c for c in load.calls if c.began > down and c.ended < restart]
    assert len(while_down) >= 10
    assert {c.code for c in while_down} == {grpc.StatusCode.UNAVAILABLE}
    unavailable = [c for c in load.calls if c.code == grpc.StatusCode.UNAVAILABLE]
    assert min(c.ended for c in unavailable) >= fault  # none before the fault
    last_unavailable = max(c.ended for c in unavailable) - up  # after Redis answered again
    assert last_unavailable < RECOVERY_BOUND_SECONDS
    first_ok = max(first_ok_after(load, kind, up) for kind in ("submit", "upsert", "round"))

    # Everything acknowledged is there, as acknowledged.
    client = private_redis.client()
    try:
        store = RedisOrderStore(client, "matcher")
        orders = {o.order_id: o for o in store.get_many(sorted(load.orders)) if o is not None}
        assert set(orders) == load.orders, "an acknowledged order was lost"
        for offer_id, order_id in load.accepted.items():
            made = orders[order_id].offer(offer_id)
            assert made is not None and made.state is OfferState.ACCEPTED, offer_id
        for order_id in load.completed:
            assert orders[order_id].state is OrderState.COMPLETED, order_id
        credited = {e.order_id for e in store.entries() if e.txn_id.startswith("earn:")}
        assert load.completed <= credited
        registry = RedisStore(client, "matcher")
        stored = {r.id: r.version for r in registry.get_many(sorted(load.volunteers)) if r}
        assert all(stored.get(v, 0) >= version for v, version in load.volunteers.items())
        # And it is consistent.
        assert ledger_problems(store) == []
        assert stray_holds(store) == []
        check_no_double_booking(listed_orders(system.orders))
    finally:
        client.close()
    ok = load.codes()[grpc.StatusCode.OK]
    print(
        f"Redis {signal.Signals(sig).name}: {len(load.calls)} calls, {ok} OK, "
        f"{len(unavailable)} UNAVAILABLE; down {restart - down:.1f} s; after Redis answered: "
        f"health SERVING in {serving:.2f} s, every kind of call OK in {first_ok:.2f} s, last "
        f"UNAVAILABLE at {last_unavailable:+.2f} s; checked {len(load.orders)} orders, "
        f"{len(load.volunteers)} volunteers, {len(load.accepted)} acceptances, "
        f"{len(load.completed)} completions: none lost"
    )
