"""``matcher store migrate-keys [--store URL] [--prefix P] [--dry-run]``: rewrite the Redis keys
and ids that ``matcher.ids`` composes differently from the releases before it.

Before ``matcher.ids``, composites were joined with a bare ``:``; now every part but the last
is escaped. Most keys keep their bytes; these change:

* the record keys ``<p>:vol:{<branch>}:<id>`` of volunteers whose branch is ``_`` or holds
  ``%``, ``:``, ``{`` or ``}`` (renamed; a record already under its new key wins and the old
  one is dropped);
* the redemption transaction ids ``redeem:<volunteer>:<key>`` of volunteers whose id holds
  one of those characters: in the set of posted ids and in the entries (the ledger and both
  accounts' lists). The volunteer comes from the entry's account, so even an id two
  redemptions shared before (volunteer ``adv:x`` with key ``k`` looked like ``adv`` with
  key ``x:k``) goes to the one that posted it, and the other can now post.

How: the plan is read in pages (HSCAN, LRANGE), then applied by one Lua script that first
checks that every ledger item is still the text read (otherwise it writes nothing and the
plan is read again), so a crash leaves nothing or everything done. Running it again finds
nothing to do: an id already rewritten starts with the escaped volunteer id, an old one with
the raw id, and where the id holds a reserved character the two never agree. Run it once
after stopping the old servers and before starting the new ones (servers of this release
would not find a moved record until then); running it again later is harmless.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, TextIO

import redis

from matcher import ids
from matcher.config import Settings
from matcher.errors import StoreUnavailableError
from matcher.orders.model import EntryKind, LedgerEntry
from matcher.orders.store import json as codec
from matcher.orders.timebank import redemption_id
from matcher.tools.store_admin import on_store_redis

_PAGE = 1_000
_ATTEMPTS = 3

#: ARGV: the posted set; the count of list edits, then (key, index, old item, new item) per
#: edit; the count of key moves, then (old key, new key); the count of renamed transaction
#: ids, then (old id, new id). Returns {"ok", keys moved} or {"changed", key, index}.
_APPLY = r"""
local posted, a = ARGV[1], 2
local n = tonumber(ARGV[a])
for i = 1, n do
  local b = a + 1 + (i - 1) * 4
  if redis.call('LINDEX', ARGV[b], ARGV[b + 1]) ~= ARGV[b + 2] then
    return {'changed', ARGV[b], ARGV[b + 1]}
  end
end
for i = 1, n do
  local b = a + 1 + (i - 1) * 4
  redis.call('LSET', ARGV[b], ARGV[b + 1], ARGV[b + 3])
end
a = a + 1 + n * 4
local m, moved = tonumber(ARGV[a]), 0
for i = 1, m do
  local old, new = ARGV[a + 2 * i - 1], ARGV[a + 2 * i]
  if redis.call('EXISTS', old) == 1 then
    if redis.call('EXISTS', new) == 1 then redis.call('DEL', old)
    else redis.call('RENAME', old, new) end
    moved = moved + 1
  end
end
a = a + 1 + m * 2
local t = tonumber(ARGV[a])
for i = 1, t do redis.call('SREM', posted, ARGV[a + 2 * i - 1]) end
for i = 1, t do redis.call('SADD', posted, ARGV[a + 2 * i]) end
return {'ok', moved}
"""


@dataclass
class Plan:
    """What a migration rewrites."""

    edits: list[tuple[str, int, str, str]] = field(default_factory=list)  # list item rewrites
    moves: list[tuple[str, str]] = field(default_factory=list)  # record key: old -> new
    renamed: dict[str, str] = field(default_factory=dict)  # transaction id: old -> new


@dataclass(frozen=True)
class Migrated:
    """What a migration did (or, dry, would do)."""

    records_moved: int
    transactions_renamed: int


def legacy_record_key(prefix: str, branch_id: str, volunteer_id: str) -> str:
    """A record's key as releases before ``matcher.ids`` wrote it."""
    return f"{prefix}:vol:{{{branch_id or '_'}}}:{volunteer_id}"


def migrate_keys(client: redis.Redis, prefix: str, *, dry_run: bool = False) -> Migrated:
    """Plan and apply the migration of the data set under ``prefix`` (see the module)."""
    for _ in range(_ATTEMPTS):
        plan = plan_migration(client, prefix)
        if dry_run:
            present = sum(int(client.exists(old)) for old, _ in plan.moves)
            return Migrated(present, len(plan.renamed))
        reply = client.register_script(_APPLY)(args=_apply_args(prefix, plan))
        if _text(reply[0]) == "ok":
            return Migrated(int(reply[1]), len(plan.renamed))
    raise StoreUnavailableError("the ledger kept changing during the migration; stop the servers")


def plan_migration(client: redis.Redis, prefix: str) -> Plan:
    """Read what the migration rewrites (reads only)."""
    plan = Plan()
    for volunteer_id, branch_id in _hash_items(client, f"{prefix}:vol-branch"):
        old = legacy_record_key(prefix, branch_id, volunteer_id)
        new = ids.record_key(prefix, branch_id, volunteer_id)
        if old != new:
            plan.moves.append((old, new))
    legs: dict[str, set[int]] = defaultdict(set)  # account -> sequences of its legs
    for account, _ in _hash_items(client, f"{prefix}:bank:balance"):
        kind, _, volunteer_id = account.partition(":")
        if kind == "volunteer" and ids.escape(volunteer_id) != volunteer_id:
            for entry in _plan_account(client, prefix, volunteer_id, plan):
                _plan_global(client, prefix, entry, plan, legs)
    for account, sequences in legs.items():
        _plan_legs(client, prefix, account, sequences, plan)
    return plan


def _plan_account(
    client: redis.Redis, prefix: str, volunteer_id: str, plan: Plan
) -> Iterator[LedgerEntry]:
    """Plan the volunteer's old redemption entries; yields each (with its old id)."""
    old_start = f"redeem:{volunteer_id}:"
    key = ids.redis_key(prefix, "ledger", ids.join("volunteer", volunteer_id))
    for index, item in _list_items(client, key):
        seq, text = item.split(" ", 1)
        entry = codec.decode_entry(int(seq), text)
        if entry.kind is EntryKind.REDEEMED and entry.txn_id.startswith(old_start):
            new_id = redemption_id(volunteer_id, entry.txn_id[len(old_start) :])
            plan.renamed[entry.txn_id] = new_id
            plan.edits.append((key, index, item, f"{seq} {_renamed(entry, new_id)}"))
            yield entry


def _plan_global(
    client: redis.Redis, prefix: str, leg: LedgerEntry, plan: Plan, legs: dict[str, set[int]]
) -> None:
    """Plan the ledger items of ``leg``'s transaction (its legs are posted together, so they
    sit next to it); the other accounts' legs go to ``legs``."""
    key = f"{prefix}:ledger"
    first = max(0, leg.sequence - 3)
    for offset, raw in enumerate(client.lrange(key, first, leg.sequence + 1)):
        text = _text(raw)
        entry = codec.decode_entry(first + offset + 1, text)
        if entry.txn_id == leg.txn_id:
            new_id = plan.renamed[leg.txn_id]
            plan.edits.append((key, first + offset, text, _renamed(entry, new_id)))
            if entry.account != leg.account:
                legs[entry.account].add(entry.sequence)


def _plan_legs(
    client: redis.Redis, prefix: str, account: str, sequences: set[int], plan: Plan
) -> None:
    """Plan the items of ``account``'s list that are legs of renamed transactions."""
    key = ids.redis_key(prefix, "ledger", account)
    for index, item in _list_items(client, key):
        seq, text = item.split(" ", 1)
        if int(seq) in sequences:
            entry = codec.decode_entry(int(seq), text)
            plan.edits.append(
                (key, index, item, f"{seq} {_renamed(entry, plan.renamed[entry.txn_id])}")
            )


def _renamed(entry: LedgerEntry, txn_id: str) -> str:
    return codec.encode_entry_fields(dataclasses.replace(entry, txn_id=txn_id))


def _apply_args(prefix: str, plan: Plan) -> list[str | int]:
    args: list[str | int] = [f"{prefix}:bank:posted", len(plan.edits)]
    for edit in plan.edits:
        args += edit
    args.append(len(plan.moves))
    for move in plan.moves:
        args += move
    args.append(len(plan.renamed))
    for pair in plan.renamed.items():
        args += pair
    return args


def _hash_items(client: redis.Redis, key: str) -> Iterator[tuple[str, str]]:
    for name, value in client.hscan_iter(key, count=_PAGE):
        yield _text(name), _text(value)


def _list_items(client: redis.Redis, key: str) -> Iterator[tuple[int, str]]:
    start = 0
    while page := client.lrange(key, start, start + _PAGE - 1):
        for offset, raw in enumerate(page):
            yield start + offset, _text(raw)
        start += len(page)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def run_migrate_keys(
    args: argparse.Namespace,
    settings: Settings,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Run ``matcher store migrate-keys``: 0 done, 1 Redis unreachable, 2 bad URL or prefix."""
    printed = out or sys.stdout

    def migrate(client: redis.Redis, prefix: str, where: str) -> int:
        done = migrate_keys(client, prefix, dry_run=args.dry_run)
        verb = "would move" if args.dry_run else "moved"
        renamed = "would rename" if args.dry_run else "renamed"
        print(
            f"migrate-keys {where}: {verb} {done.records_moved} volunteer record(s), "
            f"{renamed} {done.transactions_renamed} redemption id(s)",
            file=printed,
        )
        return 0

    return on_store_redis(args, settings, migrate, err or sys.stderr)
