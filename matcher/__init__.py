"""The volunteer-dispatch matching engine: a gRPC service that assigns residents' service
requests to volunteers, with a volunteer registry, an order lifecycle and a time bank.

What an integrator imports from here (``__all__``): ``MatcherClient`` and the
``MatcherCallError`` its calls raise, ``VolunteerFilter`` for listing volunteers,
``Settings`` (and ``ConfigError``) to configure a server, and the error hierarchy of
``matcher.errors`` for code that runs the engine in its own process. Each name is imported
when first used, so ``import matcher`` loads nothing else and starts nothing.

The packages, bottom up: ``core`` (the pure solver), ``registry`` and ``orders`` (volunteers
and the order lifecycle, each with its stores), ``access`` (API keys, roles, policy),
``observability``, ``service`` (the gRPC edge), ``tools`` (the ``matcher`` command's
subcommands), ``client``, and ``v1`` (the generated protobuf stubs).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matcher.client import MatcherCallError, MatcherClient, VolunteerFilter
    from matcher.config import ConfigError, Settings
    from matcher.errors import (
        AuthenticationError,
        ConflictError,
        DeadlineExceededError,
        FieldViolation,
        InfeasibleError,
        LimitExceededError,
        MatcherError,
        NotFoundError,
        PermissionDeniedError,
        StoreUnavailableError,
        ValidationError,
    )

#: Where each public name lives.
_HOMES = {
    "MatcherClient": "matcher.client",
    "MatcherCallError": "matcher.client",
    "VolunteerFilter": "matcher.client",
    "Settings": "matcher.config",
    "ConfigError": "matcher.config",
    "MatcherError": "matcher.errors",
    "ValidationError": "matcher.errors",
    "FieldViolation": "matcher.errors",
    "NotFoundError": "matcher.errors",
    "ConflictError": "matcher.errors",
    "InfeasibleError": "matcher.errors",
    "LimitExceededError": "matcher.errors",
    "StoreUnavailableError": "matcher.errors",
    "AuthenticationError": "matcher.errors",
    "PermissionDeniedError": "matcher.errors",
    "DeadlineExceededError": "matcher.errors",
}

__all__ = [
    "AuthenticationError",
    "ConfigError",
    "ConflictError",
    "DeadlineExceededError",
    "FieldViolation",
    "InfeasibleError",
    "LimitExceededError",
    "MatcherCallError",
    "MatcherClient",
    "MatcherError",
    "NotFoundError",
    "PermissionDeniedError",
    "Settings",
    "StoreUnavailableError",
    "ValidationError",
    "VolunteerFilter",
]


def __getattr__(name: str) -> object:
    """Import a public name from its home the first time it is asked for."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'matcher' has no attribute {name!r}")
    value = getattr(import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
