"""A seeded dispatch backlog for ``python -m benchmarks.rounds``: a registry of Gonghe
volunteers and N live orders in an order store, as a busy centre has them between two rounds.

The orders are the requests of ``synthetic.gonghe_day`` (the service day starts an hour after
the clock), each with a history: up to three earlier offers declined or expired (so each
order excludes those volunteers), then, by ``Mix``, left PENDING, OFFERED (some offers past
their deadline, so the round expires them) or ACCEPTED, and a few have a service start that
has already come (the round lapses them). Offers go to volunteers whose availability covers
the service, so their holds cut the pool the round solves against. Each order is written
through the store's ``create`` and one ``commit`` with the holds it implies, so the store's
indexes are the ones the service keeps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from matcher.core.model import RequestBatch, Urgency, VolunteerPool
from matcher.core.skills import SKILL_CODES, mask_codes
from matcher.orders import lifecycle
from matcher.orders.model import Order, OrderState, Resident, ServiceSpec
from matcher.orders.store.base import OrderStore
from matcher.registry.model import Profile, VolunteerRecord
from matcher.registry.store.memory import MemoryStore
from matcher.tools.synthetic import DEFAULT_DAY, HOUR, day_start, gonghe_day

#: The clock of every backlog: 06:00 on the service day (services run 07:00-22:00).
NOW_S = day_start(DEFAULT_DAY) + 6 * HOUR
MINUTE_MS = 60_000


@dataclass(frozen=True)
class Mix:
    """Shares of the live orders by state, and of the open offers already overdue."""

    pending: float = 0.4
    offered: float = 0.35  # the rest are ACCEPTED
    overdue: float = 0.3  # of the OFFERED orders' offers
    lapsing: float = 0.02  # of all orders: the service start has come
    earlier_offers: int = 3  # declined or expired before, at most, per order


@dataclass(frozen=True)
class Backlog:
    """What was built: the registry, the clock time and the orders per state."""

    registry: MemoryStore
    now_s: int
    counts: dict[str, int]


class FixedClock:
    """Seconds since the epoch, set by hand (a round reads it for deadlines)."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def registry_of(pool: VolunteerPool) -> MemoryStore:
    """A registry holding ``pool`` (every volunteer active, no branch)."""
    records = []
    for i, vid in enumerate(pool.ids):
        skills = tuple(
            (SKILL_CODES[c], int(lv)) for c, lv in enumerate(pool.levels[i].tolist()) if lv
        )
        mine = np.flatnonzero(pool.window_owner == i)
        windows = tuple((int(pool.window_start[w]), int(pool.window_end[w])) for w in mine.tolist())
        profile = Profile(
            skills,
            float(pool.lat[i]),
            float(pool.lon[i]),
            windows,
            float(pool.max_travel_km[i]),
            float(pool.rating[i]),
            int(pool.rating_count[i]),
            float(pool.recent_hours[i]),
        )
        records.append(VolunteerRecord(vid, profile))
    registry = MemoryStore()
    registry.upsert(records)
    return registry


def build_backlog(
    store: OrderStore, seed: int, orders: int, volunteers: int, ttl_ms: int, mix: Mix = Mix()
) -> Backlog:
    """Write ``orders`` live orders into ``store`` (empty) against ``volunteers`` volunteers."""
    requests, pool = gonghe_day(seed, orders, volunteers, day=DEFAULT_DAY)
    rng = np.random.default_rng(seed + 1)
    now_ms = NOW_S * 1000
    held: dict[str, list[tuple[int, int]]] = {}
    counts = dict.fromkeys((s.name for s in OrderState), 0)
    counts["overdue_offers"] = 0
    for r in range(orders):
        spec = _spec(requests, r, lapsing=rng.random() < mix.lapsing)
        order = _history(_submitted(f"ord-{r:06d}", spec, now_ms), pool, rng, mix)
        stored, _ = store.create(order)
        target = int(rng.choice(3, p=(mix.pending, mix.offered, 1 - mix.pending - mix.offered)))
        overdue = target == 1 and rng.random() < mix.overdue
        deadline = now_ms - MINUTE_MS if overdue else now_ms + int(rng.integers(1, ttl_ms))
        final = _live(stored, pool, rng, target, deadline, held)
        if final != stored:
            holds = lifecycle.hold_changes(stored, final)
            final = store.commit(final, holds, now_ms=now_ms)
        counts[final.state.name] += 1
        counts["overdue_offers"] += sum(1 for o in final.open_offers if o.deadline_ms <= now_ms)
    return Backlog(registry_of(pool), NOW_S, counts)


def _spec(requests: RequestBatch, r: int, *, lapsing: bool) -> ServiceSpec:
    start, end = int(requests.start[r]), int(requests.end[r])
    if lapsing:
        start, end = NOW_S - 10 * 60, NOW_S + (end - start)
    return ServiceSpec(
        skills=tuple(sorted(mask_codes(int(requests.skill_mask[r])))),
        lat=float(requests.lat[r]),
        lon=float(requests.lon[r]),
        start=start,
        end=end,
        urgency=Urgency(int(requests.urgency[r])),
        volunteers_needed=int(requests.slots[r]),
        remote=bool(requests.remote[r]),
        max_distance_km=float(requests.max_distance_km[r]),
    )


def _submitted(order_id: str, spec: ServiceSpec, now_ms: int) -> Order:
    resident = Resident(f"res-{order_id}", "138-0000-0000")
    at = now_ms - 60 * MINUTE_MS
    return lifecycle.submit(order_id, "grid-1", resident, spec, order_id, at)


def _free_volunteers(pool: VolunteerPool, spec: ServiceSpec) -> np.ndarray:
    """Rows of the volunteers with a window covering the service (any skills)."""
    covers = (pool.window_start <= spec.start) & (pool.window_end >= spec.end)
    return np.unique(pool.window_owner[covers])


def _history(order: Order, pool: VolunteerPool, rng: np.random.Generator, mix: Mix) -> Order:
    """Earlier offers, each declined or expired (they hold nothing any more)."""
    rows = _free_volunteers(pool, order.spec)
    n = min(int(rng.integers(0, mix.earlier_offers + 1)), len(rows))
    at = order.created_ms
    for row in rng.choice(rows, size=n, replace=False).tolist():
        at += 5 * MINUTE_MS
        order = lifecycle.offer(order, pool.ids[row], (0, 0), 1.0, at + MINUTE_MS, at)
        made = order.offers[-1].offer_id
        if rng.random() < 0.5:
            order = lifecycle.decline(order, made, at + 1000)
        else:
            order = lifecycle.expire_offers(order, at + MINUTE_MS)
    return order


def _live(
    stored: Order,
    pool: VolunteerPool,
    rng: np.random.Generator,
    target: int,
    deadline_ms: int,
    held: dict[str, list[tuple[int, int]]],
) -> Order:
    """Offer (target 1) or offer and accept (target 2) every open slot, each to a volunteer
    free then (``held``: the spans this build has given each volunteer so far)."""
    if target == 0:
        return stored
    order = stored
    rows = _free_volunteers(pool, stored.spec).tolist()
    rng.shuffle(rows)
    span = (stored.spec.start, stored.spec.end)
    for row in rows:
        vid = pool.ids[row]
        if order.open_slots == 0:
            break
        taken = held.setdefault(vid, [])
        if vid in order.offered_volunteers or any(s < span[1] and span[0] < e for s, e in taken):
            continue
        taken.append(span)
        at = min(deadline_ms, order.updated_ms + MINUTE_MS) - 1
        order = lifecycle.offer(order, vid, (0, 0), 2.0, deadline_ms, at)
        if target == 2:
            order = lifecycle.accept(order, order.offers[-1].offer_id, at)
    return order
