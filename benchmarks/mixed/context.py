"""What every client thread of a mixed load run shares: the stubs, the figures, the records,
the inbox, the stop event and the call metadata of each role; ``Context.call`` makes one
counted call."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import grpc

from benchmarks.mixed.auth import CallKeys
from benchmarks.mixed.calls import FAILED_PRECONDITION, CallStats, Inbox, Metadata, Records
from benchmarks.mixed.workload import Workload
from matcher.v1 import match_pb2_grpc, orders_pb2, orders_pb2_grpc, timebank_pb2_grpc

TIMEOUT_S = 30.0
ROUND_TIMEOUT_S = 120.0
O = orders_pb2  # noqa: E741 (the proto module, short: read as a namespace)
FP = (FAILED_PRECONDITION,)
#: How a first-message wait may end: nothing open any more (the deadline), or the server's
#: documented limit of open streams (MATCHER_MAX_WATCH_STREAMS: back-pressure, not a fault).
WATCH_ENDS = (grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.RESOURCE_EXHAUSTED)
LIVE = (O.ORDER_STATE_PENDING, O.ORDER_STATE_OFFERED, O.ORDER_STATE_ACCEPTED)
FINAL = (O.ORDER_STATE_RATED, O.ORDER_STATE_CANCELLED, O.ORDER_STATE_EXPIRED)
R = TypeVar("R")


@dataclass
class Context:
    """What every client thread shares."""

    channel: grpc.Channel
    workload: Workload
    stats: CallStats
    records: Records
    inbox: Inbox
    stop: threading.Event
    keys: CallKeys  # who sends which API key
    seed: int
    round_interval_s: float = 0.25
    soon_share: float = 0.05
    crashes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.orders = orders_pb2_grpc.OrderServiceStub(self.channel)  # type: ignore[no-untyped-call]
        self.dispatch = orders_pb2_grpc.DispatchServiceStub(self.channel)  # type: ignore[no-untyped-call]
        self.offers = orders_pb2_grpc.OfferServiceStub(self.channel)  # type: ignore[no-untyped-call]
        self.bank = timebank_pb2_grpc.TimeBankServiceStub(self.channel)  # type: ignore[no-untyped-call]
        self.match = match_pb2_grpc.MatchServiceStub(self.channel)  # type: ignore[no-untyped-call]

    def call(
        self,
        label: str,
        fn: Callable[..., R],
        request: Any,
        md: Metadata,
        *,
        expect: Iterable[grpc.StatusCode] = (),
        timeout: float = TIMEOUT_S,
    ) -> R | None:
        """One timed call counted under ``label`` (``CallStats.call``); the reply, or None
        when it failed (its code is counted, expected or not)."""
        reply, _ = self.stats.call(label, fn, request, timeout=timeout, metadata=md, expect=expect)
        return reply


Role = Callable[[Context, int, random.Random], None]
