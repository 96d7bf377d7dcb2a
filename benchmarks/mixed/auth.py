"""Who sends which API key in a mixed load run, and the keyed mode's own keys.

Open mode (the default) sends no key, or the keys given on the command line per client role
(``--api-key``, ``--role-key``, for a ``--target`` server). Keyed mode (``--auth keys``) makes
its own keys (``secrets.token_urlsafe``), writes them to a ``MATCHER_API_KEYS_FILE`` in a
temporary directory for its own server, and sends each call with the least-privileged key
that may make it (``matcher.access.roles``):

============================ ================================================================
key (role)                   calls
============================ ================================================================
``load-registry`` registry   UpsertVolunteers (registering the volunteers; setup)
``load-resident-<k>``        one per resident client thread: SubmitOrder, GetOrder, RateOrder,
resident_app                 CancelOrder of its own orders
``load-vol-<n>``             one per registered volunteer: ListOffers, WatchOffers,
volunteer_app                AcceptOffer, DeclineOffer of its offers; CompleteOrder as
                             ACTOR_VOLUNTEER of an order it accepted
``load-dispatcher``          RunDispatchRound, Match, ListOrders (console, centre), CompleteOrder
dispatcher                   as ACTOR_CENTRE, GetBalance, GetBranchSummary
``load-admin`` admin         RedeemHours (admin only)
``load-checker`` dispatcher  the reads of the consistency checks and the enforcement probes
                             (after the load; ``rate_per_second = 0``: never rate-limited)
============================ ================================================================

The registry and checker keys carry ``rate_per_second = 0`` (no limit) so that a run with
``--rate-limit`` limits the load, not its setup or its checks.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.mixed.calls import Metadata
from matcher.access.keys import TOKEN_BYTES, hash_token

#: Client roles of the open mode's ``--role-key`` (plus ``registry``, ``admin``).
ROLE_NAMES = ("resident", "volunteer", "centre", "dispatcher", "matcher", "registry", "admin")


def bearer(token: str, header: str = "authorization") -> Metadata:
    """Call metadata carrying ``token`` (``authorization: Bearer <token>``)."""
    if header.lower() == "authorization":
        return (("authorization", f"Bearer {token}"),)
    return ((header.lower(), token),)


@dataclass(frozen=True)
class CallKeys:
    """The call metadata of every caller. ``roles`` holds the shared ones: ``resident``,
    ``volunteer`` (fallbacks when there is no per-client key), ``centre`` (the console and
    the centre's reads and completions), ``dispatcher``, ``matcher``, ``registry``, ``admin``
    and ``checker``."""

    roles: Mapping[str, Metadata]
    residents: Mapping[int, tuple[str, Metadata]] = field(default_factory=dict)
    volunteers: Mapping[str, Metadata] = field(default_factory=dict)
    #: The run made the keys and its server enforces them.
    keyed: bool = False
    #: Whether the id of the key a resident submits with is known (it scopes idempotency
    #: keys): in open mode there is none, with a ``--role-key`` for a target it is unknown.
    owners_known: bool = True

    def resident(self, k: int) -> Metadata:
        found = self.residents.get(k)
        return found[1] if found else self.roles["resident"]

    def owner(self, k: int) -> str | None:
        """The key id resident client ``k`` submits as ("" open mode, None unknown)."""
        found = self.residents.get(k)
        if found:
            return found[0]
        return "" if self.owners_known else None

    def volunteer(self, volunteer_id: str) -> Metadata:
        return self.volunteers.get(volunteer_id, self.roles["volunteer"])

    def completion(self, volunteer_id: str) -> Metadata:
        """A completion as ACTOR_VOLUNTEER: that volunteer's own key when it has one."""
        return self.volunteers.get(volunteer_id, self.roles["centre"])


def open_keys(api_keys: Mapping[str, str], header: str) -> CallKeys:
    """Open mode: per role the role's key or the ``*`` key (none: no metadata)."""
    roles: dict[str, Metadata] = {}
    for role in ROLE_NAMES:
        key = api_keys.get(role) or api_keys.get("*")
        roles[role] = bearer(key, header) if key else ()
    for role in ("registry", "admin"):  # the centre's key did these before they had their own
        if not (api_keys.get(role) or api_keys.get("*")):
            roles[role] = roles["centre"]
    roles["checker"] = roles["centre"]
    return CallKeys(roles, owners_known=not roles["resident"])


@dataclass(frozen=True)
class KeyFile:
    """The keys of a keyed run: what the clients send and the file the server reads."""

    calls: CallKeys
    path: Path
    count: int


def make_keys(directory: Path, residents: Iterable[int], volunteer_ids: Iterable[str]) -> KeyFile:
    """Fresh tokens for every caller (see the module docstring), and the keys file."""
    entries: list[str] = []

    def add(key_id: str, role: str, *, volunteer_id: str = "", unlimited: bool = False) -> Metadata:
        token = secrets.token_urlsafe(TOKEN_BYTES)
        lines = ["[[keys]]", f'id = "{key_id}"', f'role = "{role}"']
        lines.append(f'sha256 = "{hash_token(token)}"')
        if volunteer_id:
            lines.append(f"volunteer_id = {json.dumps(volunteer_id)}")  # a TOML string too
        if unlimited:
            lines.append("rate_per_second = 0")
        entries.append("\n".join(lines) + "\n")
        return bearer(token)

    dispatcher = add("load-dispatcher", "dispatcher")
    roles = {
        "dispatcher": dispatcher,
        "centre": dispatcher,
        "matcher": dispatcher,
        "registry": add("load-registry", "registry", unlimited=True),
        "admin": add("load-admin", "admin"),
        "checker": add("load-checker", "dispatcher", unlimited=True),
        "resident": (),  # every resident client has its own key
        "volunteer": (),  # every volunteer has its own key
    }
    resident_keys = {
        k: (f"load-resident-{k}", add(f"load-resident-{k}", "resident_app")) for k in residents
    }
    volunteer_keys = {
        vid: add(f"load-vol-{n}", "volunteer_app", volunteer_id=vid)
        for n, vid in enumerate(volunteer_ids)
    }
    path = directory / "api_keys.toml"
    path.write_text("\n".join(entries), encoding="utf-8")
    path.chmod(0o600)
    calls = CallKeys(roles, resident_keys, volunteer_keys, keyed=True)
    return KeyFile(calls, path, len(entries))
