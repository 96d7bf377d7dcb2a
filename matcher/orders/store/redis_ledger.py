"""``RedisLedger``: the time-bank half of ``RedisOrderStore`` (its keys ``<p>:ledger...`` and
``<p>:bank:...`` are in the table of ``matcher.orders.store.redis``, composed by
``matcher.ids``): posting a transaction on its own, and reading entries, balances and branch
figures (the fields of ``<p>:bank:branches`` are ``<branch>\t<kind>``, split at the last
tab). ``ledger_args`` and the ledger keys are also what an order commit hands its script
when the write posts a transaction.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from matcher import ids
from matcher.orders.model import BranchFigures, LedgerEntry, Transaction
from matcher.orders.store import json as codec
from matcher.orders.store import scripts as redis_scripts
from matcher.orders.store.base import moved_minutes
from matcher.orders.store.scripts import raise_refusal
from matcher.registry.store.redis_base import GuardedScript, RedisClientStore, reply_text
from matcher.registry.store.redis_errors import translate_redis_errors


class RedisLedger(RedisClientStore):
    """The ledger of ``RedisOrderStore``, on its client and key prefix."""

    @functools.cached_property
    def _post_script(self) -> GuardedScript:
        """The POST script, registered on first use."""
        return self._write_script(redis_scripts.POST)

    def _ledger_keys(self) -> list[str]:
        p = self._prefix
        return [f"{p}:bank:balance", f"{p}:bank:posted", f"{p}:ledger", f"{p}:bank:branches"]

    def _account_key(self, account: str) -> str:
        """The entry list of one account (``account`` empty: of every entry)."""
        if not account:
            return f"{self._prefix}:ledger"
        return ids.redis_key(self._prefix, "ledger", account)

    def _account_keys(self, txn: Transaction) -> list[str]:
        return [self._account_key(p.account) for p in txn.postings]

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
            texts = self._reads.lrange(self._account_key(""), start, stop)
            return [codec.decode_entry(start + i + 1, t) for i, t in enumerate(texts)]
        rows = self._reads.lrange(self._account_key(account), start, stop)
        pairs = (reply_text(r).split(" ", 1) for r in rows)
        return [codec.decode_entry(int(seq), text) for seq, text in pairs]

    @translate_redis_errors
    def entry_count(self, account: str = "") -> int:
        return int(self._reads.llen(self._account_key(account)))

    @translate_redis_errors
    def balances(self, accounts: Sequence[str]) -> list[int]:
        if not accounts:
            return []
        values = self._reads.hmget(f"{self._prefix}:bank:balance", list(accounts))
        return [int(v or 0) for v in values]

    @translate_redis_errors
    def branch_figures(self) -> list[BranchFigures]:
        raw: dict[Any, Any] = self._reads.hgetall(f"{self._prefix}:bank:branches")
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
