"""What an order does to the volunteer registry, applied after the order's write.

* accepted: the service window is cut out of the volunteer's availability (a window around
  it splits in two), so the time is no longer offered by any Match on the registry;
* cancelled after acceptance: the time is given back (merged with touching windows);
* completed: the hours served are added to ``recent_hours`` (the scoring's fairness term);
* rated: the rating is folded into the mean (``rating``, ``rating_count``); the scoring
  shrinks that mean towards its prior, so one rating does not dominate.

Each change is a read-modify-write through ``VolunteerStore.upsert`` with the version read
(``expected_versions``), retried when another write got in between. The dispatcher does not
rely on the cut for correctness (the order store's holds already keep the time booked), so
these run after the order's atomic write; an unreachable registry is logged, and cuts for
accepted orders are re-applied at start-up (``reapply_cuts``; a cut is idempotent).
"""

from __future__ import annotations

import dataclasses
import functools
import logging
from collections.abc import Callable, Iterable

from matcher.core.intervals import Span, merge, subtract
from matcher.errors import ConflictError, StoreUnavailableError
from matcher.orders.model import OfferState, Order, OrderState, ServiceSpec
from matcher.registry.model import Profile
from matcher.registry.store.base import VolunteerStore

logger = logging.getLogger(__name__)

#: Attempts of one read-modify-write when other writes keep racing it.
ATTEMPTS = 8
_DONE = (OrderState.COMPLETED, OrderState.RATED)

Windows = tuple[Span, ...]


def apply_changes(registry: VolunteerStore, before: Order, after: Order) -> None:
    """Apply to the registry what the write from ``before`` to ``after`` implies."""
    spec = after.spec
    for made in after.offers:
        old = before.offer(made.offer_id)
        if made.state is OfferState.ACCEPTED and old is not None and old.state is OfferState.OPEN:
            _update(registry, made.volunteer_id, lambda p: _with_windows(p, subtract, spec))
    accepted = after.accepted_volunteers
    if after.state is OrderState.CANCELLED and before.state is not OrderState.CANCELLED:
        for vid in accepted:
            _update(registry, vid, lambda p: _with_windows(p, merge, spec))
    if after.state in _DONE and before.state not in _DONE:
        hours = after.minutes_served / 60
        for vid in accepted:
            _update(registry, vid, lambda p: _add_hours(p, hours))
    if after.state is OrderState.RATED and before.state is not OrderState.RATED:
        for vid in accepted:
            _update(registry, vid, lambda p: _add_rating(p, after.stars))


def reapply_cuts(registry: VolunteerStore, orders: Iterable[Order]) -> None:
    """Cut every accepted order's time out of its volunteers' availability (again)."""
    for order in orders:
        for vid in order.accepted_volunteers:
            _update(
                registry, vid, functools.partial(_with_windows, change=subtract, spec=order.spec)
            )


def _with_windows(
    profile: Profile, change: Callable[[Windows, int, int], Windows], spec: ServiceSpec
) -> Profile:
    return dataclasses.replace(profile, windows=change(profile.windows, spec.start, spec.end))


def _add_hours(profile: Profile, hours: float) -> Profile:
    return dataclasses.replace(profile, recent_hours=profile.recent_hours + hours)


def _add_rating(profile: Profile, stars: int) -> Profile:
    count = profile.rating_count + 1
    mean = (profile.rating * profile.rating_count + stars) / count
    return dataclasses.replace(profile, rating=round(mean, 6), rating_count=count)


def _update(
    registry: VolunteerStore, volunteer_id: str, change: Callable[[Profile], Profile]
) -> None:
    """Read, change and write one volunteer's profile, retrying on a version conflict."""
    try:
        for _ in range(ATTEMPTS):
            record = registry.get(volunteer_id)
            if record is None:
                logger.warning("volunteer %s is no longer registered; not updated", volunteer_id)
                return
            profile = change(record.profile)
            if profile == record.profile:
                return
            try:
                registry.upsert(
                    [dataclasses.replace(record, profile=profile)], {volunteer_id: record.version}
                )
                return
            except ConflictError:
                continue
        logger.warning("volunteer %s kept changing; registry not updated", volunteer_id)
    except StoreUnavailableError:
        logger.warning("registry unreachable; volunteer %s not updated", volunteer_id)
