"""The data-set marker: how a server notices that its Redis lost its data.

Redis may come back empty: restarted without persistence, emptied by ``FLUSHALL``, or failed
over to a replica that never had the data. Nothing in the data itself says so (an empty
registry and order book are valid), so each data set carries a marker, one key:

``<p>:data-set``, a string, compact JSON: ``{"id": <random>, "created_ms": <ms>,
"origin": "new" | "adopted" | "accepted"}`` for a live data set (created on an empty Redis,
adopted from data written before markers existed, or accepted by an operator), or
``{"lost_ms": <ms>, "previous": <id>}`` once a server has noticed the loss.

A server reads the marker at its first probe (``DataSetMarker.verify``, or before its first
write): with none and no data under the prefix it writes a new one, with none but data
(a deployment older than markers) it adopts the data and writes one; then it remembers the
marker. From then on every probe reads it again (one GET). When it is gone, or replaced by
another server's new one, the data set is lost: the server writes the loss marker (so that a
server started later, or restarted by its orchestrator, does not mistake the empty Redis for
a new one), health turns NOT_SERVING, reads are refused, and every write script checks the
marker inside Redis before it writes anything (``redis_base.GuardedScript``), so no write
lands in the empty world between two probes. All of them fail with ``DataSetLostError``, a
``StoreUnavailableError`` (UNAVAILABLE): the data will not come back by retrying a call
differently, but the same call succeeds unchanged once the data set is settled, as after any
outage, and health says NOT_SERVING meanwhile.

It is settled when the remembered marker is back (the data restored from a backup, or a
failover back to the primary), or when an operator accepts the empty data set with
``matcher store accept-empty`` (``accept_empty``), which writes a marker of origin
``accepted``; servers adopt such a marker. The memory store needs none: its data ends with
the process. The prefix's Redis must not evict keys (``maxmemory-policy noeviction``, as the
stores need anyway): an evicted marker reads as a lost data set.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

from matcher.errors import StoreUnavailableError

if TYPE_CHECKING:
    import redis

logger = logging.getLogger(__name__)

#: What the operator runs to accept an emptied data set.
ACCEPT_COMMAND = "matcher store accept-empty"

# Sets KEYS[1] to ARGV[2] if it still holds ARGV[1] ("" for absent); 1 if it did.
_SWAP = r"""
if (redis.call('GET', KEYS[1]) or '') ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
return 1
"""


def marker_key(prefix: str) -> str:
    """The marker's key under ``prefix``."""
    return f"{prefix}:data-set"


#: How a data set usually gets lost, for messages.
LOSS_CAUSES = "Redis restarted without persistence, was flushed, or failed over to an empty replica"


class DataSetLostError(StoreUnavailableError):
    """The Redis data set under the prefix was lost (its marker is gone): writes and reads
    are refused until the marker is back or an operator accepts the empty data set.
    ``cause`` says what the marker showed."""

    def __init__(self, prefix: str, cause: str) -> None:
        self.cause = cause
        super().__init__(
            f"the data set under prefix {prefix} was lost ({cause}; {LOSS_CAUSES}): calls are "
            f"refused until the data is restored or an operator runs {ACCEPT_COMMAND}"
        )


@dataclass(frozen=True)
class Marker:
    """A marker's content: live (``id`` set) or the record of a loss (``lost_ms`` set)."""

    id: str = ""
    created_ms: int = 0
    origin: str = ""  # new, adopted or accepted
    lost_ms: int = 0
    previous: str = ""
    stored: str = field(default="", compare=False, repr=False)  # the text it was read from

    @property
    def live(self) -> bool:
        """Whether this marks a live data set (not a loss)."""
        return self.id != ""

    @property
    def text(self) -> str:
        """The stored text: as it was read, or the fields that are set as compact JSON."""
        if self.stored:
            return self.stored
        fields = {k: v for k, v in asdict(self).items() if v not in ("", 0)}
        return json.dumps(fields, separators=(",", ":"), sort_keys=True)

    @classmethod
    def fresh(cls, origin: str, now_ms: int) -> Marker:
        """A live marker with a new random id."""
        return cls(id=secrets.token_hex(8), created_ms=now_ms, origin=origin)

    @classmethod
    def parse(cls, raw: bytes | str) -> Marker:
        """A stored marker; unreadable text counts as a loss (of an unknown data set)."""
        text = _text(raw)
        try:
            found = json.loads(text)
            known = {k: found[k] for k in found if k in cls.__dataclass_fields__}
            return cls(**{**known, "stored": text})
        except (ValueError, TypeError):
            return cls(lost_ms=1, stored=text)


def _text(raw: bytes | str) -> str:
    return raw.decode(errors="replace") if isinstance(raw, bytes) else raw


class DataSetMarker:
    """The marker of one data set (``prefix`` on ``client``) as one server remembers it.

    ``verify`` reads it (and writes it when the data set is new); ``ensure`` returns the
    remembered marker, verifying first if there is none yet; ``check`` raises without a round
    trip while the data set is known to be lost. Safe to share between threads (the stores
    of one server share one).
    """

    def __init__(
        self, client: redis.Redis, prefix: str, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.key = marker_key(prefix)
        self._client = client
        self._prefix = prefix
        self._clock = clock
        self._swap = client.register_script(_SWAP)
        self._lock = threading.Lock()
        self._remembered: Marker | None = None
        self._lost: DataSetLostError | None = None

    @property
    def remembered(self) -> Marker | None:
        """The live marker this server works under (None before the first verify)."""
        return self._remembered

    def check(self) -> None:
        """Raise ``DataSetLostError`` if the last look found the data set lost (no round trip)."""
        lost = self._lost
        if lost is not None:
            raise lost

    def ensure(self) -> Marker:
        """The remembered marker (verified first if there is none yet); ``DataSetLostError``
        while the data set is lost."""
        self.check()
        remembered = self._remembered
        if remembered is None:
            self.verify()
            remembered = self._remembered
            assert remembered is not None  # verify raises otherwise
        return remembered

    def verify(self) -> None:
        """Read the marker and settle what it says (see the module docstring); raises
        ``DataSetLostError`` when the data set is lost. Redis errors propagate."""
        with self._lock:
            raw = self._client.get(self.key)
            if self._remembered is None:
                raw = self._establish(raw)
            found = None if raw is None else _text(raw)
            remembered = self._remembered
            if remembered is not None and found == remembered.text:
                self._lost = None
                return
            marker = None if found is None else Marker.parse(found)
            if (
                marker is not None
                and marker.live
                and (remembered is None or marker.origin == "accepted")
            ):
                self._adopt(marker)
                return
            self._lost = self._lose(found, marker)
        raise self._lost

    def _establish(self, raw: bytes | str | None) -> bytes | str | None:
        """The first look: write a marker when there is none; the marker now in place."""
        if raw is not None:
            return raw
        adopted = self._has_data()
        fresh = Marker.fresh("adopted" if adopted else "new", self._now_ms())
        if self._client.set(self.key, fresh.text, nx=True):
            what = (
                "adopted: it had data but no marker (written before markers existed)"
                if adopted
                else "is new"
            )
            logger.info(
                "data set under prefix %s %s; wrote marker %s id=%s",
                self._prefix,
                what,
                self.key,
                fresh.id,
            )
        found: bytes | str | None = self._client.get(self.key)
        return found

    def _has_data(self) -> bool:
        """Whether any key other than the marker lives under the prefix (one SCAN pass at
        most, on a server's first start only)."""
        pattern = _glob_escape(self._prefix) + ":*"
        for key in self._client.scan_iter(match=pattern, count=1000):
            if _text(key) != self.key:
                return True
        return False

    def _adopt(self, marker: Marker) -> None:
        previous, self._remembered, self._lost = self._remembered, marker, None
        if previous is not None:
            logger.info(
                "data set under prefix %s: the operator accepted a new data set (marker %s "
                "id=%s); writes allowed again",
                self._prefix,
                self.key,
                marker.id,
            )

    def _lose(self, found: str | None, marker: Marker | None) -> DataSetLostError:
        """Record the loss in Redis (once, unless someone changed the marker meanwhile) and
        the error to raise."""
        remembered = self._remembered
        if marker is None or marker.live:
            was = remembered.id if remembered is not None else ""
            loss = Marker(lost_ms=self._now_ms(), previous=was)
            self._swap(keys=[self.key], args=[found or "", loss.text])
        if found is None:
            cause = f"its marker {self.key} is gone"
        elif marker is not None and marker.live:
            cause = f"its marker {self.key} was replaced by another server's new data set"
        else:
            cause = f"its marker {self.key} says a server found it lost"
        return DataSetLostError(self._prefix, cause)

    def _now_ms(self) -> int:
        return int(self._clock() * 1000)


def accept_empty(
    client: redis.Redis, prefix: str, *, clock: Callable[[], float] = time.time
) -> tuple[Marker, bool]:
    """Accept the data set under ``prefix`` as it is now (an operator's decision after a
    loss): write a live marker of origin ``accepted`` unless a live one is in place. Returns
    the marker in place and whether this call wrote it."""
    key = marker_key(prefix)
    swap = client.register_script(_SWAP)
    for _ in range(5):
        raw = client.get(key)
        found = None if raw is None else _text(raw)
        if found is not None and Marker.parse(found).live:
            return Marker.parse(found), False
        fresh = Marker.fresh("accepted", int(clock() * 1000))
        if swap(keys=[key], args=[found or "", fresh.text]):
            return fresh, True
    raise StoreUnavailableError(f"the marker {key} kept changing; try again")


def _glob_escape(text: str) -> str:
    """``text`` with the SCAN MATCH pattern characters escaped."""
    return "".join("\\" + c if c in "*?[]\\" else c for c in text)
