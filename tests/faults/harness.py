"""What the fault tests share: a day of service in the future (the servers here run on the
real clock) and the checks that nothing was lost or left booked, read straight from Redis.
The matcher in a child process they SIGKILL and restart is
``tests.support.server_process.ServerProcess``.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable

import grpc

from matcher.orders.model import OfferState, Order, OrderState
from matcher.orders.store.redis import RedisOrderStore
from matcher.v1 import match_pb2, orders_pb2, orders_pb2_grpc, volunteers_pb2
from tests.support.orders import submit_request
from tests.support.registry import QABQA, north_km
from tests.support.times import HOUR

#: The services whose health follows the store.
STORE_SERVICES = (
    "matcher.v1.VolunteerService",
    "matcher.v1.OrderService",
    "matcher.v1.DispatchService",
    "matcher.v1.OfferService",
    "matcher.v1.TimeBankService",
)
#: States in which an order holds nobody's time any more.
ENDED = frozenset(
    {OrderState.COMPLETED, OrderState.RATED, OrderState.CANCELLED, OrderState.EXPIRED}
)
#: A volunteer's day: this many two-hour windows from the start of the day.
WINDOWS = 8
#: Codes a store-backed call may answer under faults; anything else (INTERNAL, UNKNOWN) fails.
EXPECTED_CODES = frozenset(
    {
        grpc.StatusCode.OK,
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.FAILED_PRECONDITION,
        grpc.StatusCode.NOT_FOUND,
    }
)


def future_day() -> int:
    """Midnight UTC two days from now (epoch seconds): service times safely in the future."""
    return (int(time.time()) // 86_400 + 2) * 86_400


def volunteer(vid: str, day: int, km: float = 0.0) -> volunteers_pb2.VolunteerUpsert:
    """A volunteer ``km`` north of Qabqa, free in ``WINDOWS`` two-hour windows of ``day``."""
    lat, lon = north_km(km)
    return volunteers_pb2.VolunteerUpsert(
        volunteer=match_pb2.Volunteer(
            id=vid,
            skills=[match_pb2.Skill(code="elderly_care", level=4)],
            home=match_pb2.GeoPoint(lat=lat, lon=lon),
            availability=[
                match_pb2.TimeWindow(
                    start={"seconds": day + 2 * k * HOUR}, end={"seconds": day + (2 * k + 2) * HOUR}
                )
                for k in range(WINDOWS)
            ],
        ),
        branch_id=f"grid-{int(km) % 3}",
    )


def order(key: str, day: int, n: int) -> orders_pb2.SubmitOrderRequest:
    """The ``n``-th order of the day: one hour inside one of the volunteers' windows."""
    start_h = 2 * (n % WINDOWS) + (n // WINDOWS) % 2
    lat = QABQA[0] + ((n * 7) % 11 - 5) / 400
    return submit_request(
        key, base=day, start_h=start_h, end_h=start_h + 1, at=(lat, QABQA[1]), branch="grid-1"
    )


# --- what Redis holds -----------------------------------------------------------------------


def all_orders(store: RedisOrderStore) -> dict[str, Order]:
    """Every order in the store, by id."""
    ids = store.ids_in_states(list(OrderState))
    return {o.order_id: o for o in store.get_many(ids) if o is not None}


def stray_holds(store: RedisOrderStore, now_ms: int | None = None) -> list[str]:
    """Holds in Redis that belong to no live offer, and live offers without their hold.

    A hold is right when its offer is OPEN with the same deadline or ACCEPTED (deadline 0) in
    an order that has not ended; every such offer must have its hold; with ``now_ms``, no
    open offer may be past its deadline (someone swept since). Returns the problems.
    """
    orders = all_orders(store)
    problems: list[str] = []
    held = {(h.volunteer_id, h.hold_id): h for h in store.holds()}
    for (vid, hold_id), hold in held.items():
        found = orders.get(hold_id.rpartition(".")[0])
        made = found.offer(hold_id) if found is not None else None
        if found is None or made is None or made.volunteer_id != vid:
            problems.append(f"hold {hold_id} of {vid}: no such offer")
        elif made.state is OfferState.OPEN and hold.deadline_ms != made.deadline_ms:
            problems.append(f"hold {hold_id} of {vid}: deadline differs from its offer's")
        elif made.state is OfferState.ACCEPTED and (hold.deadline_ms != 0 or found.state in ENDED):
            problems.append(f"hold {hold_id} of {vid}: its accepted order ended")
        elif made.state not in (OfferState.OPEN, OfferState.ACCEPTED):
            problems.append(f"hold {hold_id} of {vid}: its offer is {made.state.name}")
        elif made.state is OfferState.OPEN and now_ms is not None and made.deadline_ms <= now_ms:
            problems.append(f"hold {hold_id} of {vid}: its open offer is overdue")
    for o in orders.values():
        for made in o.offers:
            live = made.state is OfferState.OPEN or (
                made.state is OfferState.ACCEPTED and o.state not in ENDED
            )
            if live and (made.volunteer_id, made.offer_id) not in held:
                problems.append(f"offer {made.offer_id} is {made.state.name} without a hold")
    return problems


def ledger_problems(store: RedisOrderStore) -> list[str]:
    """The ledger must sum to zero, agree with the balances, and hold each order once."""
    entries = store.entries()
    problems: list[str] = []
    if sum(e.minutes for e in entries) != 0:
        problems.append(f"the ledger sums to {sum(e.minutes for e in entries)} minutes, not 0")
    by_account: Counter[str] = Counter()
    for e in entries:
        by_account[e.account] += e.minutes
    accounts = sorted(by_account)
    for account, balance in zip(accounts, store.balances(accounts), strict=True):
        if balance != by_account[account]:
            problems.append(f"{account}: balance {balance}, entries sum {by_account[account]}")
    txns = {e.txn_id for e in entries}
    earned = Counter(e.order_id for e in entries if e.minutes > 0 and e.txn_id.startswith("earn:"))
    for order_id, credited in earned.items():
        if f"earn:{order_id}" not in txns or credited > 1:
            problems.append(f"order {order_id} credited {credited} times")
    return problems


def listed_orders(orders: orders_pb2_grpc.OrderServiceStub) -> list[orders_pb2.Order]:
    """Every order, page by page, over the API."""
    found: list[orders_pb2.Order] = []
    token = ""
    while True:
        request = orders_pb2.ListOrdersRequest(page_size=1000, page_token=token)
        reply = orders.ListOrders(request, timeout=30)
        found += reply.orders
        token = reply.next_page_token
        if not token:
            return found


def timed(call: Callable[[], object]) -> float:
    """Seconds ``call`` took."""
    began = time.monotonic()
    call()
    return time.monotonic() - began
