"""The ``VolunteerStore`` contract, run against ``MemoryStore`` and ``RedisStore`` alike.

The Redis runs use the shared Redis (``tests/support/redis_db.py``), in the contract's own
database, with a fresh key prefix per test (deleted afterwards). Without Redis they are
skipped, except under CI=true, where that is a failure. The Redis-only tests at the end cover
the key layout, sharing one Redis between stores, and Redis going away and coming back.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matcher.errors import ConflictError, StoreUnavailableError
from matcher.registry.model import Changes, Profile, VolunteerRecord
from matcher.registry.store.base import VolunteerStore, open_store
from matcher.registry.store.memory import MemoryStore
from matcher.registry.store.redis import RedisStore
from tests.support.redis_db import (
    RedisDb,
    private_prefix,
    redis_address,
    redis_or_skip,
    redis_url,
)
from tests.support.tcp_proxy import TcpProxy
from tests.support.times import HOUR, T0

REDIS_URL = redis_url(RedisDb.STORE_CONTRACT)
StoreFactory = Callable[..., VolunteerStore]


def rec(volunteer_id: str, branch: str = "", hours: float = 0.0, **kw: Any) -> VolunteerRecord:
    """A small valid record; ``hours`` (recent_hours) is the field tests change."""
    profile = Profile(
        skills=(("elderly_care", 3),),
        lat=36.27,
        lon=100.62,
        windows=((T0, T0 + 2 * HOUR),),
        recent_hours=hours,
    )
    return VolunteerRecord(volunteer_id, profile, branch, **kw)


@pytest.fixture
def redis_prefix() -> Iterator[tuple[redis.Redis, str]]:
    """A client of the contract's database and a key prefix of this test's own, cleaned up
    afterwards."""
    client = redis_or_skip(REDIS_URL)
    try:
        with private_prefix(client) as prefix:
            yield client, prefix
    finally:
        client.close()


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def make_store(request: pytest.FixtureRequest) -> StoreFactory:
    """Makes stores of one kind; Redis stores made in one test share the same keys."""
    if request.param == "memory":
        return MemoryStore
    client, prefix = request.getfixturevalue("redis_prefix")
    return lambda **kw: RedisStore(client, prefix, **kw)


@pytest.fixture
def store(make_store: StoreFactory) -> VolunteerStore:
    return make_store()


def test_create_get_update_sets_versions_and_times(store: VolunteerStore) -> None:
    assert store.version() == 0
    assert store.get("v1") is None
    (created,) = store.upsert([rec("v1", version=7, created_ms=1, updated_ms=1)])
    assert (created.version, created.id) == (1, "v1")
    assert created.created_ms == created.updated_ms > 1_600_000_000_000
    assert store.get("v1") == created
    (updated,) = store.upsert([rec("v1", hours=2.5)])
    assert updated.version == 2
    assert updated.created_ms == created.created_ms
    assert updated.updated_ms >= created.updated_ms
    assert updated.profile.recent_hours == 2.5
    assert store.get_many(["v1", "nobody", "v1"]) == [updated, None, updated]
    assert store.version() == 2


def test_identical_upsert_is_a_no_op(store: VolunteerStore) -> None:
    first = store.upsert([rec("a", "b1"), rec("b", "b1")])
    assert store.upsert([rec("a", "b1"), rec("b", "b1")]) == first
    assert store.version() == 1
    again = store.upsert([rec("a", "b1"), rec("b", "b1", hours=1.0)])
    assert again[0] == first[0]
    assert again[1].version == 2
    assert store.version() == 2
    changes = store.changes_since(1)
    assert [r.id for r in changes.upserted] == ["b"]


def test_batch_with_a_conflict_writes_nothing(store: VolunteerStore) -> None:
    store.upsert([rec("a"), rec("b")])
    with pytest.raises(ConflictError, match="volunteer b: expected version 7, stored version 1"):
        store.upsert([rec("a", hours=1.0), rec("b", hours=1.0), rec("c")], {"a": 1, "b": 7})
    with pytest.raises(ConflictError, match="volunteer a: expected version 0, stored version 1"):
        store.upsert([rec("a", hours=1.0)], {"a": 0})
    assert store.version() == 1
    assert [r.profile.recent_hours if r else None for r in store.get_many("abc")] == [0, 0, None]
    written = store.upsert([rec("a", hours=1.0), rec("c")], {"a": 1, "c": 0})
    assert [r.version for r in written] == [2, 1]


@pytest.mark.parametrize(
    ("batch", "message"),
    [
        ([rec("a"), rec("a", hours=1.0)], "appears more than once"),
        ([rec("")], "must not be empty"),
        ([rec("a", "x{y")], "must not contain"),
        ([rec("a", hours=float("nan"))], "must be finite"),
    ],
)
def test_invalid_batches_raise_value_error(
    store: VolunteerStore, batch: list[VolunteerRecord], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        store.upsert(batch)
    with pytest.raises(ValueError, match="not in the batch"):
        store.upsert([rec("a")], {"b": 0})
    assert store.version() == 0


def test_delete(store: VolunteerStore) -> None:
    (a,) = store.upsert([rec("a", "b1")])
    with pytest.raises(ConflictError, match="volunteer a: expected version 3, stored version 1"):
        store.delete("a", expected_version=3)
    assert store.delete("a", expected_version=1) == a
    assert store.get("a") is None
    assert store.version() == 2
    assert store.delete("a") is None
    assert store.delete("a", expected_version=0) is None
    assert store.version() == 2
    with pytest.raises(ConflictError, match="expected version 1, stored version 0"):
        store.delete("a", expected_version=1)
    assert store.upsert([rec("a")])[0].version == 1


def test_branch_move(store: VolunteerStore) -> None:
    store.upsert([rec("a", "north"), rec("b", "north")])
    (moved,) = store.upsert([rec("a", "south")])
    assert (moved.branch_id, moved.version) == ("south", 2)
    assert store.get("a") == moved
    assert [r.branch_id for r in store.snapshot().records] == ["south", "north"]
    (back,) = store.upsert([rec("a", "")])
    assert store.get("a") == back
    assert store.delete("a") == back
    assert [r.id for r in store.snapshot().records] == ["b"]


def test_changes_since_reports_latest_state(store: VolunteerStore) -> None:
    store.upsert([rec("a"), rec("b")])
    start = store.version()
    store.upsert([rec("a", hours=1.0)])
    store.delete("b")
    store.upsert([rec("c"), rec("a", hours=2.0)])
    store.upsert([rec("c")])  # no-op
    changes = store.changes_since(start)
    assert changes.complete
    assert changes.version == store.version() == start + 3
    assert {r.id: (r.version, r.profile.recent_hours) for r in changes.upserted} == {
        "a": (3, 2.0),
        "c": (1, 0.0),
    }
    assert changes.deleted == ("b",)
    assert store.changes_since(changes.version) == Changes(changes.version)
    everything = store.changes_since(0)
    assert (everything.complete, {r.id for r in everything.upserted}) == (True, {"a", "c"})
    with pytest.raises(ValueError, match=">= 0"):
        store.changes_since(-1)


def test_changes_since_incomplete_when_log_is_short(make_store: StoreFactory) -> None:
    store = make_store(change_log_length=10)
    for i in range(250):
        store.upsert([rec(f"v{i % 7}", hours=float(i))])
    assert store.version() == 250
    assert store.changes_since(0) == Changes(250, complete=False)
    assert not store.changes_since(235).complete
    recent = store.changes_since(245)
    assert recent.complete
    assert sorted(r.id for r in recent.upserted) == ["v0", "v1", "v2", "v3", "v4"]
    assert not store.changes_since(251).complete  # a reader ahead of the store reloads


def test_snapshot_is_consistent_while_writing(store: VolunteerStore) -> None:
    store.upsert([rec(f"static-{i:04d}", f"br{i % 5}") for i in range(2_000)])
    base = store.version()
    enough = threading.Event()
    writes = 0

    def write() -> None:  # a and b always change together, and switch branch each time
        nonlocal writes
        while not enough.is_set() and writes < 5_000:
            n = writes + 1
            store.upsert([rec("a", f"x{n % 2}", float(n)), rec("b", f"y{n % 3}", float(n))])
            writes = n

    writer = threading.Thread(target=write)
    writer.start()
    try:
        for _ in range(5):
            snap = store.snapshot()
            by_id = {r.id: r for r in snap.records}
            assert len(snap.records) == 2_000 + (2 if snap.version > base else 0)
            if snap.version > base:
                assert by_id["a"].profile.recent_hours == snap.version - base
                assert by_id["b"].profile.recent_hours == snap.version - base
                assert by_id["a"].branch_id == f"x{(snap.version - base) % 2}"
    finally:
        enough.set()
        writer.join()
    final = store.snapshot()
    assert final.version == store.version() == base + writes
    assert [r.id for r in final.records] == sorted(r.id for r in final.records)


def test_concurrent_writers_lose_no_version(store: VolunteerStore) -> None:
    store.upsert([rec("same")])

    def write(thread: int) -> None:
        for i in range(50):
            store.upsert([rec("same", hours=thread * 100 + i + 1)])

    threads = [threading.Thread(target=write, args=(t,)) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    final = store.get("same")
    assert final is not None
    assert final.version == 201
    assert store.version() == 201


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    volunteer_id=st.text(min_size=1, max_size=12),
    branch=st.text(max_size=8).filter(lambda b: "{" not in b and "}" not in b),
    teams=st.lists(st.text(max_size=6), max_size=3).map(tuple),
    lat=st.floats(-90, 90),
    hours=st.floats(0, 1e6),
    active=st.booleans(),
)
def test_any_record_reads_back_equal(
    store: VolunteerStore,
    volunteer_id: str,
    branch: str,
    teams: tuple[str, ...],
    lat: float,
    hours: float,
    active: bool,
) -> None:
    record = rec(volunteer_id, branch, hours, team_ids=teams, active=active)
    record = dataclasses.replace(record, profile=dataclasses.replace(record.profile, lat=lat))
    (stored,) = store.upsert([record])
    assert stored.profile == record.profile
    assert store.get(volunteer_id) == stored
    assert store.upsert([record]) == [stored]
    assert stored in store.changes_since(store.version() - 1).upserted


def test_twenty_thousand_records(store: VolunteerStore) -> None:
    records = [rec(f"vol-{i:05d}", f"branch-{i % 40}", float(i % 9)) for i in range(20_000)]
    stored = store.upsert(records)
    assert {r.version for r in stored} == {1}
    snap = store.snapshot()
    assert snap.version == 1
    assert snap.records == tuple(stored)


def test_open_store() -> None:
    assert open_store("memory").description == "memory"
    redis_store = open_store("redis://:s3cret@127.0.0.1:6379/15", prefix="p")
    assert redis_store.description == "redis://127.0.0.1:6379/15 prefix=p"
    redis_store.close()
    with pytest.raises(ValueError, match="unsupported store scheme 'postgres'") as info:
        open_store("postgres://user:s3cret@db/x")
    assert "s3cret" not in str(info.value)


# Redis only ---------------------------------------------------------------------------------


@pytest.mark.redis
def test_redis_key_layout(redis_prefix: tuple[redis.Redis, str]) -> None:
    client, p = redis_prefix
    store = RedisStore(client, p, change_log_length=10)
    store.upsert([rec("a", "north"), rec("b")])
    store.upsert([rec("a", "south")])
    assert sorted({k.decode() for k in client.scan_iter(match=f"{p}:*")}) == [  # SCAN may repeat
        f"{p}:registry:changes",
        f"{p}:registry:version",
        f"{p}:vol-branch",
        f"{p}:vol:{{_}}:b",
        f"{p}:vol:{{south}}:a",
    ]
    assert client.hgetall(f"{p}:vol-branch") == {b"a": b"south", b"b": b""}
    entries = client.xrange(f"{p}:registry:changes")
    assert entries[-1] == (b"2-0", {b"op": b"upsert", b"ids": b'["a"]'})
    for i in range(300):
        store.upsert([rec("a", hours=float(i))])
    assert client.xlen(f"{p}:registry:changes") < 200  # trimmed (approximately)


@pytest.mark.redis
def test_two_redis_stores_see_each_others_writes(redis_prefix: tuple[redis.Redis, str]) -> None:
    _, prefix = redis_prefix
    one, two = RedisStore(REDIS_URL, prefix), RedisStore(REDIS_URL, prefix)
    try:
        (a,) = one.upsert([rec("a")])
        assert two.version() == 1
        assert two.get("a") == a
        (a2,) = two.upsert([rec("a", hours=3.0)], {"a": 1})
        changes = one.changes_since(1)
        assert (changes.version, changes.upserted) == (2, (a2,))
        with pytest.raises(ConflictError):
            one.upsert([rec("a", hours=4.0)], {"a": 1})
        two.delete("a")
        assert one.changes_since(2).deleted == ("a",)
        assert one.snapshot() == two.snapshot()
    finally:
        one.close()
        two.close()


def test_redis_unreachable_raises_store_unavailable() -> None:
    store = RedisStore("redis://127.0.0.1:1/0", socket_timeout=0.5)
    message = r"Redis at 127.0.0.1:1 is unreachable: .+"
    for call in (store.ping, store.version, lambda: store.upsert([rec("a")])):
        with pytest.raises(StoreUnavailableError, match=message):
            call()
    store.close()


@pytest.mark.redis
def test_redis_store_recovers_when_redis_returns(redis_prefix: tuple[redis.Redis, str]) -> None:
    _, prefix = redis_prefix
    proxy = TcpProxy(redis_address())
    proxy.start()
    proxied = f"redis://127.0.0.1:{proxy.port}/{int(RedisDb.STORE_CONTRACT)}"
    store = RedisStore(proxied, prefix, socket_timeout=0.5)
    try:
        (a,) = store.upsert([rec("a")])
        proxy.stop()
        with pytest.raises(StoreUnavailableError, match=f"127.0.0.1:{proxy.port} is unreachable"):
            store.upsert([rec("a", hours=1.0)])
        with pytest.raises(StoreUnavailableError):
            store.snapshot()
        proxy.start()
        assert store.get("a") == a
        assert store.upsert([rec("a", hours=1.0)])[0].version == 2
    finally:
        store.close()
        proxy.stop()
