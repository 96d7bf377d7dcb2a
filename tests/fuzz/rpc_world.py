"""What the rpc fuzzer talks to: every rpc (from the descriptors), a seeded server on either
store, valid seed requests naming what exists, and the observable state a failed call must not
change.

``all_rpcs()`` enumerates the services of every ``matcher/v1/*_pb2`` module, so a new rpc is
fuzzed without touching the tests. ``fuzz_world(kind)`` starts a server (memory store, or
Redis database 10 on a private key prefix, removed afterwards) with rounds on demand and a
clock standing at the test morning, and seeds it: five volunteers in two branches, six
orders (offered, accepted, completed, pending) and one completion in the time bank.
"""

from __future__ import annotations

import base64
import importlib
import pkgutil
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from google.protobuf import message_factory
from google.protobuf.descriptor import MethodDescriptor
from google.protobuf.message import Message

import matcher.v1
from matcher.orders.desk import order_id_for
from matcher.orders.model import OrderState
from matcher.service.convert.orders import encode_page_token
from matcher.service.server import MatcherServer
from matcher.v1 import (
    match_pb2,
    orders_pb2,
    status_pb2,
    timebank_pb2,
    volunteers_pb2,
)
from tests.support.orders import ORDER_SETTINGS, OrderSystem, running_system, submit_request
from tests.support.paths import ROOT
from tests.support.redis_db import RedisDb, private_prefix, redis_or_skip, redis_url
from tests.support.registry import request, upsert
from tests.support.service import make_valid_request
from tests.support.times import HOUR, T0, window

PROTOS = ROOT / "protos" / "matcher" / "v1"
REDIS_URL = redis_url(RedisDb.FUZZ)

#: Small limits, so huge repeated fields meet them; rounds on demand only; no metrics port.
FUZZ_SETTINGS = ORDER_SETTINGS.with_overrides(
    workers=16,
    max_requests=40,
    max_volunteers=300,
    max_slots=80,
    max_windows_per_volunteer=8,
)


@dataclass(frozen=True)
class Rpc:
    """One rpc of one service, callable over a generic channel."""

    service: str  # full name, e.g. matcher.v1.OrderService
    name: str
    request: type[Message]
    response: type[Message]
    streaming: bool

    @property
    def path(self) -> str:
        return f"/{self.service}/{self.name}"

    @property
    def short(self) -> str:
        return f"{self.service.rpartition('.')[2]}.{self.name}"


def _rpc(method: MethodDescriptor) -> Rpc:
    return Rpc(
        service=method.containing_service.full_name,
        name=method.name,
        request=message_factory.GetMessageClass(method.input_type),
        response=message_factory.GetMessageClass(method.output_type),
        streaming=method.server_streaming,
    )


def all_rpcs() -> list[Rpc]:
    """Every rpc of every service in every generated module of ``matcher.v1``."""
    found: list[Rpc] = []
    for info in pkgutil.iter_modules(matcher.v1.__path__):
        if not info.name.endswith("_pb2"):
            continue
        module = importlib.import_module(f"matcher.v1.{info.name}")
        for service in module.DESCRIPTOR.services_by_name.values():
            found.extend(_rpc(m) for m in service.methods)
    return sorted(found, key=lambda r: r.path)


def rpcs_in_protos() -> set[str]:
    """``Service.Rpc`` for every rpc declared in ``protos/matcher/v1/*.proto``."""
    names: set[str] = set()
    for proto in PROTOS.glob("*.proto"):
        service = ""
        for line in proto.read_text().splitlines():
            if m := re.match(r"\s*service\s+(\w+)", line):
                service = m[1]
            elif m := re.match(r"\s*rpc\s+(\w+)", line):
                names.add(f"{service}.{m[1]}")
    return names


# --- the seeded server ----------------------------------------------------------------------

VOLUNTEERS = ("v-1", "v-2", "v-3", "v-4", "v-5")
BRANCHES = ("grid-1", "grid-2")
KEYS = ("k-1", "k-2", "k-3", "k-4", "k-5", "k-6")
#: What the server's page tokens start with, once base64-decoded (orders and ledger; registry).
TOKEN_PREFIXES = ("o1:", "v1:")


@dataclass
class World:
    """A seeded server and the names that exist in it."""

    system: OrderSystem
    orders: dict[str, str] = field(default_factory=dict)  # idempotency key -> order id
    offers: list[str] = field(default_factory=list)

    @property
    def app(self) -> MatcherServer:
        return self.system.app

    def vocabulary(self) -> list[str]:
        """Strings worth trying in any string field: ids, codes, tokens that exist."""
        words = [*VOLUNTEERS, *BRANCHES, *KEYS, *self.orders.values(), *self.offers]
        words += [order_id_for("k-new"), order_id_for("k-urgent"), "v-new", "v-6"]
        words += ["team-a", "res-1", "elderly_care", "cleaning", "tutoring", "live_stream"]
        words += ["branch:", "volunteer:v-1", encode_page_token(1), encode_page_token(10**17)]
        words += [base64.urlsafe_b64encode(b"v1:v-2").decode()]  # a ListVolunteers token
        return words


def _seed(system: OrderSystem) -> World:
    world = World(system)
    system.register(
        upsert("v-1", branch="grid-1", teams=["team-a"], skills=("elderly_care", "cleaning")),
        upsert("v-2", branch="grid-1", skills=("cleaning",)),
        upsert("v-3", branch="grid-2", skills=("elderly_care", "tutoring"), hours=(3, 9)),
        upsert("v-4", branch="grid-2", teams=["team-a"], skills=("live_stream",)),
        upsert("v-5", branch="grid-2", active=False),
    )
    plans: list[dict[str, Any]] = [
        {"skills": ("elderly_care",)},
        {"skills": ("cleaning",), "start_h": 4, "end_h": 5},
        {"skills": ("tutoring",), "start_h": 5, "end_h": 6, "branch": "grid-2"},
        {"skills": ("live_stream",), "start_h": 1, "end_h": 2, "branch": "grid-2"},
        {"skills": ("elderly_care",), "start_h": 6, "end_h": 7, "needed": 2},
        {"skills": ("fire_safety",), "start_h": 2, "end_h": 3},  # nobody can: stays pending
    ]
    for key, plan in zip(KEYS, plans, strict=True):
        world.orders[key] = system.submit(key, **plan).order_id
    for made in system.round().offers:
        world.offers.append(made.offer_id)
    first = system.get(world.orders["k-1"])
    if first.offers:
        system.accept(first.offers[0].offer_id)
        system.complete(first.order_id, 1.5)
    second = system.get(world.orders["k-2"])
    if second.offers:
        system.accept(second.offers[0].offer_id)
    return world


@contextmanager
def fuzz_world(kind: str) -> Iterator[World]:
    """A seeded server on the memory store or on the fuzz database (private prefix)."""
    if kind == "memory":
        with running_system(FUZZ_SETTINGS) as system:
            yield _seed(system)
        return
    client = redis_or_skip(REDIS_URL, timeout=5)
    try:
        with private_prefix(client) as prefix:
            settings = FUZZ_SETTINGS.with_overrides(store=REDIS_URL, redis_prefix=prefix)
            with running_system(settings) as system:
                yield _seed(system)
    finally:
        client.close()


def observe(app: MatcherServer) -> tuple[Any, ...]:
    """Everything a write could change: the registry (version and records), every order, the
    holds, and the ledger (entry count and branch figures). Equal tuples: nothing written."""
    snapshot = app.store.snapshot()
    assert app.orders is not None
    orders = app.orders.store
    ids = orders.ids_in_states(list(OrderState))
    return (
        snapshot.version,
        tuple(sorted(snapshot.records, key=lambda r: r.id)),
        tuple(orders.get_many(sorted(ids))),
        tuple(sorted(orders.holds(), key=lambda h: (h.volunteer_id, h.hold_id))),
        orders.entry_count(),
        tuple(orders.branch_figures()),
    )


# --- valid seed requests, per rpc -------------------------------------------------------------


def seed_requests(world: World) -> dict[str, list[Message]]:
    """Valid requests for each rpc (by ``Service.Rpc``), naming the world's volunteers, orders
    and offers; the fuzzer mutates them one field at a time."""
    order = world.orders
    offer = world.offers or ["missing.1"]
    area = match_pb2.GeoPoint(lat=36.27, lon=100.62)
    return {
        "MatchService.Match": [
            make_valid_request(),
            match_pb2.MatchRequest(
                requests=[request("r1"), request("r2", skills=("cleaning",))],
                pool=match_pb2.PoolSelector(branch_ids=["grid-1"], center=area, radius_km=30),
            ),
        ],
        "VolunteerService.UpsertVolunteers": [
            volunteers_pb2.UpsertVolunteersRequest(
                volunteers=[upsert("v-new", branch="grid-1", teams=["team-a"]), upsert("v-6")]
            ),
            volunteers_pb2.UpsertVolunteersRequest(
                volunteers=[upsert("v-2", branch="grid-1", expected_version=1)]
            ),
        ],
        "VolunteerService.GetVolunteer": [volunteers_pb2.GetVolunteerRequest(volunteer_id="v-1")],
        "VolunteerService.DeleteVolunteer": [
            volunteers_pb2.DeleteVolunteerRequest(volunteer_id="v-new"),
            volunteers_pb2.DeleteVolunteerRequest(volunteer_id="v-6", expected_version=1),
        ],
        "VolunteerService.ListVolunteers": [
            volunteers_pb2.ListVolunteersRequest(
                page_size=2, branch_ids=["grid-1"], team_id="team-a", skill="elderly_care"
            ),
            volunteers_pb2.ListVolunteersRequest(
                center=area, radius_km=10, include_inactive=True, page_token=encode_page_token(1)
            ),
        ],
        "VolunteerService.ReplaceAvailability": [
            volunteers_pb2.ReplaceAvailabilityRequest(
                volunteer_id="v-3",
                availability=[
                    window(T0 + 3 * HOUR, T0 + 9 * HOUR),
                    window(T0 + 20 * HOUR, T0 + 22 * HOUR),
                ],
            )
        ],
        "VolunteerService.GetRegistryStatus": [volunteers_pb2.GetRegistryStatusRequest()],
        "StatusService.GetServerStatus": [status_pb2.GetServerStatusRequest()],
        "OrderService.SubmitOrder": [
            submit_request("k-new", start_h=7, end_h=8),
            submit_request("k-1"),  # a retry of a stored submission
            submit_request("k-urgent", urgency=match_pb2.URGENCY_URGENT, start_h=8, end_h=9),
        ],
        "OrderService.GetOrder": [orders_pb2.GetOrderRequest(order_id=order["k-1"])],
        "OrderService.ListOrders": [
            orders_pb2.ListOrdersRequest(
                states=[orders_pb2.ORDER_STATE_PENDING, orders_pb2.ORDER_STATE_OFFERED],
                branch_ids=["grid-1"],
                page_size=2,
                page_token=encode_page_token(1),
            )
        ],
        "OrderService.CancelOrder": [
            orders_pb2.CancelOrderRequest(
                order_id=order[k], actor=orders_pb2.ACTOR_RESIDENT, reason="plans changed"
            )
            for k in ("k-3", "k-6")
        ]
        + [orders_pb2.CancelOrderRequest(order_id=order_id_for("k-new"))],
        "OrderService.CompleteOrder": [
            orders_pb2.CompleteOrderRequest(
                order_id=order["k-2"], hours_served=1.25, actor=orders_pb2.ACTOR_CENTRE
            ),
            orders_pb2.CompleteOrderRequest(
                order_id=order["k-2"],
                hours_served=1.0,
                actor=orders_pb2.ACTOR_VOLUNTEER,
                volunteer_id="v-2",
            ),
        ],
        "OrderService.RateOrder": [
            orders_pb2.RateOrderRequest(order_id=order["k-1"], stars=4, comment="谢谢")
        ],
        "DispatchService.RunDispatchRound": [
            orders_pb2.RunDispatchRoundRequest(),
            orders_pb2.RunDispatchRoundRequest(
                scope=orders_pb2.DispatchScope(branch_ids=["grid-2"], center=area, radius_km=50),
                pool=match_pb2.PoolSelector(team_ids=["team-a"]),
                policy=match_pb2.ScoringPolicy(distance_weight=2.0, urgent_value=500),
            ),
        ],
        "OfferService.ListOffers": [
            orders_pb2.ListOffersRequest(volunteer_id="v-1", states=[orders_pb2.OFFER_STATE_OPEN])
        ],
        "OfferService.WatchOffers": [orders_pb2.WatchOffersRequest(volunteer_id="v-3")],
        "OfferService.AcceptOffer": [orders_pb2.AcceptOfferRequest(offer_id=o) for o in offer],
        "OfferService.DeclineOffer": [orders_pb2.DeclineOfferRequest(offer_id=o) for o in offer],
        "TimeBankService.GetBalance": [timebank_pb2.GetBalanceRequest(volunteer_id="v-1")],
        "TimeBankService.GetStatement": [
            timebank_pb2.GetStatementRequest(volunteer_id="v-1", page_size=1)
        ],
        "TimeBankService.GetBranchSummary": [
            timebank_pb2.GetBranchSummaryRequest(branch_id="grid-1")
        ],
        "TimeBankService.RedeemHours": [
            timebank_pb2.RedeemHoursRequest(
                volunteer_id="v-1",
                hours=0.25,
                reason="gift shop",
                branch_id="grid-1",
                idempotency_key="redeem-1",
            )
        ],
    }
