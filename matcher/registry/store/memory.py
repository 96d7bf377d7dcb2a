"""``MemoryStore``: the embedded default ``VolunteerStore``, a dict behind one lock.

A real implementation, not a test double: it keeps the same versions, conflicts and change log
as ``RedisStore`` (the contract suite runs against both). The change log is a bounded deque of
``(registry version, ids)`` with one entry per write call that changed anything. Data lives
only as long as the process.
"""

from __future__ import annotations

import dataclasses
import itertools
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence

from matcher.registry.model import Changes, Snapshot, VolunteerRecord
from matcher.registry.store.base import DEFAULT_CHANGE_LOG_LENGTH, check_batch, conflict


def _same_content(a: VolunteerRecord, b: VolunteerRecord) -> bool:
    """Whether ``a`` and ``b`` hold the same caller-written fields."""
    return (a.profile, a.branch_id, a.team_ids, a.active) == (
        b.profile,
        b.branch_id,
        b.team_ids,
        b.active,
    )


class MemoryStore:
    """Volunteer records in this process's memory; thread-safe."""

    def __init__(
        self,
        *,
        change_log_length: int = DEFAULT_CHANGE_LOG_LENGTH,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if change_log_length < 1:
            raise ValueError(f"change_log_length must be >= 1, not {change_log_length}")
        self._clock = clock
        self._lock = threading.Lock()
        self._records: dict[str, VolunteerRecord] = {}
        self._version = 0
        self._log: deque[tuple[int, tuple[str, ...]]] = deque(maxlen=change_log_length)

    @property
    def description(self) -> str:
        return "memory"

    def upsert(
        self,
        records: Sequence[VolunteerRecord],
        expected_versions: Mapping[str, int] | None = None,
    ) -> list[VolunteerRecord]:
        check_batch(records, expected_versions)
        with self._lock:
            for volunteer_id, expected in (expected_versions or {}).items():
                old = self._records.get(volunteer_id)
                stored_version = old.version if old is not None else 0
                if expected != stored_version:
                    raise conflict(volunteer_id, expected, stored_version)
            now_ms = int(self._clock() * 1000)
            result: list[VolunteerRecord] = []
            changed: list[VolunteerRecord] = []
            for record in records:
                old = self._records.get(record.id)
                if old is not None and _same_content(old, record):
                    result.append(old)
                    continue
                new = dataclasses.replace(
                    record,
                    version=old.version + 1 if old is not None else 1,
                    created_ms=old.created_ms if old is not None else now_ms,
                    updated_ms=now_ms,
                )
                result.append(new)
                changed.append(new)
            if changed:
                self._records.update((r.id, r) for r in changed)
                self._log_write(tuple(r.id for r in changed))
            return result

    def get(self, volunteer_id: str) -> VolunteerRecord | None:
        with self._lock:
            return self._records.get(volunteer_id)

    def get_many(self, ids: Sequence[str]) -> list[VolunteerRecord | None]:
        with self._lock:
            return [self._records.get(i) for i in ids]

    def delete(
        self, volunteer_id: str, expected_version: int | None = None
    ) -> VolunteerRecord | None:
        with self._lock:
            old = self._records.get(volunteer_id)
            stored_version = old.version if old is not None else 0
            if expected_version is not None and expected_version != stored_version:
                raise conflict(volunteer_id, expected_version, stored_version)
            if old is None:
                return None
            del self._records[volunteer_id]
            self._log_write((volunteer_id,))
            return old

    def version(self) -> int:
        with self._lock:
            return self._version

    def changes_since(self, version: int) -> Changes:
        if version < 0:
            raise ValueError(f"version must be >= 0, not {version}")
        with self._lock:
            current = self._version
            if version == current:
                return Changes(current)
            if version > current or not self._log or self._log[0][0] > version + 1:
                return Changes(current, complete=False)
            entries = itertools.islice(self._log, version + 1 - self._log[0][0], None)
            touched = dict.fromkeys(i for _, ids in entries for i in ids)
            upserted = tuple(self._records[i] for i in touched if i in self._records)
            deleted = tuple(i for i in touched if i not in self._records)
            return Changes(current, upserted, deleted)

    def snapshot(self) -> Snapshot:
        with self._lock:
            records = tuple(self._records[i] for i in sorted(self._records))
            return Snapshot(self._version, records)

    def ping(self) -> None:
        return None

    def close(self) -> None:
        return None

    def _log_write(self, ids: tuple[str, ...]) -> None:
        """Count one write call that changed ``ids`` (the caller holds the lock)."""
        self._version += 1
        self._log.append((self._version, ids))
