"""What an order does to the volunteer registry, applied exactly once through an outbox.

The effects of an order write (``effects_of``):

* accepted: the service window is cut out of the volunteer's availability (a window around
  it splits in two), so the time is no longer offered by any Match on the registry;
* cancelled after acceptance: the time is given back (merged with touching windows); not
  when the dispatcher closed the order uncompleted (``closed_uncompleted``: the time is past);
* completed: the hours served are added to ``recent_hours`` (the scoring's fairness term);
* rated: the rating is folded into the mean (``rating``, ``rating_count``); the scoring
  shrinks that mean towards its prior, so one rating does not dominate.

**Exactly once.** The registry and the orders are two stores, so no single write covers
both. The order's commit stores its effects in the order store's outbox in the same atomic
step (``OrderStore.commit(effects=...)``), leased to the committing process. That process
then applies each (``RegistryOutbox.apply``): it reads the volunteer's record (version v),
records in the outbox entry that it is writing against v with a digest of the profile it
writes, writes the record with ``expected_versions={id: v}`` (a concurrent write makes it
re-read and try again) and settles the entry. A process that dies anywhere on the way leaves
the entry; once its lease (``MATCHER_REGISTRY_OUTBOX_LEASE_SECONDS``) has run out, any
process replays it (``RegistryOutbox.replay``: at start-up and in every dispatch round),
claiming it first so that only one does. A replay decides from the record whether the dead
process's write landed: still at v, it did not (apply it); at v + 1 with the recorded
digest, or beyond v + 1, it did (settle); at v + 1 with another profile, someone else wrote
instead (apply on top). So an effect is applied once even when the process died between the
registry write and the settle. What is left: a process stalled for longer than the lease
between its claim and its write could race the replay; and if it died inside its registry
call and two or more other writes reached that volunteer before the replay, the replay
assumes the write landed (logged). A replayed cut is skipped if the order was cancelled
since. The dispatcher does not rely on the cut for correctness (the order store's holds
keep the time booked).
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
import signal
import uuid
from collections.abc import Callable, Sequence

from matcher.core.intervals import merge, subtract
from matcher.errors import ConflictError, StoreUnavailableError
from matcher.orders.model import (
    EffectKind,
    Event,
    OfferState,
    Order,
    OrderState,
    RegistryEffect,
)
from matcher.orders.store.base import OrderStore
from matcher.registry.model import Profile, VolunteerRecord
from matcher.registry.store.base import VolunteerStore

logger = logging.getLogger(__name__)

#: Attempts of one read-modify-write when other writes keep racing it.
ATTEMPTS = 8
_DONE = (OrderState.COMPLETED, OrderState.RATED)


def effects_of(before: Order, after: Order, version: int) -> tuple[RegistryEffect, ...]:
    """The registry effects of the write from ``before`` to ``after`` (stored as ``version``),
    numbered ``<order id>@<version>.<n>``."""
    found: list[tuple[str, EffectKind, int]] = []
    spec = after.spec
    for made in after.offers:
        old = before.offer(made.offer_id)
        if made.state is OfferState.ACCEPTED and old is not None and old.state is OfferState.OPEN:
            found.append((made.volunteer_id, EffectKind.CUT, 0))
    accepted = after.accepted_volunteers
    closed = bool(after.history) and after.history[-1].event is Event.CLOSE
    if after.state is OrderState.CANCELLED and before.state is not OrderState.CANCELLED:
        found += [] if closed else [(v, EffectKind.GIVE_BACK, 0) for v in accepted]
    if after.state in _DONE and before.state not in _DONE:
        found += [(v, EffectKind.HOURS, after.minutes_served) for v in accepted]
    if after.state is OrderState.RATED and before.state is not OrderState.RATED:
        found += [(v, EffectKind.RATING, after.stars) for v in accepted]
    return tuple(
        RegistryEffect(f"{after.order_id}@{version}.{n}", vid, kind, spec.start, spec.end, amount)
        for n, (vid, kind, amount) in enumerate(found, start=1)
    )


def changed(profile: Profile, effect: RegistryEffect) -> Profile:
    """``profile`` after ``effect``."""
    if effect.kind in (EffectKind.CUT, EffectKind.GIVE_BACK):
        change = subtract if effect.kind is EffectKind.CUT else merge
        windows = change(profile.windows, effect.start, effect.end)
        return dataclasses.replace(profile, windows=windows)
    if effect.kind is EffectKind.HOURS:
        return dataclasses.replace(profile, recent_hours=profile.recent_hours + effect.amount / 60)
    count = profile.rating_count + 1
    mean = (profile.rating * profile.rating_count + effect.amount) / count
    return dataclasses.replace(profile, rating=round(mean, 6), rating_count=count)


def digest(profile: Profile) -> str:
    """A short digest of a profile (to recognise the one a write produced)."""
    return hashlib.sha256(repr(profile).encode()).hexdigest()[:16]


def landed(record: VolunteerRecord, effect: RegistryEffect) -> bool:
    """Whether the write ``effect`` last attempted reached ``record`` (see the docstring)."""
    after = effect.attempt_version + 1
    return record.version > after or (
        record.version == after and digest(record.profile) == effect.attempt_digest
    )


def _sequence(effect: RegistryEffect) -> tuple[str, int, int]:
    """(order id, order version, n) of an effect id: the order effects are replayed in."""
    order_id, _, tail = effect.effect_id.rpartition("@")
    version, _, n = tail.partition(".")
    return order_id, int(version), int(n)


class RegistryOutbox:
    """Applies the outbox of ``orders`` to ``registry``, each effect once (see the module
    docstring); ``crash_at`` is the tests' crash point (``MATCHER_TEST_CRASH_AT``)."""

    def __init__(
        self,
        orders: OrderStore,
        registry: VolunteerStore,
        now_ms: Callable[[], int],
        lease_seconds: float,
        crash_at: str = "",
    ) -> None:
        self.orders = orders
        self.registry = registry
        self.now_ms = now_ms
        self.lease_ms = int(lease_seconds * 1000)
        self.crash_at = crash_at
        self.token = uuid.uuid4().hex  # this process's claims

    def leased(self, effects: Sequence[RegistryEffect], now_ms: int) -> list[RegistryEffect]:
        """``effects`` as a commit stores them: claimed by this process from ``now_ms``."""
        return [dataclasses.replace(e, claim=self.token, claimed_ms=now_ms) for e in effects]

    def crash_point(self, name: str) -> None:
        """Tests only: die here, at once and without cleanup, as a SIGKILL would."""
        if self.crash_at == name:
            logger.warning("MATCHER_TEST_CRASH_AT=%s: killing the process", name)
            os.kill(os.getpid(), signal.SIGKILL)

    def apply(self, effects: Sequence[RegistryEffect]) -> None:
        """Apply effects this process committed (it holds their lease); an unreachable
        registry leaves them to a replay."""
        try:
            for effect in effects:
                self._apply(effect)
        except StoreUnavailableError:
            logger.warning("registry unreachable: %d side effects left to replay", len(effects))

    def replay(self) -> int:
        """Apply every effect whose lease ran out; returns how many were settled."""
        now = self.now_ms()
        due = [e for e in self.orders.pending_effects() if e.claimed_ms + self.lease_ms <= now]
        settled = 0
        for effect in sorted(due, key=_sequence):
            claimed = dataclasses.replace(effect, claim=self.token, claimed_ms=now)
            if not self.orders.replace_effect(effect, claimed):
                continue  # another process claimed or settled it first
            settled += self._replay(claimed)
        if due:
            logger.info("registry outbox: %d of %d due side effects replayed", settled, len(due))
        return settled

    def _replay(self, effect: RegistryEffect) -> int:
        """Apply one claimed effect left by another process; 1 if it is settled now."""
        if effect.kind is EffectKind.CUT and self._cancelled(effect):
            self.orders.settle_effect(effect.effect_id)
            return 1
        if effect.attempt_version:
            record = self.registry.get(effect.volunteer_id)
            if record is not None and landed(record, effect):
                if record.version > effect.attempt_version + 1:
                    logger.warning("side effect %s presumed applied", effect.effect_id)
                self.orders.settle_effect(effect.effect_id)
                return 1
        return int(self._apply(effect))

    def _cancelled(self, effect: RegistryEffect) -> bool:
        order = self.orders.get(_sequence(effect)[0])
        return order is not None and order.state is OrderState.CANCELLED

    def _apply(self, held: RegistryEffect) -> bool:
        """Read, change and write the record at the version read, recording the attempt
        first; True once the effect is settled."""
        vid = held.volunteer_id
        for _ in range(ATTEMPTS):
            record = self.registry.get(vid)
            if record is None:
                logger.warning("volunteer %s is no longer registered; not updated", vid)
                self.orders.settle_effect(held.effect_id)
                return True
            profile = changed(record.profile, held)
            if profile != record.profile:
                attempt = dataclasses.replace(
                    held,
                    claimed_ms=self.now_ms(),
                    attempt_version=record.version,
                    attempt_digest=digest(profile),
                )
                if not self.orders.replace_effect(held, attempt):
                    return False  # our lease ran out and another process took it over
                held = attempt
                try:
                    self.registry.upsert(
                        [dataclasses.replace(record, profile=profile)], {vid: record.version}
                    )
                except ConflictError:
                    continue
                self.crash_point("after-registry-write")
            self.orders.settle_effect(held.effect_id)
            return True
        logger.warning("volunteer %s kept changing; side effect left to replay", vid)
        return False
