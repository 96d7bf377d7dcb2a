"""How the client makes one call: the channel's options, the deadline, the metadata, retries of
calls that are safe to resend, and ``MatcherCallError`` read from a failed call's status.

A call that fails with UNAVAILABLE is sent again after ``backoff_delays`` (0.1 s, 0.2 s,
0.4 s, ... doubling, at most 2 s, ±20% jitter), within the one deadline, and only when the
caller says resending cannot change the outcome (``idempotent``).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from matcher.errors import FieldViolation

R = TypeVar("R")

#: Keep-alive: ping an idle-but-busy connection every 5 min (the gRPC server default minimum).
KEEPALIVE_OPTIONS: tuple[tuple[str, int], ...] = (
    ("grpc.keepalive_time_ms", 300_000),
    ("grpc.keepalive_timeout_ms", 20_000),
    ("grpc.keepalive_permit_without_calls", 0),
)
MAX_MESSAGE_BYTES = 256 * 1024 * 1024
DEFAULT_TIMEOUT = 10.0
DEFAULT_RETRIES = 3
INITIAL_BACKOFF, MAX_BACKOFF, JITTER = 0.1, 2.0, 0.2


class MatcherCallError(Exception):
    """A call failed: ``code`` (``grpc.StatusCode``), ``message``, and the details the server
    attached: ``field_violations`` (bad input), ``reason`` and ``error_metadata`` (ErrorInfo,
    e.g. ``LIMIT_EXCEEDED`` with ``limit`` / ``allowed`` / ``actual``)."""

    def __init__(
        self,
        code: grpc.StatusCode,
        message: str,
        field_violations: Sequence[FieldViolation] = (),
        reason: str = "",
        error_metadata: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(f"{code.name}: {message}")
        self.code = code
        self.message = message
        self.field_violations = tuple(field_violations)
        self.reason = reason
        self.error_metadata = dict(error_metadata or {})

    @classmethod
    def from_rpc_error(cls, error: grpc.RpcError) -> MatcherCallError:
        """Read the code, message and ``google.rpc.Status`` details of a failed call."""
        code = error.code() if isinstance(error, grpc.Call) else grpc.StatusCode.UNKNOWN
        message = (error.details() if isinstance(error, grpc.Call) else None) or str(error)
        violations: list[FieldViolation] = []
        reason, metadata = "", dict[str, str]()
        try:
            status = rpc_status.from_call(error) if isinstance(error, grpc.Call) else None
        except ValueError:  # a status detail whose code disagrees with the call's
            status = None
        details: Sequence[Any] = status.details if status is not None else ()
        for detail in details:
            bad, info = error_details_pb2.BadRequest(), error_details_pb2.ErrorInfo()
            if detail.Unpack(bad):
                violations += [FieldViolation(v.field, v.description) for v in bad.field_violations]
            elif detail.Unpack(info):
                reason, metadata = info.reason, dict(info.metadata)
        return cls(code, message, violations, reason, metadata)


def backoff_delays(retries: int, rng: random.Random | None = None) -> list[float]:
    """Seconds to wait before each retry: doubling from 0.1 s, capped at 2 s, ±20% jitter."""
    rng = rng or random.Random()
    delays = []
    for attempt in range(retries):
        base = min(INITIAL_BACKOFF * 2**attempt, MAX_BACKOFF)
        delays.append(base * (1 + JITTER * (2 * rng.random() - 1)))
    return delays


def open_channel(
    target: str,
    credentials: grpc.ChannelCredentials | None,
    options: Sequence[tuple[str, Any]] = (),
) -> grpc.Channel:
    """A channel to ``target`` with keep-alive and the server's default message limits
    (``options`` added after them); TLS when ``credentials`` are given."""
    all_options = [
        *KEEPALIVE_OPTIONS,
        ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
        ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
        *options,
    ]
    if credentials is None:
        return grpc.insecure_channel(target, options=all_options)
    return grpc.secure_channel(target, credentials, options=all_options)


def call_with_retries(
    method: Callable[..., Any],
    request: Any,
    reply_type: type[R],
    *,
    timeout: float,
    retries: int,
    metadata: Sequence[tuple[str, str]],
) -> R:
    """One call within ``timeout`` seconds in all, sent again up to ``retries`` times while it
    fails with UNAVAILABLE (0 for a call that must not be resent); ``MatcherCallError`` once it
    fails for good."""
    deadline = time.monotonic() + timeout
    delays = backoff_delays(retries)
    while True:
        remaining = max(deadline - time.monotonic(), 0.0)
        try:
            reply = method(request, timeout=remaining, metadata=metadata)
        except grpc.RpcError as err:
            code = err.code() if isinstance(err, grpc.Call) else None
            delay = delays.pop(0) if delays else None
            if code != grpc.StatusCode.UNAVAILABLE or delay is None:
                raise MatcherCallError.from_rpc_error(err) from None
            if time.monotonic() + delay >= deadline:
                raise MatcherCallError.from_rpc_error(err) from None
            time.sleep(delay)
            continue
        if not isinstance(reply, reply_type):
            raise TypeError(f"expected {reply_type.__name__}, got {type(reply).__name__}")
        return reply
