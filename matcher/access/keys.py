"""API keys: bearer tokens the server knows only by their SHA-256 digest.

A token is ``secrets.token_urlsafe(32)`` (256 random bits), so one fast hash is the right
store: nothing can be guessed from the digest and no salt or slow hash is needed. A call is
looked up by the digest of the token it sends (a dict lookup; the attacker controls no part
of a digest, so the lookup's timing tells nothing).

Keys come from ``MATCHER_API_KEYS_FILE``, a TOML file::

    [[keys]]
    id = "centre-console"            # 1-64 of A-Z a-z 0-9 _ . -; unique
    role = "dispatcher"              # admin, dispatcher, registry, resident_app, volunteer_app
    sha256 = "<64 hex digits>"       # of the token; `matcher keys new` prints both
    # volunteer_id = "vol-17"        # volunteer_app only, and required there
    # rate_per_second = 50           # overrides MATCHER_RATE_LIMIT_PER_SECOND for this key

and/or ``MATCHER_API_KEYS``: ``id:role:sha256[:volunteer_id]`` entries separated by commas.
With neither, the server runs open (development mode). A malformed entry is a ``ConfigError``
naming the variable, or the file and line.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import secrets
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from matcher.access.roles import Role, parse_role
from matcher.config import ConfigError, Settings

KEYS_FILE_VARIABLE = "MATCHER_API_KEYS_FILE"
KEYS_VARIABLE = "MATCHER_API_KEYS"
TOKEN_BYTES = 32
_ID = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_DIGEST = re.compile(r"[0-9a-f]{64}")
_MAX_VOLUNTEER_ID = 128
_FIELDS = frozenset({"id", "role", "sha256", "volunteer_id", "rate_per_second"})
_ROLES = ", ".join(r.value for r in Role)


@dataclass(frozen=True)
class ApiKey:
    """One configured key. ``rate_per_second`` None means the server-wide limit."""

    key_id: str
    role: Role
    sha256: str = field(repr=False)
    volunteer_id: str = ""
    rate_per_second: float | None = None


def hash_token(token: str) -> str:
    """The stored form of a token: its SHA-256, hex."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    """A fresh random token (256 bits, URL-safe text)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


class KeyRing:
    """The configured keys, found by the digest of a token; empty means open mode."""

    def __init__(self, keys: Iterable[ApiKey] = ()) -> None:
        self._by_digest: dict[str, ApiKey] = {}
        ids: set[str] = set()
        for key in keys:
            if key.key_id in ids:
                raise ConfigError(f"API key id {key.key_id!r} is configured twice")
            if key.sha256 in self._by_digest:
                raise ConfigError(
                    f"API keys {key.key_id!r} and "
                    f"{self._by_digest[key.sha256].key_id!r} have the same sha256"
                )
            ids.add(key.key_id)
            self._by_digest[key.sha256] = key

    @property
    def open(self) -> bool:
        """True when no key is configured (development mode: every call is allowed)."""
        return not self._by_digest

    def __len__(self) -> int:
        return len(self._by_digest)

    def find(self, token: str) -> ApiKey | None:
        """The key whose token this is, or None."""
        return self._by_digest.get(hash_token(token))


def load_key_ring(settings: Settings) -> KeyRing:
    """The keys ``settings`` configure (the keys file, then ``MATCHER_API_KEYS``)."""
    keys: list[ApiKey] = []
    if settings.api_keys_file:
        path = Path(settings.api_keys_file)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as error:
            raise ConfigError(
                f"{KEYS_FILE_VARIABLE}={settings.api_keys_file!r}: cannot read it: "
                f"{error.strerror or error}"
            ) from None
        keys += parse_keys_toml(text, str(path))
    if settings.api_keys:
        keys += parse_keys_env(settings.api_keys)
    return KeyRing(keys)


def parse_keys_env(text: str) -> list[ApiKey]:
    """Keys from ``id:role:sha256[:volunteer_id],...`` (blank entries are skipped)."""
    keys = []
    for n, entry in enumerate(text.split(","), start=1):
        if not entry.strip():
            continue
        parts = entry.strip().split(":", 3)
        where = f"{KEYS_VARIABLE} entry {n}"
        if len(parts) < 3:
            raise ConfigError(f"{where}: expected id:role:sha256[:volunteer_id]")
        values: dict[str, Any] = dict(
            zip(("id", "role", "sha256", "volunteer_id"), parts, strict=False)
        )
        keys.append(key_from_fields(values, where))
    return keys


def parse_keys_toml(text: str, source: str) -> list[ApiKey]:
    """Keys from the ``[[keys]]`` tables of a TOML text (``source`` names it in errors)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{KEYS_FILE_VARIABLE} {source}: not valid TOML: {error}") from None
    unknown = sorted(set(data) - {"keys"})
    if unknown:
        raise ConfigError(f"{KEYS_FILE_VARIABLE} {source}: unknown table(s): {', '.join(unknown)}")
    entries = data.get("keys", [])
    if not isinstance(entries, list):
        raise ConfigError(f"{KEYS_FILE_VARIABLE} {source}: keys must be [[keys]] tables")
    lines = [
        n for n, line in enumerate(text.splitlines(), 1) if line.lstrip().startswith("[[keys]]")
    ]
    keys = []
    for n, entry in enumerate(entries):
        line = f", line {lines[n]}" if n < len(lines) else ""
        where = f"{KEYS_FILE_VARIABLE} {source}{line} ([[keys]] #{n + 1})"
        if not isinstance(entry, dict):
            raise ConfigError(f"{where}: keys must be [[keys]] tables")
        keys.append(key_from_fields(entry, where))
    return keys


def key_from_fields(values: Mapping[str, Any], where: str) -> ApiKey:
    """One key from its fields; ``ConfigError`` naming ``where`` and the field otherwise."""
    unknown = sorted(set(values) - _FIELDS)
    if unknown:
        raise ConfigError(f"{where}: unknown field(s) {', '.join(unknown)}")
    key_id, role_text, digest = (values.get(name) for name in ("id", "role", "sha256"))
    if not isinstance(key_id, str) or _ID.fullmatch(key_id) is None:
        raise ConfigError(f"{where}: id must be 1-64 characters from A-Z a-z 0-9 _ . -")
    role = parse_role(role_text) if isinstance(role_text, str) else None
    if role is None:
        raise ConfigError(f"{where} (id {key_id}): role must be one of {_ROLES}")
    if not isinstance(digest, str) or _DIGEST.fullmatch(digest.lower()) is None:
        raise ConfigError(f"{where} (id {key_id}): sha256 must be 64 hex digits")
    volunteer_id = values.get("volunteer_id", "")
    if not isinstance(volunteer_id, str) or len(volunteer_id) > _MAX_VOLUNTEER_ID:
        raise ConfigError(f"{where} (id {key_id}): volunteer_id must be a string")
    if (role is Role.VOLUNTEER_APP) != (volunteer_id != ""):
        raise ConfigError(
            f"{where} (id {key_id}): volunteer_id is required for role volunteer_app "
            "and not allowed for other roles"
        )
    rate = values.get("rate_per_second")
    if rate is not None and (
        isinstance(rate, bool)
        or not isinstance(rate, int | float)
        or not (math.isfinite(rate) and 0 <= rate <= 1e6)
    ):
        raise ConfigError(f"{where} (id {key_id}): rate_per_second must be a number in [0, 1e6]")
    return ApiKey(key_id, role, digest.lower(), volunteer_id, None if rate is None else float(rate))


def toml_entry(key: ApiKey) -> str:
    """The ``[[keys]]`` table of ``key``, to paste into the keys file."""
    lines = ["[[keys]]", f'id = "{key.key_id}"', f'role = "{key.role.value}"']
    lines.append(f'sha256 = "{key.sha256}"')
    if key.volunteer_id:
        # a JSON string is a valid TOML basic string (same escapes, \uXXXX included)
        lines.append(f"volunteer_id = {json.dumps(key.volunteer_id, ensure_ascii=False)}")
    return "\n".join(lines) + "\n"
