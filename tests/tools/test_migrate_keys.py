"""``matcher store migrate-keys`` on a real Redis, over data written by hand in the format of
the releases before ``matcher.ids``: record keys of branches ``_`` and ``grid:3`` move, the
redemption id ``redeem:adv:x:k`` that volunteer ``adv:x`` posted with key ``k`` becomes
``redeem:adv%3Ax:k`` everywhere (posted set, ledger, both accounts' lists), after which
``adv:x``'s retry is still a retry and ``adv`` can post key ``x:k``. A second run changes
nothing."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator

import pytest
import redis

from matcher.cli import main
from matcher.orders.model import EntryKind, LedgerEntry
from matcher.orders.store import json as codec
from matcher.orders.store.redis import RedisOrderStore
from matcher.orders.timebank import TimeBank
from matcher.registry.model import Profile, VolunteerRecord
from matcher.registry.store import json as record_json
from matcher.registry.store.redis import RedisStore
from matcher.tools.migrate_keys import Migrated, migrate_keys
from tests.support.redis_db import RedisDb, private_prefix, redis_or_skip, redis_url
from tests.support.times import HOUR, T0

pytestmark = pytest.mark.redis

URL = redis_url(RedisDb.SERVERS)
REASON = "a ride to the clinic"

#: (volunteer, branch, the key releases before matcher.ids gave its record)
RECORDS = [
    ("v-under", "_", "vol:{_}:v-under"),
    ("v-colon", "grid:3", "vol:{grid:3}:v-colon"),
    ("v-plain", "grid-1", "vol:{grid-1}:v-plain"),
    ("v-none", "", "vol:{_}:v-none"),
]


@pytest.fixture
def space() -> Iterator[tuple[redis.Redis, str]]:
    client = redis_or_skip(URL)
    with contextlib.closing(client), private_prefix(client) as prefix:
        yield client, prefix


def record(volunteer_id: str, branch_id: str) -> VolunteerRecord:
    profile = Profile(
        skills=(("elderly_care", 3),), lat=36.27, lon=100.62, windows=((T0, T0 + 2 * HOUR),)
    )
    return VolunteerRecord(volunteer_id, profile, branch_id, version=1, created_ms=1, updated_ms=1)


def post_by_hand(
    client: redis.Redis, p: str, txn_id: str, kind: EntryKind, legs: list[tuple[str, int]]
) -> None:
    """A transaction of branch grid-1 as the old scripts stored it (keys joined with ``:``)."""
    client.sadd(f"{p}:bank:posted", txn_id)
    moved = sum(m for _, m in legs if m > 0)
    for account, minutes in legs:
        entry = LedgerEntry(0, txn_id, kind, account, minutes, "grid-1", T0 * 1000, "", REASON)
        text = codec.encode_entry_fields(entry)
        seq = client.rpush(f"{p}:ledger", text)
        client.rpush(f"{p}:ledger:{account}", f"{seq} {text}")
        client.hincrby(f"{p}:bank:balance", account, minutes)
    name = "earned" if kind is EntryKind.EARNED else "redeemed"
    client.hincrby(f"{p}:bank:branches", f"grid-1\t{name}", moved)


def old_data_set(client: redis.Redis, p: str) -> None:
    for vid, branch, key in RECORDS:
        client.hset(f"{p}:vol-branch", vid, branch)
        client.set(f"{p}:{key}", record_json.encode(record(vid, branch)))
    for n, vid in enumerate(("adv:x", "adv")):
        legs = [(f"volunteer:{vid}", 120), ("branch:grid-1", -120)]
        post_by_hand(client, p, f"earn:ord-{n}", EntryKind.EARNED, legs)
    legs = [("volunteer:adv:x", -30), ("branch:grid-1", 30)]
    post_by_hand(client, p, "redeem:adv:x:k", EntryKind.REDEEMED, legs)


def dump(client: redis.Redis, p: str) -> dict[bytes, bytes]:
    return {k: client.dump(k) for k in sorted(client.scan_iter(match=f"{p}:*"))}


def test_the_migration_moves_what_changed_and_a_second_run_changes_nothing(
    space: tuple[redis.Redis, str],
) -> None:
    client, p = space
    old_data_set(client, p)
    registry = RedisStore(client, p)
    ids = [v for v, _, _ in RECORDS]
    assert [r is not None for r in registry.get_many(ids)] == [False, False, True, True]
    assert migrate_keys(client, p, dry_run=True) == Migrated(2, 1)
    assert migrate_keys(client, p) == Migrated(2, 1)
    assert client.smembers(f"{p}:bank:posted") == {
        b"earn:ord-0",
        b"earn:ord-1",
        b"redeem:adv%3Ax:k",
    }
    for key in (f"{p}:ledger", f"{p}:ledger:volunteer:adv:x", f"{p}:ledger:branch:grid-1"):
        items = b" ".join(client.lrange(key, 0, -1))
        assert b"redeem:adv:x:k" not in items and b"redeem:adv%3Ax:k" in items, key
    assert not client.exists(f"{p}:vol:{{_}}:v-under", f"{p}:vol:{{grid:3}}:v-colon")
    assert [r.id if r else None for r in registry.get_many(ids)] == ids
    before = dump(client, p)
    assert migrate_keys(client, p) == Migrated(0, 0)
    assert dump(client, p) == before


def test_after_the_migration_each_volunteer_keeps_its_own_key(
    space: tuple[redis.Redis, str],
) -> None:
    client, p = space
    old_data_set(client, p)
    migrate_keys(client, p)
    orders = RedisOrderStore(client, p)
    bank = TimeBank(orders, RedisStore(client, p), clock=lambda: float(T0))
    assert bank.redeem("adv:x", 30, "grid-1", REASON, "k") == (False, bank.balance("adv:x"))
    posted, after = bank.redeem("adv", 30, "grid-1", REASON, "x:k")
    assert (posted, after.minutes, bank.balance("adv:x").minutes) == (True, 90, 90)
    assert sum(e.minutes for e in orders.entries()) == 0


def test_the_command_names_what_it_did(space: tuple[redis.Redis, str]) -> None:
    client, p = space
    old_data_set(client, p)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["store", "migrate-keys", "--store", URL, "--prefix", p, "--dry-run"]) == 0
        assert main(["store", "migrate-keys", "--store", URL, "--prefix", p]) == 0
        assert main(["store", "migrate-keys", "--store", URL, "--prefix", p]) == 0
    lines = out.getvalue().splitlines()
    assert "would move 2 volunteer record(s), would rename 1 redemption id(s)" in lines[0]
    assert "moved 2 volunteer record(s), renamed 1 redemption id(s)" in lines[1]
    assert "moved 0 volunteer record(s), renamed 0 redemption id(s)" in lines[2]
    assert main(["store", "migrate-keys", "--store", "memory"]) == 2
