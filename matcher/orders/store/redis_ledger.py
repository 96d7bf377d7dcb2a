"""``RedisLedger``: the time-bank half of ``RedisOrderStore`` (its keys ``<p>:ledger...`` and
``<p>:bank:...`` are in the table of ``matcher.orders.store.redis``): posting a transaction on
its own, and reading entries, balances and branch figures. ``ledger_args`` and the ledger keys
are also what an order commit hands its script when the write posts a transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import redis

from matcher.orders.model import BranchFigures, LedgerEntry, Transaction
from matcher.orders.store import json as codec
from matcher.orders.store import scripts as redis_scripts
from matcher.orders.store.base import moved_minutes
from matcher.orders.store.scripts import raise_refusal
from matcher.registry.store.redis_base import RedisClientStore, reply_text
from matcher.registry.store.redis_errors import translate_redis_errors


class RedisLedger(RedisClientStore):
    """The ledger of ``RedisOrderStore``, on its client and key prefix."""

    def __init__(self, client_or_url: redis.Redis | str, prefix: str, *, timeout: float) -> None:
        super().__init__(client_or_url, prefix, timeout=timeout)
        self._post_script = self._redis.register_script(redis_scripts.POST)

    def _ledger_keys(self) -> list[str]:
        p = self._prefix
        return [f"{p}:bank:balance", f"{p}:bank:posted", f"{p}:ledger", f"{p}:bank:branches"]

    def _account_keys(self, txn: Transaction) -> list[str]:
        return [f"{self._prefix}:ledger:{p.account}" for p in txn.postings]

    @translate_redis_errors
    def post(self, txn: Transaction) -> bool:
        keys = self._ledger_keys() + self._account_keys(txn)
        reply = self._post_script(keys=keys, args=ledger_args(txn))
        raise_refusal(reply, None)
        return reply_text(reply[0]) == "ok"

    @translate_redis_errors
    def entries(self, account: str = "", start: int = 0, limit: int = 0) -> list[LedgerEntry]:
        stop = start + limit - 1 if limit else -1
        if not account:
            texts = self._redis.lrange(f"{self._prefix}:ledger", start, stop)
            return [codec.decode_entry(start + i + 1, t) for i, t in enumerate(texts)]
        rows = self._redis.lrange(f"{self._prefix}:ledger:{account}", start, stop)
        pairs = (reply_text(r).split(" ", 1) for r in rows)
        return [codec.decode_entry(int(seq), text) for seq, text in pairs]

    @translate_redis_errors
    def entry_count(self, account: str = "") -> int:
        key = f"{self._prefix}:ledger:{account}" if account else f"{self._prefix}:ledger"
        return int(self._redis.llen(key))

    @translate_redis_errors
    def balances(self, accounts: Sequence[str]) -> list[int]:
        if not accounts:
            return []
        values = self._redis.hmget(f"{self._prefix}:bank:balance", list(accounts))
        return [int(v or 0) for v in values]

    @translate_redis_errors
    def branch_figures(self) -> list[BranchFigures]:
        raw: dict[Any, Any] = self._redis.hgetall(f"{self._prefix}:bank:branches")
        totals: dict[str, dict[str, int]] = {}
        for key, value in raw.items():
            branch, _, name = reply_text(key).rpartition("\t")
            totals.setdefault(branch, {})[name] = int(value)
        return [
            BranchFigures(
                b,
                earned_minutes=t.get("earned", 0),
                redeemed_minutes=t.get("redeemed", 0),
                completed_orders=t.get("orders", 0),
            )
            for b, t in sorted(totals.items())
        ]


def ledger_args(txn: Transaction) -> list[str | int]:
    """The script arguments of a transaction posted by ``COMMIT`` or ``POST`` (see ``scripts``)."""
    args: list[str | int] = [
        txn.txn_id,
        int(txn.kind),
        txn.branch_id,
        txn.guard_account,
        txn.guard_minutes,
        moved_minutes(txn),
        len(txn.postings),
    ]
    for p in txn.postings:
        args += [p.account, p.minutes, codec.encode_entry_fields(txn.entry(p))]
    return args
