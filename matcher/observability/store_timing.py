"""A ``VolunteerStore`` that times every call and counts unreachable-store failures, then
delegates to the real store. The server wraps whatever store it opens in one of these, so
store latency and errors are measured in one place for every implementation."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager

from matcher.errors import StoreUnavailableError
from matcher.observability.metrics import Metrics
from matcher.registry.model import Changes, Snapshot, VolunteerRecord
from matcher.registry.store.base import VolunteerStore


class InstrumentedStore:
    """Delegates to ``inner``, recording ``matcher_store_operation_seconds`` and
    ``matcher_store_errors_total``."""

    def __init__(self, inner: VolunteerStore, metrics: Metrics) -> None:
        self._inner = inner
        self._metrics = metrics

    @contextmanager
    def _measured(self, operation: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        except StoreUnavailableError:
            self._metrics.store_errors.labels(operation).inc()
            raise
        finally:
            self._metrics.store_duration.labels(operation).observe(time.perf_counter() - started)

    @property
    def description(self) -> str:
        return self._inner.description

    def upsert(
        self,
        records: Sequence[VolunteerRecord],
        expected_versions: Mapping[str, int] | None = None,
    ) -> list[VolunteerRecord]:
        with self._measured("upsert"):
            return self._inner.upsert(records, expected_versions)

    def get(self, volunteer_id: str) -> VolunteerRecord | None:
        with self._measured("get"):
            return self._inner.get(volunteer_id)

    def get_many(self, ids: Sequence[str]) -> list[VolunteerRecord | None]:
        with self._measured("get_many"):
            return self._inner.get_many(ids)

    def delete(
        self, volunteer_id: str, expected_version: int | None = None
    ) -> VolunteerRecord | None:
        with self._measured("delete"):
            return self._inner.delete(volunteer_id, expected_version)

    def version(self) -> int:
        with self._measured("version"):
            return self._inner.version()

    def changes_since(self, version: int) -> Changes:
        with self._measured("changes_since"):
            return self._inner.changes_since(version)

    def snapshot(self) -> Snapshot:
        with self._measured("snapshot"):
            return self._inner.snapshot()

    def ping(self) -> None:
        with self._measured("ping"):
            self._inner.ping()

    def close(self) -> None:
        self._inner.close()


_: Callable[[VolunteerStore, Metrics], VolunteerStore] = InstrumentedStore  # protocol check
