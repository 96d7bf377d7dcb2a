"""Who is calling: the authenticated principal of the current call.

The access interceptor sets it at the start of every call it guards (in the thread that runs
the servicer); servicers read it with ``current()``. In open (development) mode, and outside
any call, it is ``OPEN``: no key, every permission.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass

from matcher.access.roles import Role


@dataclass(frozen=True)
class Principal:
    """A caller: the key's id, its role and (``volunteer_app`` only) its volunteer."""

    key_id: str
    role: Role
    volunteer_id: str = ""


#: The caller when the server runs without keys.
OPEN = Principal(key_id="", role=Role.ADMIN)

_CURRENT: ContextVar[Principal] = ContextVar("matcher_principal", default=OPEN)


def current() -> Principal:
    """The principal of the call running in this thread."""
    return _CURRENT.get()


def enter(principal: Principal) -> None:
    """Make ``principal`` the current one (set afresh at the start of every guarded call)."""
    _CURRENT.set(principal)
