"""``RedisOrderStore``: the ``OrderStore`` several dispatcher processes share.

Data model (``<p>`` is the key prefix, shared with the volunteer registry):

================================ ======== ==================================================
key                              type     value
================================ ======== ==================================================
``<p>:order:<id>``               string   the order as JSON (``codec``), version first
``<p>:orders:<state>``           zset     ids of the orders in that state, scored by
                                          creation time (ms)
``<p>:hold:<volunteer>``         hash     hold (offer) id -> ``start end deadline_ms``
``<p>:held``                     set      volunteers with at least one hold
``<p>:offered:<volunteer>``      zset     ids of the orders ever offered to the volunteer,
                                          scored by the first offer's time
``<p>:ledger``                   list     every ledger entry (JSON); entry n is item n - 1
``<p>:ledger:<account>``         list     the account's entries, ``<sequence> <JSON>``
``<p>:bank:balance``             hash     account -> balance in minutes
``<p>:bank:posted``              set      transaction ids already posted
``<p>:bank:branches``            hash     ``<branch>\\t<earned|redeemed|orders>`` -> total
================================ ======== ==================================================

Every write is one Lua script (``redis_scripts``): an order write, its holds and its ledger
transaction happen together or not at all, on whichever process runs it. ``commit_many``
sends up to ``WRITES_PER_SCRIPT`` order writes per script, each checked and applied on its
own. A script finds the stored order's state in its text (``codec``), so a commit is one
round trip. Deadlines are
compared with the ``now_ms`` the caller passes (the dispatcher's clock), not Redis' clock,
so a simulated day and the tests control time. The scripts touch several volunteers' and
accounts' keys, so the store needs one Redis node (or a primary with replicas), not a
Redis Cluster. Connection failures become ``StoreUnavailableError`` in one place.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from typing import Any, ParamSpec, TypeVar

import redis

from matcher.errors import NotFoundError
from matcher.orders.model import (
    NO_HOLD_CHANGES,
    BranchFigures,
    Hold,
    HoldChanges,
    LedgerEntry,
    Order,
    OrderState,
    Transaction,
)
from matcher.orders.store import json as codec
from matcher.orders.store import scripts as redis_scripts
from matcher.orders.store.base import (
    HoldConflictError,
    InsufficientBalanceError,
    OrderWrite,
    StaleOrderError,
    StateCensus,
    WriteOutcome,
    moved_minutes,
)
from matcher.registry.store.redis_errors import translate_redis_errors

#: Order writes per ``COMMIT_MANY`` call (one round trip each): bounds how long one script
#: keeps Redis from serving others, and lets a round's first offers land (and be seen by the
#: volunteers' apps) before its last ones are encoded.
WRITES_PER_SCRIPT = 100

#: Orders ``get_many`` keeps decoded, with their text, to skip decoding them again (about
#: 4 KB each with a typical history: 80 MB at most).
DECODED_ORDERS_KEPT = 20_000

P = ParamSpec("P")
T = TypeVar("T")


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class RedisOrderStore:
    """Orders, holds and the ledger in Redis (see the module docstring for the keys)."""

    def __init__(
        self, client_or_url: redis.Redis | str, prefix: str = "matcher", *, timeout: float = 2.0
    ) -> None:
        self._owns_client = isinstance(client_or_url, str)
        if isinstance(client_or_url, str):
            client_or_url = redis.Redis.from_url(
                client_or_url,
                socket_timeout=timeout,
                socket_connect_timeout=timeout,
                health_check_interval=10,
            )
        self._redis = client_or_url
        self._p = prefix
        self._decoded: dict[str, tuple[bytes | str, Order]] = {}  # see ``_decode``
        # Indexed by state number (1..7), as the scripts expect.
        self._state_keys = [self._state_key(state) for state in sorted(OrderState)]
        self._create = client_or_url.register_script(redis_scripts.CREATE)
        self._commit = client_or_url.register_script(redis_scripts.COMMIT)
        self._commit_many = client_or_url.register_script(redis_scripts.COMMIT_MANY)
        self._post_script = client_or_url.register_script(redis_scripts.POST)
        kwargs = client_or_url.connection_pool.connection_kwargs
        where = kwargs.get("path") or f"{kwargs.get('host', 'localhost')}:{kwargs.get('port')}"
        self._description = f"redis {where}/{kwargs.get('db', 0)} prefix={prefix}"

    @property
    def description(self) -> str:
        return self._description

    def _order_key(self, order_id: str) -> str:
        return f"{self._p}:order:{order_id}"

    def _state_key(self, state: OrderState) -> str:
        return f"{self._p}:orders:{state.name.lower()}"

    def _ledger_keys(self) -> list[str]:
        p = self._p
        return [f"{p}:bank:balance", f"{p}:bank:posted", f"{p}:ledger", f"{p}:bank:branches"]

    @property
    def redis_where(self) -> str:
        """Which Redis (for error messages)."""
        return "Redis for orders"

    @translate_redis_errors
    def create(self, order: Order) -> tuple[Order, bool]:
        stored = _at_version(order, 1)
        keys = [self._order_key(order.order_id), self._state_key(order.state)]
        reply = self._create(
            keys=keys, args=[codec.encode_order(stored), order.created_ms, order.order_id]
        )
        if int(reply[0]) == 1:
            return stored, True
        return codec.decode_order(reply[1]), False

    @translate_redis_errors
    def get(self, order_id: str) -> Order | None:
        text = self._redis.get(self._order_key(order_id))
        return None if text is None else codec.decode_order(text)

    @translate_redis_errors
    def get_many(self, order_ids: Sequence[str]) -> list[Order | None]:
        if not order_ids:
            return []
        texts = self._redis.mget([self._order_key(i) for i in order_ids])
        return [
            None if t is None else self._decode(i, t) for i, t in zip(order_ids, texts, strict=True)
        ]

    def _decode(self, order_id: str, text: bytes | str) -> Order:
        """``codec.decode_order``, reusing the order decoded from the same text before: every
        round reads every pending order, and most have not changed since the last round.
        (Orders are immutable, and equal text is the same order at the same version.)"""
        seen = self._decoded.get(order_id)
        if seen is not None and seen[0] == text:
            return seen[1]
        order = codec.decode_order(text)
        if len(self._decoded) >= DECODED_ORDERS_KEPT:
            self._decoded.clear()  # rare: a round's worth of orders comes back at once
        self._decoded[order_id] = (text, order)
        return order

    @translate_redis_errors
    def ids_in_states(self, states: Iterable[OrderState]) -> list[str]:
        pipe = self._redis.pipeline(transaction=False)
        for state in states:
            pipe.zrange(self._state_key(state), 0, -1, withscores=True)
        scored = [(score, _text(i)) for rows in pipe.execute() for i, score in rows]
        return [i for _, i in sorted(scored)]

    @translate_redis_errors
    def census(self) -> dict[OrderState, StateCensus]:
        pipe = self._redis.pipeline(transaction=False)
        for state in OrderState:
            pipe.zcard(self._state_key(state))
            pipe.zrange(self._state_key(state), 0, 0, withscores=True)
        replies = pipe.execute()
        found = {}
        for k, state in enumerate(OrderState):
            first = replies[2 * k + 1]
            found[state] = StateCensus(int(replies[2 * k]), int(first[0][1]) if first else 0)
        return found

    @translate_redis_errors
    def commit(
        self,
        order: Order,
        holds: HoldChanges = NO_HOLD_CHANGES,
        txn: Transaction | None = None,
        *,
        now_ms: int,
    ) -> Order:
        written = _at_version(order, order.version + 1)
        keys = [*self._fixed_keys(), *self._ledger_keys()]
        args: list[str | int] = [now_ms, 0 if txn is None else 1]
        self._add_write(OrderWrite(order, holds), keys, args)
        if txn is not None:
            keys += self._account_keys(txn)
            args += _ledger_args(txn)
        reply = self._commit(keys=keys, args=args)
        _raise_refusal(reply, order)
        return written

    @translate_redis_errors
    def commit_many(self, writes: Sequence[OrderWrite], *, now_ms: int) -> list[WriteOutcome]:
        replies: list[Any] = []
        for start in range(0, len(writes), WRITES_PER_SCRIPT):
            chunk = writes[start : start + WRITES_PER_SCRIPT]
            keys = self._fixed_keys()
            args: list[str | int] = [now_ms, len(chunk)]
            for write in chunk:
                self._add_write(write, keys, args)
            replies += self._commit_many(keys=keys, args=args)
        out: list[WriteOutcome] = []
        for write, reply in zip(writes, replies, strict=True):
            try:
                _raise_refusal(reply, write.order)
            except (NotFoundError, StaleOrderError, HoldConflictError) as refusal:
                out.append(refusal)
            else:
                out.append(_at_version(write.order, write.order.version + 1))
        return out

    def _fixed_keys(self) -> list[str]:
        """The keys every order write names first: the state sets by number, the held set."""
        return [*self._state_keys, f"{self._p}:held"]

    def _add_write(self, write: OrderWrite, keys: list[str], args: list[str | int]) -> None:
        """Append one order write's keys and arguments (``redis_scripts._ORDER``)."""
        order, holds = write.order, write.holds
        keys.append(self._order_key(order.order_id))
        args += [
            order.order_id,
            order.version,
            codec.encode_order(_at_version(order, order.version + 1)),
            order.created_ms,
            int(order.state),
            len(holds.add),
            len(holds.release),
        ]
        for hold in holds.add:
            keys += [self._hold_key(hold.volunteer_id), f"{self._p}:offered:{hold.volunteer_id}"]
            args += [hold.volunteer_id, hold.hold_id, hold.start, hold.end, hold.deadline_ms]
        for volunteer_id, hold_id in holds.release:
            keys.append(self._hold_key(volunteer_id))
            args += [volunteer_id, hold_id]

    @translate_redis_errors
    def holds(self) -> list[Hold]:
        volunteers = sorted(_text(v) for v in self._redis.smembers(f"{self._p}:held"))
        pipe = self._redis.pipeline(transaction=False)
        for volunteer_id in volunteers:
            pipe.hgetall(self._hold_key(volunteer_id))
        found: list[Hold] = []
        for volunteer_id, rows in zip(volunteers, pipe.execute(), strict=True):
            found += [codec.decode_hold(volunteer_id, _text(k), _text(v)) for k, v in rows.items()]
        return found

    @translate_redis_errors
    def volunteer_order_ids(self, volunteer_id: str) -> list[str]:
        ids: list[Any] = self._redis.zrange(f"{self._p}:offered:{volunteer_id}", 0, -1)
        return [_text(i) for i in ids]

    @translate_redis_errors
    def post(self, txn: Transaction) -> bool:
        keys = self._ledger_keys() + self._account_keys(txn)
        reply = self._post_script(keys=keys, args=_ledger_args(txn))
        _raise_refusal(reply, None)
        return _text(reply[0]) == "ok"

    @translate_redis_errors
    def entries(self, account: str = "", start: int = 0, limit: int = 0) -> list[LedgerEntry]:
        stop = start + limit - 1 if limit else -1
        if not account:
            texts = self._redis.lrange(f"{self._p}:ledger", start, stop)
            return [codec.decode_entry(start + i + 1, t) for i, t in enumerate(texts)]
        rows = self._redis.lrange(f"{self._p}:ledger:{account}", start, stop)
        pairs = (_text(r).split(" ", 1) for r in rows)
        return [codec.decode_entry(int(seq), text) for seq, text in pairs]

    @translate_redis_errors
    def entry_count(self, account: str = "") -> int:
        key = f"{self._p}:ledger:{account}" if account else f"{self._p}:ledger"
        return int(self._redis.llen(key))

    @translate_redis_errors
    def balances(self, accounts: Sequence[str]) -> list[int]:
        if not accounts:
            return []
        values = self._redis.hmget(f"{self._p}:bank:balance", list(accounts))
        return [int(v or 0) for v in values]

    @translate_redis_errors
    def branch_figures(self) -> list[BranchFigures]:
        raw: dict[Any, Any] = self._redis.hgetall(f"{self._p}:bank:branches")
        totals: dict[str, dict[str, int]] = {}
        for key, value in raw.items():
            branch, _, name = _text(key).rpartition("\t")
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

    @translate_redis_errors
    def ping(self) -> None:
        self._redis.ping()

    def close(self) -> None:
        """Close the connections, if this store opened them."""
        if self._owns_client:
            self._redis.close()

    def _hold_key(self, volunteer_id: str) -> str:
        return f"{self._p}:hold:{volunteer_id}"

    def _account_keys(self, txn: Transaction) -> list[str]:
        return [f"{self._p}:ledger:{p.account}" for p in txn.postings]


def _at_version(order: Order, version: int) -> Order:
    return dataclasses.replace(order, version=version)


def _ledger_args(txn: Transaction) -> list[str | int]:
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
        entry = LedgerEntry(
            0,
            txn.txn_id,
            txn.kind,
            p.account,
            p.minutes,
            txn.branch_id,
            txn.at_ms,
            txn.order_id,
            txn.reason,
        )
        args += [p.account, p.minutes, codec.encode_entry_fields(entry)]
    return args


def _raise_refusal(reply: list[Any], order: Order | None) -> None:
    """Raise the error a script reported, if it reported one."""
    verdict = _text(reply[0])
    which = order.order_id if order is not None else ""
    if verdict == "missing":
        raise NotFoundError(f"order {which} does not exist")
    if verdict == "stale":
        version = order.version if order is not None else 0
        raise StaleOrderError(f"order {which} changed (version {_text(reply[1])}, not {version})")
    if verdict == "held":
        raise HoldConflictError(_text(reply[1]), _text(reply[2]))
    if verdict == "short":
        raise InsufficientBalanceError(_text(reply[1]), int(reply[2]), int(reply[3]))
