"""Registry side effects are applied exactly once when the server is killed between the
order's write and the registry's: a real ``matcher serve`` on a private Redis prefix, with
the test-only crash point ``MATCHER_TEST_CRASH_AT``, dies (SIGKILL, by its own hand) right
after committing an acceptance, a completion and a rating, or right after the registry
write that follows, before the outbox entry is settled. Each time it is started again; its
recovery replays the outbox. Afterwards the volunteer's availability is cut once, its
recent hours hold the hours once and its rating counts one rating."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable, Iterator

import grpc
import pytest

from matcher.orders.model import OrderState
from matcher.orders.store.redis import RedisOrderStore
from matcher.registry.model import Profile
from matcher.registry.store.redis import RedisStore
from matcher.v1 import orders_pb2
from tests.support.net import wait_until
from tests.support.orders import ManualClock, OrderSystem, system_over
from tests.support.redis_db import prefix_env, private_prefix, shared_redis_or_skip
from tests.support.registry import north_km, upsert
from tests.support.server_process import ServerProcess
from tests.support.times import HOUR

pytestmark = [pytest.mark.redis, pytest.mark.slow]

LEASE_SECONDS = 0.5


@pytest.fixture
def world() -> Iterator[tuple[str, RedisOrderStore, RedisStore]]:
    client = shared_redis_or_skip()
    try:
        with private_prefix(client) as prefix:
            yield prefix, RedisOrderStore(client, prefix), RedisStore(client, prefix)
    finally:
        client.close()


def server(prefix: str, crash_at: str) -> ServerProcess:
    return ServerProcess(
        {
            **prefix_env(prefix),
            "MATCHER_DISPATCH_WINDOW_SECONDS": "0",
            "MATCHER_OFFER_TTL_SECONDS": "600",
            "MATCHER_METRICS_PORT": "-1",
            "MATCHER_WORKERS": "4",
            "MATCHER_REGISTRY_OUTBOX_LEASE_SECONDS": f"{LEASE_SECONDS:g}",
            "MATCHER_TEST_CRASH_AT": crash_at,
        }
    )


def killed_by(process: ServerProcess, call: Callable[[OrderSystem], object]) -> str:
    """Make ``call`` over a fresh channel; the server dies of SIGKILL meanwhile. Returns
    its log."""
    with grpc.insecure_channel(process.target) as channel, pytest.raises(grpc.RpcError):
        call(system_over(None, ManualClock(), channel))  # type: ignore[arg-type]
    assert process.proc is not None
    assert process.proc.wait(timeout=10) == -signal.SIGKILL
    return process.kill()


def profile(registry: RedisStore) -> Profile:
    record = registry.get("vol-a")
    assert record is not None
    return record.profile


@pytest.mark.parametrize("crash_at", ["after-order-commit", "after-registry-write"])
def test_a_server_killed_between_the_two_writes_applies_each_effect_once(
    world: tuple[str, RedisOrderStore, RedisStore], crash_at: str
) -> None:
    prefix, orders, registry = world
    now = int(time.time())
    process = server(prefix, crash_at)
    process.start()
    with grpc.insecure_channel(process.target) as channel:
        calls = system_over(None, ManualClock(), channel)  # type: ignore[arg-type]
        entry = upsert("vol-a", at=north_km(1))
        entry.volunteer.availability[0].start.seconds = now
        entry.volunteer.availability[0].end.seconds = now + 8 * HOUR
        calls.register(entry)
        order_id = calls.submit("key-1", base=now, start_h=2, end_h=3).order_id
        [offer] = calls.round().offers
    steps: list[Callable[[OrderSystem], object]] = [
        lambda s: s.accept(offer.offer_id),
        lambda s: s.complete(order_id, 1.5),
        lambda s: s.rate(order_id, 4),
    ]
    for state, step in zip(
        (OrderState.ACCEPTED, OrderState.COMPLETED, OrderState.RATED), steps, strict=True
    ):
        log = killed_by(process, step)
        assert f"MATCHER_TEST_CRASH_AT={crash_at}" in log
        assert orders.get(order_id).state is state  # type: ignore[union-attr]
        assert len(orders.pending_effects()) == 1  # left in the outbox by the dead process
        time.sleep(LEASE_SECONDS + 0.1)  # its lease runs out
        process.start()  # recovery replays the outbox
        wait_until(lambda: not orders.pending_effects(), 10, "the outbox to be replayed")
    try:
        cut = ((now, now + 2 * HOUR), (now + 3 * HOUR, now + 8 * HOUR))
        assert profile(registry).windows == cut
        assert profile(registry).recent_hours == 1.5
        assert (profile(registry).rating, profile(registry).rating_count) == (4.0, 1)
        with grpc.insecure_channel(process.target) as channel:
            calls = system_over(None, ManualClock(), channel)  # type: ignore[arg-type]
            calls.round()  # a later replay changes nothing
            shown = calls.volunteer("vol-a").volunteer
            assert (shown.recent_hours, shown.rating_count) == (1.5, 1)
            assert calls.get(order_id).state == orders_pb2.ORDER_STATE_RATED
    finally:
        assert "Traceback" not in process.stop()
