"""``RedisStore``: the ``VolunteerStore`` that several server processes share.

Data model (``<p>`` is the key prefix, ``matcher`` by default):

=============================== ======== ===================================================
key                             type     value
=============================== ======== ===================================================
``<p>:vol:{<branch>}:<id>``     string   the record as compact JSON (``store.json``); the
                                         braces make the branch the Redis Cluster hash tag
                                         (``matcher.ids.record_key``: the branch escaped,
                                         ``""`` written ``{_}``, ``_`` written ``{%5F}``)
``<p>:vol-branch``              hash     volunteer id -> branch id (finds a record's key)
``<p>:registry:version``        string   registry version: +1 per write call that changed
                                         anything (absent = 0)
``<p>:registry:changes``        stream   one entry per such call, ID ``<version>-0``, fields
                                         ``op`` (``upsert`` or ``delete``) and ``ids`` (JSON
                                         list); trimmed approximately to the change log
                                         length (100,000 by default)
=============================== ======== ===================================================

Every write is one Lua script (``store.scripts``) that checks expected versions, reads the old
versions and created times, writes the records, fixes the branch index (a branch move deletes
the old key), bumps the registry version and appends the change entry: Redis runs it whole, so
no record is half-written and no index points at nothing. New versions and ``updated_ms``
(from Redis' clock, so every server agrees) are computed inside the script.

Reads: ``version()`` is one GET. ``changes_since`` is one script that reads the stream and the
touched records atomically, so its records are exactly at the version it returns.
``snapshot()`` reads the version, the branch index and the records (MGET in chunks, one
pipeline), then patches in ``changes_since`` that version: records not touched meanwhile are
unchanged, the touched ones come from the atomic read, so the result is one consistent version.

Connection and timeout errors (including Redis still loading) become ``StoreUnavailableError``
in one place, ``redis_errors.translate_redis_errors`` (shared with the order store). The
client has socket timeouts, a short retry and a health check, so it reconnects by itself
when Redis comes back. Reads go through the read client (a shorter timeout) and writes are
guarded by the data-set marker, when the server gives them (``redis_base``, ``data_set``).
Durability of acknowledged writes
across a Redis restart is Redis' own (AOF with ``appendfsync everysec`` or ``always``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import redis

from matcher import ids
from matcher.errors import StoreUnavailableError
from matcher.registry.model import Changes, Snapshot, VolunteerRecord
from matcher.registry.store import json as record_json
from matcher.registry.store import scripts as redis_scripts
from matcher.registry.store.base import DEFAULT_CHANGE_LOG_LENGTH, check_batch, conflict
from matcher.registry.store.data_set import DataSetMarker
from matcher.registry.store.redis_base import RedisClientStore, reply_text
from matcher.registry.store.redis_errors import translate_redis_errors

_MGET_CHUNK = 1_000
_SNAPSHOT_ATTEMPTS = 5


class RedisStore(RedisClientStore):
    """Volunteer records in Redis (see the module docstring for the keys)."""

    def __init__(
        self,
        client_or_url: redis.Redis | str,
        prefix: str = "matcher",
        *,
        change_log_length: int = DEFAULT_CHANGE_LOG_LENGTH,
        socket_timeout: float = 2.0,
        reads: redis.Redis | None = None,
        marker: DataSetMarker | None = None,
    ) -> None:
        if change_log_length < 1:
            raise ValueError(f"change_log_length must be >= 1, not {change_log_length}")
        super().__init__(client_or_url, prefix, timeout=socket_timeout, reads=reads, marker=marker)
        self._log_length = change_log_length
        self._index_key = f"{prefix}:vol-branch"
        self._version_key = f"{prefix}:registry:version"
        self._keys = [self._index_key, self._version_key, f"{prefix}:registry:changes"]
        self._upsert = self._write_script(redis_scripts.UPSERT)
        self._delete = self._write_script(redis_scripts.DELETE)
        self._read = self._redis.register_script(redis_scripts.READ)
        self._changes = self._redis.register_script(redis_scripts.CHANGES)

    def _record_key(self, branch_id: str, volunteer_id: str) -> str:
        return ids.record_key(self._prefix, branch_id, volunteer_id)

    @translate_redis_errors
    def upsert(
        self,
        records: Sequence[VolunteerRecord],
        expected_versions: Mapping[str, int] | None = None,
    ) -> list[VolunteerRecord]:
        check_batch(records, expected_versions)
        if not records:
            return []
        expected = expected_versions or {}
        keys = self._keys + [self._record_key(r.branch_id, r.id) for r in records]
        args: list[str | int] = [self._prefix, self._log_length]
        for r in records:
            version = expected.get(r.id)
            body = record_json.encode_body(r)
            args += [r.id, r.branch_id, body, "" if version is None else version]
        reply = self._upsert(keys=keys, args=args)
        _raise_conflict(reply)
        meta = [int(x) for x in reply[2:]]
        return [
            dataclasses.replace(r, version=v, created_ms=c, updated_ms=u)
            for r, v, c, u in zip(records, meta[0::3], meta[1::3], meta[2::3], strict=True)
        ]

    @translate_redis_errors
    def get(self, volunteer_id: str) -> VolunteerRecord | None:
        return self._get_many([volunteer_id])[0]

    @translate_redis_errors
    def get_many(self, ids: Sequence[str]) -> list[VolunteerRecord | None]:
        return self._get_many(ids)

    def _get_many(self, ids: Sequence[str]) -> list[VolunteerRecord | None]:
        if not ids:
            return []
        texts = self._read(keys=self._keys, args=[self._prefix, *ids], client=self._reads)
        return [None if t is None else record_json.decode(t) for t in texts]

    @translate_redis_errors
    def delete(
        self, volunteer_id: str, expected_version: int | None = None
    ) -> VolunteerRecord | None:
        expected = "" if expected_version is None else expected_version
        args: list[str | int] = [self._prefix, self._log_length, volunteer_id, expected]
        reply = self._delete(keys=self._keys, args=args)
        _raise_conflict(reply)
        return None if reply[1] is None else record_json.decode(reply[1])

    @translate_redis_errors
    def version(self) -> int:
        return int(self._reads.get(self._version_key) or 0)

    @translate_redis_errors
    def changes_since(self, version: int) -> Changes:
        if version < 0:
            raise ValueError(f"version must be >= 0, not {version}")
        return self._changes_since(version)

    def _changes_since(self, version: int) -> Changes:
        args: list[str | int] = [self._prefix, version, self._log_length]
        reply = self._changes(keys=self._keys, args=args, client=self._reads)
        current, complete = int(reply[0]), bool(reply[1])
        if not complete:
            return Changes(current, complete=False)
        pairs = list(zip(reply[2::2], reply[3::2], strict=True))
        upserted = tuple(record_json.decode(text) for _, text in pairs if text is not None)
        deleted = tuple(reply_text(i) for i, text in pairs if text is None)
        return Changes(current, upserted, deleted)

    @translate_redis_errors
    def snapshot(self) -> Snapshot:
        for _ in range(_SNAPSHOT_ATTEMPTS):
            version = int(self._reads.get(self._version_key) or 0)
            by_id = {r.id: r for r in self._read_all()}
            changes = self._changes_since(version)
            if changes.complete:
                by_id.update((r.id, r) for r in changes.upserted)
                for gone in changes.deleted:
                    by_id.pop(gone, None)
                return Snapshot(changes.version, tuple(by_id[i] for i in sorted(by_id)))
        raise StoreUnavailableError(
            f"{self.redis_where}: the registry changed too fast for a consistent snapshot"
        )

    def _read_all(self) -> Iterable[VolunteerRecord]:
        """Every record, each as it was at some moment during the read (not one version)."""
        index: dict[Any, Any] = self._reads.hgetall(self._index_key)
        keys = [self._record_key(reply_text(b), reply_text(i)) for i, b in index.items()]
        pipe = self._reads.pipeline(transaction=False)
        for start in range(0, len(keys), _MGET_CHUNK):
            pipe.mget(keys[start : start + _MGET_CHUNK])
        for chunk in pipe.execute():
            yield from (record_json.decode(t) for t in chunk if t is not None)


def _raise_conflict(reply: list[Any]) -> None:
    """Raise the ``ConflictError`` a script reported, if it reported one."""
    if reply_text(reply[0]) == "conflict":
        raise conflict(reply_text(reply[1]), int(reply[2]), int(reply[3]))
