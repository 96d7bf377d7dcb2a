"""One dispatch round (中心派单): pending orders -> optimal matching -> atomic offers.

1. **Sweep** every live order: open offers past their deadline expire (the order goes back
   to pending, never to be offered to that volunteer again), and orders whose service time
   has come lapse; ACCEPTED orders not completed within the completion grace after their
   service ended are closed (CANCELLED, ``closed_uncompleted``), releasing their holds. The
   orders that change are written together (``OrderDesk.sweep_many``).
2. **Solve** the pending orders in scope (one request per order, its open slots as slots)
   with ``solve_match`` against the selected pool minus the time already held
   (``pool_cuts``), with each order's earlier volunteers excluded (``ExcludedPairs``).
3. **Reserve**: the matches become offers through ``OrderDesk.offer_many``, one batch per
   slot (every order's first offer, then the second offers of orders that need more), each
   offer's commit holding the volunteer's time atomically on its own. Another dispatcher
   may have taken that time since the solve (``HoldConflictError``: that offer only); the
   round then drops that volunteer and re-solves the orders still pending, up to
   ``MAX_SOLVES`` times. An order another dispatcher offered meanwhile is simply skipped.

Batches keep a round to a few store round trips (on Redis, one Lua call per hundred
writes) instead of one or two per order: under load, each round trip also waits for the
interpreter lock, which made rounds with thousands of offers take tens of seconds.
``RoundReport.timings_ms`` says where a round's time went.

Any crash leaves only whole offers behind (each order's write is atomic), and each expires
at its deadline, so a round cut short never books a volunteer forever.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from matcher.core.exclusions import ExcludedPairs
from matcher.core.model import MatchResult, Policy, RequestBatch, VolunteerPool
from matcher.core.pool_index import PoolIndex
from matcher.core.scoring import haversine_km
from matcher.core.skills import skill_mask
from matcher.core.solve import solve_match
from matcher.orders.desk import OrderDesk
from matcher.orders.model import Offer, OfferState, Order, OrderState
from matcher.orders.pool_cuts import cut_pool
from matcher.orders.store.base import HoldConflictError
from matcher.registry.model import Selector
from matcher.registry.view import PoolView

logger = logging.getLogger(__name__)

#: Solves per round at most (the first, then one per batch of refused reservations).
MAX_SOLVES = 5
_LIVE = (OrderState.PENDING, OrderState.OFFERED)


@dataclass(frozen=True)
class Scope:
    """Which pending orders a round dispatches; criteria combine with AND."""

    branch_ids: tuple[str, ...] = ()
    center: tuple[float, float] | None = None  # (lat, lon)
    radius_km: float = 0.0

    def covers(self, order: Order) -> bool:
        if self.branch_ids and order.branch_id not in self.branch_ids:
            return False
        if self.center is None:
            return True
        if order.spec.remote:
            return False
        lat, lon = self.center
        km = haversine_km(
            np.array([lat]), np.array([lon]), np.array([order.spec.lat]), np.array([order.spec.lon])
        )
        return bool(km[0] <= self.radius_km)


@dataclass
class RoundReport:
    """What one round did."""

    orders_considered: int = 0
    offers: list[tuple[Order, Offer]] = field(default_factory=list)
    orders_unserved: int = 0
    offers_expired: int = 0
    orders_lapsed: int = 0
    orders_closed: int = 0  # ACCEPTED orders closed uncompleted after their grace
    reservation_conflicts: int = 0
    solves: int = 0
    #: Wall time of each part (``sweep``, ``holds``, ``solve``, ``reserve``), ms, summed over
    #: the round's solves.
    timings_ms: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def timing(self, part: str) -> Iterator[None]:
        """Add the wall time of the ``with`` block to ``timings_ms[part]``."""
        started = time.perf_counter()
        try:
            yield
        finally:
            spent = (time.perf_counter() - started) * 1e3
            self.timings_ms[part] = self.timings_ms.get(part, 0.0) + spent


def run_round(
    desk: OrderDesk,
    view: PoolView,
    scope: Scope | None = None,
    selector: Selector | None = None,
    policy: Policy | None = None,
) -> RoundReport:
    """Sweep, then dispatch the pending orders in ``scope`` (see the module docstring)."""
    report = RoundReport()
    with report.timing("sweep"):
        swept = sweep(desk, report)
    pending = [o for o in swept if (scope or Scope()).covers(o)]
    pending = [o for o in pending if o.state is OrderState.PENDING and o.open_slots > 0]
    report.orders_considered = len(pending)
    if pending:
        index = view.current().select(selector or Selector())
        _dispatch(desk, index, pending, policy or Policy(), report)
    return report


def sweep(desk: OrderDesk, report: RoundReport) -> list[Order]:
    """Expire overdue offers, lapse orders whose time came and close ACCEPTED orders past
    their completion grace; returns the live orders."""
    live: list[Order] = []
    ids = desk.orders.ids_in_states(_LIVE)
    orders = [o for o in desk.orders.get_many(ids) if o is not None]
    orders += _overdue_accepted(desk)
    for order, swept in zip(orders, desk.sweep_many(orders), strict=True):
        if not isinstance(swept, Order):
            continue  # it kept changing under us: the next round will see it
        if swept.state is OrderState.CANCELLED and order.state is OrderState.ACCEPTED:
            report.orders_closed += 1
        report.offers_expired += sum(
            1
            for o in swept.offers
            if o.state is OfferState.EXPIRED and order.offer(o.offer_id) != o
        )
        if swept.state not in _LIVE and order.state in _LIVE:
            report.orders_lapsed += 1
        if swept.state in _LIVE:
            live.append(swept)
    return live


def _overdue_accepted(desk: OrderDesk) -> list[Order]:
    """The ACCEPTED orders past their completion grace. An order is submitted before its
    service starts, so none can be overdue unless the oldest ACCEPTED one was submitted more
    than the grace ago: the census (one cheap read) usually spares reading them all."""
    now = desk.now_ms()
    oldest = desk.orders.census()[OrderState.ACCEPTED]
    if not oldest.count or oldest.oldest_created_ms > now - desk.sweep.grace_ms:
        return []
    ids = desk.orders.ids_in_states([OrderState.ACCEPTED])
    return [o for o in desk.orders.get_many(ids) if o is not None and desk.sweep.overdue(o, now)]


def _dispatch(
    desk: OrderDesk, index: PoolIndex, pending: list[Order], policy: Policy, report: RoundReport
) -> None:
    """Solve and reserve, re-solving without the volunteers whose time others took."""
    pool = index.pool
    dropped: set[str] = set()
    while pending and report.solves < MAX_SOLVES:
        now = desk.now_ms()
        with report.timing("holds"):
            holds = [h for h in desk.orders.holds() if h.live(now)]
        with report.timing("solve"):
            round_pool = cut_pool(pool, holds, dropped)
            round_index = index if round_pool is pool else PoolIndex.build(round_pool)
            batch = requests_of(pending)
            excluded = _excluded(pending, pool.ids)
            result = solve_match(batch, round_index, policy, excluded=excluded)
        report.solves += 1
        current = {o.order_id: o for o in pending}
        with report.timing("reserve"):
            refused = _reserve(desk, batch, round_pool, result, current, report)
        dropped |= refused
        report.reservation_conflicts += len(refused)
        pending = [o for o in current.values() if o.state is OrderState.PENDING and o.open_slots]
        if not refused:
            break
    report.orders_unserved = len(pending)


def _reserve(
    desk: OrderDesk,
    batch: RequestBatch,
    pool: VolunteerPool,
    result: MatchResult,
    current: dict[str, Order],
    report: RoundReport,
) -> set[str]:
    """Offer each match (``current`` follows the orders); returns the volunteers whose time
    another dispatcher held first.

    The offers are committed together (``OrderDesk.offer_many``), one per order at a time:
    an order matched to several volunteers gets its first offer in the first batch, its
    second in the next, so a refused offer never takes another slot's offer with it."""
    refused: set[str] = set()
    layers: list[list[tuple[str, str, tuple[int, int], float]]] = []
    seen: dict[str, int] = {}
    for r, v, w, km in zip(
        result.request.tolist(),
        result.volunteer.tolist(),
        result.window.tolist(),
        result.distance_km.tolist(),
        strict=True,
    ):
        order_id = batch.ids[r]
        nth = seen[order_id] = seen.get(order_id, -1) + 1
        if nth == len(layers):
            layers.append([])
        window = (int(pool.window_start[w]), int(pool.window_end[w]))
        layers[nth].append((order_id, pool.ids[v], window, float(km)))
    for layer in layers:
        offers = [(current[oid], vid, window, km) for oid, vid, window, km in layer]
        for (oid, vid, _, _), made in zip(layer, desk.offer_many(offers), strict=True):
            if isinstance(made, HoldConflictError):
                refused.add(vid)
            elif isinstance(made, Order):
                current[oid] = made
                report.offers.append((made, made.offers[-1]))
            # else another dispatcher offered it, or it was cancelled: skip
    return refused


def requests_of(orders: list[Order]) -> RequestBatch:
    """One request per order (its open slots as slots), in the core's columnar form."""
    specs = [o.spec for o in orders]
    return RequestBatch(
        ids=tuple(o.order_id for o in orders),
        skill_mask=np.array([skill_mask(s.skills) for s in specs], dtype=np.uint64),
        lat=np.array([s.lat for s in specs], dtype=np.float64),
        lon=np.array([s.lon for s in specs], dtype=np.float64),
        start=np.array([s.start for s in specs], dtype=np.int64),
        end=np.array([s.end for s in specs], dtype=np.int64),
        urgency=np.array([int(s.urgency) for s in specs], dtype=np.int32),
        slots=np.array([o.open_slots for o in orders], dtype=np.int32),
        remote=np.array([s.remote for s in specs], dtype=np.bool_),
        max_distance_km=np.array([s.max_distance_km for s in specs], dtype=np.float64),
    )


def _excluded(orders: list[Order], volunteer_ids: tuple[str, ...]) -> ExcludedPairs:
    """Every (order, volunteer) pair already offered: never offered again."""
    row_of = {vid: i for i, vid in enumerate(volunteer_ids)}
    pairs = [
        (r, row_of[v]) for r, o in enumerate(orders) for v in o.offered_volunteers if v in row_of
    ]
    return ExcludedPairs.build(pairs, len(volunteer_ids))
