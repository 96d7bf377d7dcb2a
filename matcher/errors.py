"""The matcher's exception hierarchy; every error the service raises on purpose is one of these.

::

    MatcherError                      base; never raised directly
    ├── ValidationError               bad input; carries FieldViolation(field, description)s
    ├── NotFoundError                 a named thing (order, volunteer) does not exist
    ├── ConflictError                 the thing is in the wrong state for the operation
    │   ├── StaleOrderError           an order changed since it was read (retried inside)
    │   ├── HoldConflictError         a volunteer's time is already held (no double booking)
    │   ├── InsufficientBalanceError  a redemption exceeds the time-bank balance
    │   ├── ReusedKeyError            an idempotency key came back with other content
    │   └── OfferExpiredError         an offer was answered after its deadline
    ├── InfeasibleError               the input is valid but admits no solution
    ├── LimitExceededError            a configured limit is exceeded; names the limit
    ├── StoreUnavailableError         the backing store cannot be reached, or lost its data
    │                                 (``matcher.registry.store.data_set``)
    ├── AuthenticationError           no API key, or one the server does not know
    ├── PermissionDeniedError         the key's role may not call the method or touch the
    │                                 object (someone else's order or offer)
    └── DeadlineExceededError         the call's deadline passed before the work started

    ConfigError (ValueError)          invalid MATCHER_* setting, raised at start-up only
                                      (lives in ``matcher.config``)

The five ``ConflictError`` kinds live with the order lifecycle (``matcher.orders.store.base`` and
``matcher.orders.lifecycle``). These errors are transport-neutral: ``matcher.service.errors`` is
the one place that maps them to gRPC status codes. Messages must never carry residents' or
volunteers' personal data (names, addresses, coordinates); ids and field paths are fine.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class FieldViolation:
    """One invalid field: ``field`` is the proto path, e.g. ``requests[3].location.lat``."""

    field: str
    description: str


class MatcherError(Exception):
    """Base class of every error the matcher raises on purpose."""


class ValidationError(MatcherError):
    """The input is malformed; ``violations`` lists every offending field found."""

    def __init__(self, violations: Sequence[FieldViolation], *, truncated: bool = False) -> None:
        self.violations: tuple[FieldViolation, ...] = tuple(violations)
        self.truncated = truncated
        count = len(self.violations)
        more = " (list truncated)" if truncated else ""
        first = f": {self.violations[0].field}: {self.violations[0].description}" if count else ""
        super().__init__(f"{count} invalid field(s){more}{first}")


class NotFoundError(MatcherError):
    """A named entity does not exist."""


class ConflictError(MatcherError):
    """The entity is in the wrong state for the operation (maps to FAILED_PRECONDITION)."""


class InfeasibleError(MatcherError):
    """The input is valid but admits no solution."""


class LimitExceededError(MatcherError):
    """A configured limit is exceeded (maps to RESOURCE_EXHAUSTED).

    ``limit`` is the setting's name (e.g. ``MATCHER_MAX_REQUESTS``), ``allowed`` its configured
    value and ``actual`` what the caller sent.
    """

    def __init__(self, limit: str, allowed: float, actual: float, what: str) -> None:
        self.limit = limit
        self.allowed = allowed
        self.actual = actual
        super().__init__(f"{what}: {actual} exceeds the limit {limit}={allowed}")


class StoreUnavailableError(MatcherError):
    """The backing store cannot be reached (maps to UNAVAILABLE)."""


class AuthenticationError(MatcherError):
    """The call carries no API key, or one the server does not know (UNAUTHENTICATED)."""


class PermissionDeniedError(MatcherError):
    """The caller's role may not call the method, or the object is not theirs
    (PERMISSION_DENIED)."""


class DeadlineExceededError(MatcherError):
    """The call's deadline passed before the work started (DEADLINE_EXCEEDED)."""
