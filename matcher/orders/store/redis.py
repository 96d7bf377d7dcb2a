"""``RedisOrderStore``: the ``OrderStore`` several dispatcher processes share.

Data model (``<p>`` is the key prefix, shared with the volunteer registry; ``matcher.ids``
composes every key and id in it, and says why no two meet):

================================ ======== ==================================================
key                              type     value
================================ ======== ==================================================
``<p>:order:<id>``               string   the order as JSON (``store.json``), version first
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
``<p>:outbox``                   hash     registry effect id -> the effect as JSON, until
                                          applied (``registry_sync``)
================================ ======== ==================================================

Every write is one Lua script (``store.scripts``): an order write, its holds and its ledger
transaction happen together or not at all, on whichever process runs it. ``commit_many``
sends up to ``WRITES_PER_SCRIPT`` order writes per script, each checked and applied on its
own. A script finds the stored order's state in its text (``store.json``), so a commit is one
round trip. Deadlines are compared with the ``now_ms`` the caller passes (the dispatcher's
clock), not Redis' clock, so a simulated day and the tests control time. The scripts touch
several volunteers' and accounts' keys, so the store needs one Redis node (or a primary with
replicas), not a Redis Cluster. Connection failures become ``StoreUnavailableError`` in one place.

This module holds the orders and holds; the ledger half (``post``, entries, balances, branch
figures) is ``redis_ledger.RedisLedger``, which ``RedisOrderStore`` extends, and what both
share with the volunteer store is ``matcher.registry.store.redis_base``: reads on the read
client (a shorter timeout), write scripts registered with ``_write_script`` so that they are
guarded by the data-set marker. A new write script must be registered that way too.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from typing import Any

import redis

from matcher.errors import NotFoundError
from matcher.ids import redis_key
from matcher.orders.model import (
    NO_HOLD_CHANGES,
    Hold,
    HoldChanges,
    Order,
    OrderState,
    RegistryEffect,
    Transaction,
)
from matcher.orders.store import json as codec
from matcher.orders.store import scripts as redis_scripts
from matcher.orders.store.base import (
    HoldConflictError,
    OrderWrite,
    StaleOrderError,
    StateCensus,
    WriteOutcome,
)
from matcher.orders.store.redis_ledger import RedisLedger, ledger_args
from matcher.orders.store.scripts import raise_refusal
from matcher.registry.store.data_set import DataSetMarker
from matcher.registry.store.redis_base import reply_text
from matcher.registry.store.redis_errors import translate_redis_errors

#: Order writes per ``COMMIT_MANY`` call (one round trip each): bounds how long one script
#: keeps Redis from serving others, and lets a round's first offers land (and be seen by the
#: volunteers' apps) before its last ones are encoded.
WRITES_PER_SCRIPT = 100

#: Orders ``get_many`` keeps decoded, with their text, to skip decoding them again (about
#: 4 KB each with a typical history: 80 MB at most).
DECODED_ORDERS_KEPT = 20_000


class RedisOrderStore(RedisLedger):
    """Orders, holds and the ledger in Redis (see the module docstring for the keys)."""

    def __init__(
        self,
        client_or_url: redis.Redis | str,
        prefix: str = "matcher",
        *,
        timeout: float = 2.0,
        reads: redis.Redis | None = None,
        marker: DataSetMarker | None = None,
    ) -> None:
        super().__init__(client_or_url, prefix, timeout=timeout, reads=reads, marker=marker)
        self._decoded: dict[str, tuple[bytes | str, Order]] = {}  # see ``_decode``
        # Indexed by state number (1..7), as the scripts expect.
        self._state_keys = [self._state_key(state) for state in sorted(OrderState)]
        self._create = self._write_script(redis_scripts.CREATE)
        self._commit = self._write_script(redis_scripts.COMMIT)
        self._commit_many = self._write_script(redis_scripts.COMMIT_MANY)
        self._replace_effect = self._write_script(redis_scripts.REPLACE_EFFECT)
        self._outbox_key = f"{self._prefix}:outbox"

    def _order_key(self, order_id: str) -> str:
        return redis_key(self._prefix, "order", order_id)

    def _state_key(self, state: OrderState) -> str:
        return f"{self._prefix}:orders:{state.name.lower()}"

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
        text = self._reads.get(self._order_key(order_id))
        return None if text is None else codec.decode_order(text)

    @translate_redis_errors
    def get_many(self, order_ids: Sequence[str]) -> list[Order | None]:
        if not order_ids:
            return []
        texts = self._reads.mget([self._order_key(i) for i in order_ids])
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
        pipe = self._reads.pipeline(transaction=False)
        for state in states:
            pipe.zrange(self._state_key(state), 0, -1, withscores=True)
        scored = [(score, reply_text(i)) for rows in pipe.execute() for i, score in rows]
        return [i for _, i in sorted(scored)]

    @translate_redis_errors
    def census(self) -> dict[OrderState, StateCensus]:
        pipe = self._reads.pipeline(transaction=False)
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
        effects: Sequence[RegistryEffect] = (),
    ) -> Order:
        written = _at_version(order, order.version + 1)
        keys = [*self._fixed_keys(), *self._ledger_keys()]
        args: list[str | int] = [now_ms, 0 if txn is None else 1]
        self._add_write(OrderWrite(order, holds), keys, args)
        if txn is not None:
            keys += self._account_keys(txn)
            args += ledger_args(txn)
        keys.append(self._outbox_key)
        for effect in effects:
            args += [effect.effect_id, codec.encode_effect(effect)]
        args.append(len(effects))
        reply = self._commit(keys=keys, args=args)
        raise_refusal(reply, order)
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
                raise_refusal(reply, write.order)
            except (NotFoundError, StaleOrderError, HoldConflictError) as refusal:
                out.append(refusal)
            else:
                out.append(_at_version(write.order, write.order.version + 1))
        return out

    def _fixed_keys(self) -> list[str]:
        """The keys every order write names first: the state sets by number, the held set."""
        return [*self._state_keys, f"{self._prefix}:held"]

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
            keys += [
                self._hold_key(hold.volunteer_id),
                redis_key(self._prefix, "offered", hold.volunteer_id),
            ]
            args += [hold.volunteer_id, hold.hold_id, hold.start, hold.end, hold.deadline_ms]
        for volunteer_id, hold_id in holds.release:
            keys.append(self._hold_key(volunteer_id))
            args += [volunteer_id, hold_id]

    @translate_redis_errors
    def holds(self) -> list[Hold]:
        volunteers = sorted(reply_text(v) for v in self._reads.smembers(f"{self._prefix}:held"))
        pipe = self._reads.pipeline(transaction=False)
        for volunteer_id in volunteers:
            pipe.hgetall(self._hold_key(volunteer_id))
        found: list[Hold] = []
        for volunteer_id, rows in zip(volunteers, pipe.execute(), strict=True):
            found += [
                codec.decode_hold(volunteer_id, reply_text(k), reply_text(v))
                for k, v in rows.items()
            ]
        return found

    @translate_redis_errors
    def volunteer_order_ids(self, volunteer_id: str) -> list[str]:
        key = redis_key(self._prefix, "offered", volunteer_id)
        ids: list[Any] = self._reads.zrange(key, 0, -1)
        return [reply_text(i) for i in ids]

    @translate_redis_errors
    def pending_effects(self) -> list[RegistryEffect]:
        texts: list[Any] = self._reads.hvals(self._outbox_key)
        return [codec.decode_effect(t) for t in texts]

    @translate_redis_errors
    def replace_effect(self, expected: RegistryEffect, new: RegistryEffect) -> bool:
        args = [expected.effect_id, codec.encode_effect(expected), codec.encode_effect(new)]
        return int(self._replace_effect(keys=[self._outbox_key], args=args)) == 1

    @translate_redis_errors
    def settle_effect(self, effect_id: str) -> None:
        self._redis.hdel(self._outbox_key, effect_id)

    def _hold_key(self, volunteer_id: str) -> str:
        return redis_key(self._prefix, "hold", volunteer_id)


def _at_version(order: Order, version: int) -> Order:
    return dataclasses.replace(order, version=version)
