"""One encoding for every composite Redis key and derived id, shared by both stores.

A composite is a fixed word naming its family followed by parts: ``<p>:hold:<volunteer>``,
``volunteer:<id>``, ``redeem:<volunteer>:<key>``. ``join`` writes one: the parts separated by
``:``, every part but the last *percent-escaped* (``%`` as ``%25``, ``:`` as ``%3A``, ``{`` as
``%7B``, ``}`` as ``%7D``). An escaped part holds no ``:``, so in a composite of n parts the
first n - 1 colons are the separators and the last part is the rest, whatever it holds: two
different tuples of n parts never give the same text, and ``split`` gives the parts back.
Every family has a fixed number of parts and a leading word of its own, so no two families
meet either. Before this, ``redeem:<volunteer>:<key>`` joined two free texts with a bare
``:``: volunteer ``adv`` with key ``x:k`` and volunteer ``adv:x`` with key ``k`` were one
transaction, and the second redemption was dropped as a retry of the first.

Why escaped parts (and not length prefixes or a hash of the tuple): a part without reserved
characters (every id the engine makes, nearly every id a client sends) is written as it is,
and so is a last part whatever it holds. So every key and id whose only free text comes last
(``<p>:order:<id>``, ``<p>:hold:<volunteer>``, accounts ``volunteer:<id>``, ``earn:<order>``)
keeps its exact bytes, and data already stored and ids clients hold stay valid. Only
composites with free text before the end change, and only where that text holds a reserved
character: the redemption ids of such volunteers and the record keys of such branches (and
of branch ``_``), which ``matcher store migrate-keys`` (``matcher.tools.migrate_keys``)
rewrites. Length prefixes would change every key; a hash would too, and could not be read
back by operators in ``redis-cli`` or by the migration.

Redis Cluster hash tags: ``hash_tag`` writes ``{<escaped part>}``, the empty part as ``{_}``
and so a part that is exactly ``_`` as ``{%5F}``. An escaped part holds no brace, so the tag
Redis hashes is the whole part: a branch's volunteers share one slot, and no id can open or
close a tag. ``LUA_HASH_TAG`` is the same function for the scripts that build record keys
inside Redis (``matcher.registry.store.scripts``).

Every composite key and derived id, and why two different tuples never meet:

=================================== =========================================================
composite                           encoding
=================================== =========================================================
``<p>:order:<id>``, ``<p>:hold:<v>`` ``redis_key``: one free part, last. ``<p>`` is the
``<p>:offered:<v>``,                deployment's prefix, written as is before every key (two
``<p>:ledger:<account>``            deployments sharing a database need prefixes that are not
                                    one another followed by ``:``)
``<p>:vol:{<branch>}:<id>``         ``record_key``: the branch as a hash tag, the id last
``volunteer:<id>``, ``branch:<id>`` ``join``: ledger accounts (``branch:`` is the head bank)
``earn:<order>``                    ``join``: the transaction of a completion
``redeem:<volunteer>:<key>``        ``join``: the volunteer escaped, the key last
``<branch>\\t<kind>``                a field of ``<p>:bank:branches`` (built in Lua): the kind
                                    is one of three fixed words without a tab, and readers
                                    split at the last tab; kept as it is
``ord-<hex>`` order ids             ``desk.order_id_for``: SHA-256 of the key, or of the API
                                    key id, NUL, the key. Keys are printable (no NUL) and API
                                    key ids ``[A-Za-z0-9_.-]``, so the hashed text is
                                    unambiguous; kept, so retried submissions find their orders
``<order>.<n>`` offer (hold) ids    order ids hold no ``.``; ``offer_order_id`` splits at the
``<order>@<version>.<n>`` effects   last ``.`` (effects: at the last ``@``)
=================================== =========================================================

The memory store keys its dicts by single ids, by volunteer then hold id, or by the ids above.
"""

from __future__ import annotations

import re

#: The characters a part (but the last) never holds once escaped.
RESERVED = "%:{}"
_ESCAPES = str.maketrans({c: f"%{ord(c):02X}" for c in RESERVED})
_UNESCAPES = {f"{ord(c):02X}": c for c in RESERVED}
_ESCAPED_PART = re.compile(r"(?:[^%:{}]|%(?:25|3A|7B|7D))*")
_ESCAPE = re.compile(r"%(25|3A|7B|7D)")


def escape(part: str) -> str:
    """``part`` with each reserved character percent-escaped (unchanged if it has none)."""
    return part.translate(_ESCAPES)


def unescape(text: str) -> str:
    """The part ``escape`` wrote as ``text``; ``ValueError`` if no part escapes to it."""
    if _ESCAPED_PART.fullmatch(text) is None:
        raise ValueError(f"not an escaped part: {text!r}")
    return _ESCAPE.sub(lambda m: _UNESCAPES[m.group(1)], text)


def join(*parts: str) -> str:
    """The composite of ``parts`` (at least one): every part but the last escaped, joined
    with ``:``."""
    if not parts:
        raise ValueError("a composite has at least one part")
    return ":".join([*map(escape, parts[:-1]), parts[-1]])


def split(text: str, count: int) -> tuple[str, ...]:
    """The ``count`` parts ``join`` made ``text`` of; ``ValueError`` if it made none."""
    pieces = text.split(":", count - 1)
    if count < 1 or len(pieces) != count:
        raise ValueError(f"not a composite of {count} parts: {text!r}")
    return (*map(unescape, pieces[:-1]), pieces[-1])


def redis_key(prefix: str, *parts: str) -> str:
    """The Redis key of ``parts`` under the deployment's ``prefix``."""
    return f"{prefix}:{join(*parts)}"


def hash_tag(part: str) -> str:
    """``part`` as a Redis Cluster hash tag: ``{_}`` when empty, ``{%5F}`` for ``_``."""
    if part == "":
        return "{_}"
    if part == "_":
        return "{%5F}"
    return "{" + escape(part) + "}"


def record_key(prefix: str, branch_id: str, volunteer_id: str) -> str:
    """The key of a volunteer's record: its branch is the hash tag, its id comes last."""
    return f"{prefix}:vol:{hash_tag(branch_id)}:{volunteer_id}"


#: ``hash_tag`` in Lua (bytes, but every reserved character is ASCII and no byte of a
#: multi-byte UTF-8 character is, so it escapes exactly what the Python does).
LUA_HASH_TAG = r"""
local function hash_tag(part)
  if part == '' then return '{_}' end
  if part == '_' then return '{%5F}' end
  local escaped = string.gsub(part, '[%%:{}]', function(c)
    return string.format('%%%02X', string.byte(c))
  end)
  return '{' .. escaped .. '}'
end
"""
