"""What of an HTTP request goes on to the gRPC call: some headers as metadata, and a deadline.

Metadata: ``authorization``, the W3C trace context (``traceparent``, ``tracestate``) and
``x-request-id`` are forwarded unchanged; no other header is.

Deadline: the ``grpc-timeout`` request header, in gRPC's own format (an integer of at most 8
digits and a unit: ``H`` hours, ``M`` minutes, ``S`` seconds, ``m`` milliseconds, ``u``
microseconds, ``n`` nanoseconds; ``grpc-timeout: 5S``), as grpc-gateway reads it. Without it a
unary call gets the configured default (30 s) and a server stream none (it lasts until the
client goes away); any deadline is capped at the configured maximum. The backend sees the
deadline as its own, so an over-long Match is cut off there too (504 DEADLINE_EXCEEDED).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from gateway.errors import bad_request

FORWARDED_HEADERS = ("authorization", "traceparent", "tracestate", "x-request-id")
TIMEOUT_HEADER = "grpc-timeout"

_TIMEOUT = re.compile(r"([0-9]{1,8})([HMSmun])")
_UNIT_SECONDS = {"H": 3600.0, "M": 60.0, "S": 1.0, "m": 1e-3, "u": 1e-6, "n": 1e-9}


def forwarded_metadata(headers: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """The gRPC metadata to send: the forwarded headers present on the request."""
    return tuple((name, headers[name]) for name in FORWARDED_HEADERS if name in headers)


def call_timeout(headers: Mapping[str, str], default: float | None, maximum: float) -> float | None:
    """Seconds the call may take: the ``grpc-timeout`` header, else ``default``, capped at
    ``maximum`` (``None`` = no deadline). 400 for a malformed header."""
    raw = headers.get(TIMEOUT_HEADER)
    if raw is None:
        return None if default is None else min(default, maximum)
    found = _TIMEOUT.fullmatch(raw.strip())
    if found is None:
        raise bad_request(
            f"{TIMEOUT_HEADER} header {raw!r} is malformed: expected 1-8 digits and a unit "
            "H, M, S, m, u or n (e.g. 5S or 500m)",
            [(TIMEOUT_HEADER, "malformed")],
        )
    seconds = int(found.group(1)) * _UNIT_SECONDS[found.group(2)]
    return min(seconds, maximum)
