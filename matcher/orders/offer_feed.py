"""Wakes the volunteers' offer streams when their offers change in this process.

One counter per volunteer, bumped by every write that touches one of their offers; a stream
waits until its volunteer's counter moves or a poll interval passes. The poll is what makes
a stream see offers written by *another* process sharing the store: a change here is seen at
once, a change elsewhere within one interval.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterable


class OfferFeed:
    """Per-volunteer change counters with a condition to wait on."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._counts: dict[str, int] = defaultdict(int)
        self._closed = False

    def touch(self, volunteer_ids: Iterable[str]) -> None:
        """Record that these volunteers' offers changed, waking their streams."""
        with self._changed:
            for vid in volunteer_ids:
                self._counts[vid] += 1
            self._changed.notify_all()

    def count(self, volunteer_id: str) -> int:
        """The volunteer's change counter now."""
        with self._changed:
            return self._counts.get(volunteer_id, 0)

    def wait(self, volunteer_id: str, seen: int, timeout: float) -> int:
        """Wait up to ``timeout`` seconds for the counter to pass ``seen``; return it."""
        with self._changed:
            self._changed.wait_for(
                lambda: self._closed or self._counts.get(volunteer_id, 0) != seen, timeout
            )
            return self._counts.get(volunteer_id, 0)

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        """End every wait (the server is stopping)."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()
