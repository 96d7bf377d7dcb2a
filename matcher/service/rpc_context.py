"""Per-call facts a servicer adds to the rpc's access-log line (batch sizes and the like).

The interceptor opens a fresh dict for each call; a servicer running in the same thread
calls ``annotate(requests=1000, volunteers=20000)``. Only counts and ids of our own making
belong here, never residents' personal data.
"""

from __future__ import annotations

from contextvars import ContextVar

_FIELDS: ContextVar[dict[str, object] | None] = ContextVar("matcher_rpc_fields", default=None)


def open_call() -> dict[str, object]:
    """Start collecting fields for the current call; returns the dict."""
    fields: dict[str, object] = {}
    _FIELDS.set(fields)
    return fields


def annotate(**fields: object) -> None:
    """Add fields to the current call's log line (no-op outside a call)."""
    current = _FIELDS.get()
    if current is not None:
        current.update(fields)
