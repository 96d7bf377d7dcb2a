"""The ``VolunteerStore`` protocol: the registry's storage port, and ``open_store``.

Two implementations pass one contract suite (``tests/contract/test_store_contract.py``):
``MemoryStore`` (the embedded default) and ``RedisStore`` (shared by several servers). The
protocol is deliberately small; listing and filtering happen on the server's columnar
in-memory view, which follows the store through ``version()`` and ``changes_since()``.

Versions: each record's ``version`` is 1 when it is created and grows by one on every write
that changes it (a record deleted and created again starts at 1). The *registry* version grows
by one on every write call that changed anything, and is what a reader follows.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Protocol

from matcher.errors import ConflictError
from matcher.registry.model import Changes, Snapshot, VolunteerRecord
from matcher.store_url import MEMORY_STORE

#: Write calls remembered for ``changes_since`` unless a store is told otherwise.
DEFAULT_CHANGE_LOG_LENGTH = 100_000


class VolunteerStore(Protocol):
    """Where volunteer records live. Every method may raise ``StoreUnavailableError``."""

    @property
    def description(self) -> str:
        """What this store is, for logs (``memory``, ``redis://host:6379/0 prefix=matcher``).

        Never contains a password.
        """
        ...

    def upsert(
        self,
        records: Sequence[VolunteerRecord],
        expected_versions: Mapping[str, int] | None = None,
    ) -> list[VolunteerRecord]:
        """Create or replace ``records``, all or nothing; returns them as stored, in order.

        The store sets ``version`` (1 on create, previous + 1 on update), ``created_ms`` (kept on
        update) and ``updated_ms`` (now); the values the caller passes are ignored. A record
        whose profile, branch, teams and active flag equal the stored ones is left as it is and
        returned unchanged (so a retried call is harmless). ``expected_versions`` maps ids to
        the version the caller last saw (0: must not exist); on any mismatch nothing is written
        and ``ConflictError`` names the id and both versions. Duplicate ids, an empty id, a
        branch id containing ``{`` or ``}``, a NaN or infinite number, or an id in
        ``expected_versions`` that is not in ``records`` raise ``ValueError``.
        """
        ...

    def get(self, volunteer_id: str) -> VolunteerRecord | None:
        """The record stored under ``volunteer_id``, or None."""
        ...

    def get_many(self, ids: Sequence[str]) -> list[VolunteerRecord | None]:
        """The records stored under ``ids`` (None where absent), in order."""
        ...

    def delete(
        self, volunteer_id: str, expected_version: int | None = None
    ) -> VolunteerRecord | None:
        """Delete a record; returns what was deleted, or None if there was nothing.

        With ``expected_version`` (0: must not exist) a mismatch raises ``ConflictError``.
        """
        ...

    def version(self) -> int:
        """The registry version: 0 for an empty store, +1 per write call that changed anything."""
        ...

    def changes_since(self, version: int) -> Changes:
        """What changed after registry version ``version``, with each record's latest state.

        ``complete`` is False when the change log no longer reaches back to ``version`` (or
        ``version`` is ahead of the store, e.g. after the store lost its data); the reader
        then reloads a ``snapshot()``.
        """
        ...

    def snapshot(self) -> Snapshot:
        """Every record (sorted by id) at one consistent registry version."""
        ...

    def ping(self) -> None:
        """Return if the store is reachable, else raise ``StoreUnavailableError``."""
        ...

    def close(self) -> None:
        """Release connections; the store is not used afterwards."""
        ...


def check_batch(
    records: Sequence[VolunteerRecord], expected_versions: Mapping[str, int] | None
) -> None:
    """Raise ``ValueError`` for a batch no store accepts (see ``VolunteerStore.upsert``)."""
    seen: set[str] = set()
    for record in records:
        if not record.id:
            raise ValueError("a volunteer id must not be empty")
        if "{" in record.branch_id or "}" in record.branch_id:
            raise ValueError(f"volunteer {record.id}: branch id must not contain '{{' or '}}'")
        p = record.profile
        if not all(map(math.isfinite, (p.lat, p.lon, p.max_travel_km, p.rating, p.recent_hours))):
            raise ValueError(f"volunteer {record.id}: profile numbers must be finite")
        if record.id in seen:
            raise ValueError(f"volunteer {record.id} appears more than once in one upsert")
        seen.add(record.id)
    for volunteer_id, version in (expected_versions or {}).items():
        if volunteer_id not in seen:
            raise ValueError(f"expected_versions names {volunteer_id}, which is not in the batch")
        if version < 0:
            raise ValueError(f"expected version of {volunteer_id} must be >= 0, not {version}")


def conflict(volunteer_id: str, expected: int, stored: int) -> ConflictError:
    """The error for a version mismatch (0 stands for "absent")."""
    return ConflictError(
        f"volunteer {volunteer_id}: expected version {expected}, stored version {stored}"
    )


def open_store(
    url: str, *, prefix: str = "matcher", change_log_length: int = DEFAULT_CHANGE_LOG_LENGTH
) -> VolunteerStore:
    """The registry store ``url`` names, on its own: ``memory`` or a Redis URL
    (``matcher.store_url``), with ``prefix`` starting every Redis key. A server opens its two
    stores together, over one connection (``matcher.service.stores.open_stores``); this is
    for tools and tests. Raises ``StoreURLError`` (a ``ValueError``) for any other URL.
    """
    if url == MEMORY_STORE:
        from matcher.registry.store.memory import MemoryStore

        return MemoryStore(change_log_length=change_log_length)
    from matcher.registry.store.redis import RedisStore

    return RedisStore(url, prefix, change_log_length=change_log_length)
