"""Per-caller rate limits: one token bucket per API key (per peer address in open mode).

A bucket holds up to ``burst`` tokens and refills at ``per_second``; a call takes one token
or is refused with ``LimitExceededError`` naming ``MATCHER_RATE_LIMIT_PER_SECOND`` (gRPC
RESOURCE_EXHAUSTED, ErrorInfo reason LIMIT_EXCEEDED). O(1) per call under one lock (a new
caller beyond ``MAX_BUCKETS`` first drops the idle buckets, a bounded sweep). The
refusal reports how many calls the caller made in the current second.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from matcher.errors import LimitExceededError

RATE_VARIABLE = "MATCHER_RATE_LIMIT_PER_SECOND"
#: Buckets kept at most; beyond it, full (idle) buckets are dropped (open mode: many peers).
MAX_BUCKETS = 10_000


@dataclass
class _Bucket:
    per_second: float
    burst: float
    tokens: float
    stamp: float  # when ``tokens`` was last brought up to date
    second: int = 0  # the whole second ``calls`` counts
    calls: int = 0


def burst_for(per_second: float, burst: int) -> int:
    """The bucket size: ``burst``, or one second's worth (at least 1) when it is 0."""
    return burst if burst > 0 else max(1, math.ceil(per_second))


class RateLimiter:
    """Token buckets by caller; ``per_second`` 0 means no limit (unless a key sets one)."""

    def __init__(
        self, per_second: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.per_second = per_second
        self.burst = burst
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def take(self, caller: str, per_second: float | None = None) -> None:
        """Take one token of ``caller``'s bucket (``per_second`` overrides the server-wide
        rate for this caller); ``LimitExceededError`` when it is empty."""
        rate = self.per_second if per_second is None else per_second
        if rate <= 0:
            return
        now = self._clock()
        with self._lock:
            bucket = self._buckets.get(caller)
            if bucket is None or bucket.per_second != rate:
                self._prune(now)
                size = float(burst_for(rate, self.burst))
                bucket = self._buckets[caller] = _Bucket(rate, size, size, now)
            bucket.tokens = min(bucket.burst, bucket.tokens + (now - bucket.stamp) * rate)
            bucket.stamp = now
            if int(now) != bucket.second:
                bucket.second, bucket.calls = int(now), 0
            bucket.calls += 1
            if bucket.tokens >= 1:
                bucket.tokens -= 1
                return
            calls = bucket.calls
        allowed = int(rate) if float(rate).is_integer() else rate
        raise LimitExceededError(RATE_VARIABLE, allowed, calls, f"calls this second by {caller}")

    def _prune(self, now: float) -> None:
        """Keep at most ``MAX_BUCKETS``: drop the buckets that have refilled (idle callers)."""
        if len(self._buckets) < MAX_BUCKETS:
            return
        idle = [
            name
            for name, b in self._buckets.items()
            if b.tokens + (now - b.stamp) * b.per_second >= b.burst
        ]
        for name in idle:
            del self._buckets[name]
