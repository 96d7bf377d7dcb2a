"""What the clients measure and remember: per-rpc figures, the answers they got, the inbox.

* ``CallStats`` times every call and counts its status code. A code the caller *expects*
  from a race (FAILED_PRECONDITION: an offer expired or was answered meanwhile, an order
  moved on) is a business outcome; any other non-OK code is a failure (INTERNAL, UNKNOWN,
  UNAVAILABLE, DEADLINE_EXCEEDED, UNAUTHENTICATED, PERMISSION_DENIED, ...), and the command
  fails on any. In a run with a rate limit, RESOURCE_EXHAUSTED naming
  ``MATCHER_RATE_LIMIT_PER_SECOND`` is counted apart (``limited``), neither expected nor a
  failure; without one, or not naming the variable, it is a failure.
* ``Records`` keeps what the server acknowledged (orders created, offers accepted and
  declined, completions, ratings, cancellations, redemptions): the consistency checks
  compare it with what the store holds afterwards.
* ``Inbox`` stands for the push notifications a volunteer's phone gets: dispatchers and the
  centre's console put (volunteer, offer) items in, volunteer apps take them out.
"""

from __future__ import annotations

import heapq
import itertools
import random
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import grpc

R = TypeVar("R")
FAILED_PRECONDITION = grpc.StatusCode.FAILED_PRECONDITION
#: Codes a load run never expects unless a caller says so.
OK = "OK"
Metadata = tuple[tuple[str, str], ...]
RESOURCE_EXHAUSTED = grpc.StatusCode.RESOURCE_EXHAUSTED.name
#: What a refusal over the per-key rate limit names (``matcher.access.rate_limit``).
RATE_VARIABLE = "MATCHER_RATE_LIMIT_PER_SECOND"


def is_rate_limited(code: str, message: str) -> bool:
    """A refusal over the per-key rate limit (RESOURCE_EXHAUSTED naming its variable)."""
    return code == RESOURCE_EXHAUSTED and RATE_VARIABLE in message


@dataclass
class MethodFigures:
    latencies_ms: list[float] = field(default_factory=list)
    codes: Counter[str] = field(default_factory=Counter)
    expected: Counter[str] = field(default_factory=Counter)
    unexpected: Counter[str] = field(default_factory=Counter)
    limited: int = 0  # RESOURCE_EXHAUSTED over the rate limit, in a rate-limited run
    samples: list[str] = field(default_factory=list)  # first unexpected error messages


class CallStats:
    """Thread-safe per-method latency and status figures. ``rate_limit``: the server's
    per-key rate (0: none); when set, refusals naming it are counted apart instead of
    failing, and the refused client waits about one token's time before going on (as a
    client honouring HTTP 429 would; the wait is not in the latency)."""

    def __init__(self, rate_limit: float = 0.0) -> None:
        self._lock = threading.Lock()
        self.rate_limited = rate_limit > 0
        self.backoff_s = min(1.0, 1.0 / rate_limit) if rate_limit > 0 else 0.0
        self.methods: dict[str, MethodFigures] = defaultdict(MethodFigures)
        #: Per call metadata (one API key; () open): calls the server answered, not over
        #: the rate limit (OK or FAILED_PRECONDITION: past the limiter for sure).
        self.admitted: Counter[Metadata] = Counter()

    def record(self, method: str, ms: float, code: str, expected: bool, message: str = "") -> None:
        with self._lock:
            figures = self.methods[method]
            figures.latencies_ms.append(ms)
            figures.codes[code] += 1
            if code == OK:
                return
            if is_rate_limited(code, message):
                expected = False  # never another limit's expected refusal
                if self.rate_limited:
                    figures.limited += 1
                    return
            if expected:
                figures.expected[code] += 1
            else:
                figures.unexpected[code] += 1
                if len(figures.samples) < 5:
                    figures.samples.append(f"{code}: {message[:300]}")

    def call(
        self,
        method: str,
        fn: Callable[..., R],
        request: Any,
        *,
        timeout: float,
        metadata: Metadata,
        expect: Iterable[grpc.StatusCode] = (),
    ) -> tuple[R | None, grpc.StatusCode]:
        """Call ``fn(request)``; returns the reply (None on error) and the status code."""
        started = time.perf_counter()
        try:
            reply = fn(request, timeout=timeout, metadata=metadata)
        except grpc.RpcError as error:
            code = error.code()
            ms = (time.perf_counter() - started) * 1e3
            details = error.details() or ""
            self.record(method, ms, code.name, code in tuple(expect), details)
            if code == FAILED_PRECONDITION:
                self._admit(metadata)
            self.back_off(code, details)
            return None, code
        self.record(method, (time.perf_counter() - started) * 1e3, OK, True)
        self._admit(metadata)
        return reply, grpc.StatusCode.OK

    def _admit(self, metadata: Metadata) -> None:
        if self.rate_limited:
            with self._lock:
                self.admitted[metadata] += 1

    def back_off(self, code: grpc.StatusCode, details: str) -> bool:
        """After a refusal over the rate limit (of a rate-limited run): wait about one
        token's time (jittered) and say so."""
        if not (self.rate_limited and is_rate_limited(code.name, details)):
            return False
        time.sleep(self.backoff_s * random.uniform(0.5, 1.5))
        return True

    def unexpected_total(self) -> int:
        with self._lock:
            return sum(sum(f.unexpected.values()) for f in self.methods.values())


@dataclass
class Submission:
    key: str
    request: Any  # orders_pb2.SubmitOrderRequest
    order_id: str = ""  # set once a reply named it
    created_replies: int = 0  # replies with created=True (must end at most 1)
    acknowledged: bool = False  # some call returned OK
    lost_reply: bool = False  # a deliberately cut call may have created it
    owner: str | None = ""  # id of the API key it was sent with ("" none, None unknown)


class Records:
    """Everything the server acknowledged to the clients (thread-safe)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.submissions: dict[str, Submission] = {}
        self.accepted: set[str] = set()  # offer ids
        self.declined: set[str] = set()
        self.completed: dict[str, int] = {}  # order id -> minutes
        self.credited: Counter[str] = Counter()  # order id -> completions with credited=True
        self.rated: dict[str, int] = {}  # order id -> stars
        self.cancelled: set[str] = set()
        self.redeemed: dict[str, int] = {}  # redemption key -> minutes (posted once)
        self.redeemed_by: Counter[str] = Counter()  # volunteer id -> minutes redeemed
        self.redeem_posts: Counter[str] = Counter()  # key -> replies with posted=True
        self.rounds = 0
        self.round_offers = 0
        self.round_conflicts = 0
        self.idempotency_mismatches: list[str] = []

    def add(self, name: str, value: Any) -> None:
        with self.lock:
            getattr(self, name).add(value)


class Inbox:
    """Offer notifications, each ready at a time: (ready_at, volunteer id, offer id)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, str, str]] = []
        self._seen: set[str] = set()
        self._seq = itertools.count()

    def notify(
        self, volunteer_id: str, offer_id: str, *, at: float = 0.0, late: bool = False
    ) -> None:
        """Queue a notification (once per offer, unless it is a deliberately late answer)."""
        with self._cond:
            if not late:
                if offer_id in self._seen:
                    return
                self._seen.add(offer_id)
            heapq.heappush(
                self._heap, (at, next(self._seq), volunteer_id, offer_id if late else "")
            )
            self._cond.notify()

    def seen(self, offer_id: str) -> bool:
        with self._cond:
            return offer_id in self._seen

    def take(self, timeout: float) -> tuple[str, str] | None:
        """The next ready (volunteer id, late offer id or ""), or None after ``timeout``."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                now = time.time()
                if self._heap and self._heap[0][0] <= now:
                    _, _, vid, late = heapq.heappop(self._heap)
                    return vid, late
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                wait = left if not self._heap else min(left, self._heap[0][0] - now)
                self._cond.wait(max(wait, 0.001))
