"""Access control end to end: a real server with API keys on port 0, real channels. Missing
or unknown keys are UNAUTHENTICATED; a role calling outside its table, or touching someone
else's order or offer, is PERMISSION_DENIED; volunteers see only their own offers; the
access log names the key and role, never the token; the gateway forwards the key; the
server warns loudly when it runs open on a reachable address."""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterator
from typing import Any

import grpc
import httpx
import pytest
from google.protobuf import json_format
from grpc_health.v1 import health_pb2, health_pb2_grpc

from matcher.access.keys import hash_token, new_token
from matcher.client import MatcherClient
from matcher.config import Settings
from matcher.observability.logs import JsonFormatter
from matcher.service.server import create_server
from matcher.tools.status import run_status
from matcher.v1 import (
    match_pb2,
    match_pb2_grpc,
    orders_pb2,
    status_pb2,
    status_pb2_grpc,
    timebank_pb2,
    volunteers_pb2,
)
from tests.support.gateway import matcher_stack
from tests.support.orders import ORDER_SETTINGS, OrderSystem, running_system, submit_request
from tests.support.registry import north_km, rpc_error, upsert
from tests.support.service import make_valid_request

OR = orders_pb2
ROLES = {
    "ops": ("admin", ""),
    "console": ("dispatcher", ""),
    "registrar": ("registry", ""),
    "res-a": ("resident_app", ""),
    "res-b": ("resident_app", ""),
    "app-a": ("volunteer_app", "vol-a"),
    "app-b": ("volunteer_app", "vol-b"),
}
TOKENS = {key_id: new_token() for key_id in ROLES}
KEYS = ",".join(
    f"{key_id}:{role}:{hash_token(TOKENS[key_id])}" + (f":{vid}" if vid else "")
    for key_id, (role, vid) in ROLES.items()
)
KEYED = ORDER_SETTINGS.with_overrides(api_keys=KEYS)


def auth(key_id: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {TOKENS[key_id]}"),)


class As:
    """Calls as one key: ``as_("res-a").orders.GetOrder(...)`` sends its bearer token."""

    def __init__(self, system: OrderSystem, key_id: str) -> None:
        self._system, self._metadata = system, auth(key_id)

    def __getattr__(self, service: str) -> Any:
        stub = getattr(self._system, service)
        metadata = self._metadata

        class Bound:
            def __getattr__(self, rpc: str) -> Callable[..., Any]:
                method = getattr(stub, rpc)
                return lambda request, **kw: method(request, metadata=metadata, timeout=10, **kw)

        return Bound()


@pytest.fixture(scope="module")
def system() -> Iterator[OrderSystem]:
    with running_system(KEYED) as running:
        yield running


def code_of(call: Callable[[], object]) -> tuple[grpc.StatusCode, str]:
    err = rpc_error(call)
    return err.code(), err.details() or ""


def test_missing_unknown_and_malformed_keys_are_unauthenticated(system: OrderSystem) -> None:
    get = OR.GetOrderRequest(order_id="ord-1")
    for metadata in [
        (),
        (("authorization", f"Bearer {new_token()}"),),
        (("authorization", f"Basic {TOKENS['ops']}"),),
        (("authorization", "Bearer "),),
    ]:
        code, message = code_of(lambda m=metadata: system.orders.GetOrder(get, metadata=m))
        assert code == grpc.StatusCode.UNAUTHENTICATED, metadata
        assert "authorization: Bearer" in message or "Bearer <token>" in message
    health = health_pb2_grpc.HealthStub(system.channel)
    reply = health.Check(health_pb2.HealthCheckRequest(service=""), timeout=5)  # no key needed
    assert reply.status == health_pb2.HealthCheckResponse.SERVING


DENIED = [
    ("registrar", "match", "Match", match_pb2.MatchRequest()),
    ("res-a", "dispatch", "RunDispatchRound", OR.RunDispatchRoundRequest()),
    ("app-a", "orders", "ListOrders", OR.ListOrdersRequest()),
    ("console", "volunteers", "UpsertVolunteers", volunteers_pb2.UpsertVolunteersRequest()),
    ("console", "orders", "SubmitOrder", submit_request("k")),
    ("console", "offers", "AcceptOffer", OR.AcceptOfferRequest(offer_id="x.1")),
    ("console", "bank", "RedeemHours", timebank_pb2.RedeemHoursRequest()),
    ("registrar", "orders", "GetOrder", OR.GetOrderRequest(order_id="x")),
    ("res-a", "volunteers", "ListVolunteers", volunteers_pb2.ListVolunteersRequest()),
    ("app-a", "bank", "GetBranchSummary", timebank_pb2.GetBranchSummaryRequest()),
]


@pytest.mark.parametrize(("key_id", "stub", "rpc", "request_"), DENIED)
def test_a_role_outside_its_table_is_denied(
    system: OrderSystem, key_id: str, stub: str, rpc: str, request_: Any
) -> None:
    if stub == "match":
        call = match_pb2_grpc.MatchServiceStub(system.channel).Match  # type: ignore[no-untyped-call]
        code, message = code_of(lambda: call(request_, metadata=auth(key_id), timeout=10))
    else:
        code, message = code_of(lambda: getattr(getattr(As(system, key_id), stub), rpc)(request_))
    assert code == grpc.StatusCode.PERMISSION_DENIED
    assert message == f"role {ROLES[key_id][0]} may not call {_method(rpc)}"


def _method(rpc: str) -> str:
    services = {
        "Match": "MatchService",
        "RunDispatchRound": "DispatchService",
        "UpsertVolunteers": "VolunteerService",
        "ListVolunteers": "VolunteerService",
        "AcceptOffer": "OfferService",
        "RedeemHours": "TimeBankService",
        "GetBranchSummary": "TimeBankService",
    }
    return f"/matcher.v1.{services.get(rpc, 'OrderService')}/{rpc}"


def test_status_needs_a_dispatcher_or_admin(system: OrderSystem) -> None:
    stub = status_pb2_grpc.StatusServiceStub(system.channel)  # type: ignore[no-untyped-call]
    request = status_pb2.GetServerStatusRequest()
    for key_id in ("ops", "console"):
        stub.GetServerStatus(request, metadata=auth(key_id), timeout=10)
    for key_id in ("registrar", "res-a", "app-a"):
        code, _ = code_of(lambda k=key_id: stub.GetServerStatus(request, metadata=auth(k)))
        assert code == grpc.StatusCode.PERMISSION_DENIED
    target = f"127.0.0.1:{system.app.port}"
    assert run_status(target, out=io.StringIO(), api_key=TOKENS["console"]) == 0
    assert run_status(target, out=io.StringIO()) == 2  # UNAUTHENTICATED: cannot read the status
    with MatcherClient(target, api_key=TOKENS["console"]) as client:
        assert client.get_server_status().uptime_seconds >= 0


def test_resident_apps_touch_only_their_own_orders(system: OrderSystem) -> None:
    a, b = As(system, "res-a"), As(system, "res-b")
    mine = a.orders.SubmitOrder(submit_request("same-key")).order
    theirs = b.orders.SubmitOrder(submit_request("same-key")).order  # keys never meet
    assert mine.order_id != theirs.order_id
    assert a.orders.GetOrder(OR.GetOrderRequest(order_id=mine.order_id)).order.resident.contact
    for call in [
        lambda: b.orders.GetOrder(OR.GetOrderRequest(order_id=mine.order_id)),
        lambda: b.orders.CancelOrder(OR.CancelOrderRequest(order_id=mine.order_id)),
        lambda: b.orders.RateOrder(OR.RateOrderRequest(order_id=mine.order_id, stars=5)),
    ]:
        code, message = code_of(call)
        assert code == grpc.StatusCode.PERMISSION_DENIED
        assert message == f"order {mine.order_id} was not submitted with API key res-b"
    listed_a = a.orders.ListOrders(OR.ListOrdersRequest()).orders
    listed_b = b.orders.ListOrders(OR.ListOrdersRequest()).orders
    assert mine.order_id in {o.order_id for o in listed_a}
    assert mine.order_id not in {o.order_id for o in listed_b}
    assert theirs.order_id in {o.order_id for o in listed_b}
    seen = As(system, "console").orders.GetOrder(OR.GetOrderRequest(order_id=mine.order_id))
    assert seen.order.resident.contact == "138-0000-0000"  # the centre sees it in full
    code, _ = code_of(
        lambda: a.orders.CancelOrder(
            OR.CancelOrderRequest(order_id=mine.order_id, actor=OR.ACTOR_VOLUNTEER)
        )
    )
    assert code == grpc.StatusCode.PERMISSION_DENIED
    cancelled = a.orders.CancelOrder(OR.CancelOrderRequest(order_id=mine.order_id)).order
    assert cancelled.history[-1].actor == OR.ACTOR_RESIDENT  # recorded as the resident
    b.orders.CancelOrder(OR.CancelOrderRequest(order_id=theirs.order_id))


def test_volunteer_apps_touch_only_their_own_offers(system: OrderSystem) -> None:
    registrar, console = As(system, "registrar"), As(system, "console")
    app_a, app_b = As(system, "app-a"), As(system, "app-b")
    registrar.volunteers.UpsertVolunteers(
        volunteers_pb2.UpsertVolunteersRequest(
            volunteers=[upsert("vol-a", at=north_km(1)), upsert("vol-b", at=north_km(2))]
        )
    )
    order = As(system, "res-a").orders.SubmitOrder(submit_request("two", needed=2)).order
    offers = console.dispatch.RunDispatchRound(OR.RunDispatchRoundRequest()).offers
    by_volunteer = {o.volunteer_id: o for o in offers if o.order_id == order.order_id}
    offer_a, offer_b = by_volunteer["vol-a"], by_volunteer["vol-b"]

    [own] = app_a.offers.ListOffers(OR.ListOffersRequest(volunteer_id="vol-a")).offers
    assert own.offer_id == offer_a.offer_id and own.distance_km > 0
    assert own.request.location.lat != 0  # the meeting point of its own offer
    denied = [
        lambda: app_a.offers.ListOffers(OR.ListOffersRequest(volunteer_id="vol-b")),
        lambda: next(iter(app_a.offers.WatchOffers(OR.WatchOffersRequest(volunteer_id="vol-b")))),
        lambda: app_a.offers.AcceptOffer(OR.AcceptOfferRequest(offer_id=offer_b.offer_id)),
        lambda: app_a.offers.DeclineOffer(OR.DeclineOfferRequest(offer_id=offer_b.offer_id)),
        lambda: app_a.volunteers.GetVolunteer(
            volunteers_pb2.GetVolunteerRequest(volunteer_id="vol-b")
        ),
        lambda: app_a.bank.GetBalance(timebank_pb2.GetBalanceRequest(volunteer_id="vol-b")),
        lambda: app_a.bank.GetStatement(timebank_pb2.GetStatementRequest(volunteer_id="vol-b")),
    ]
    for call in denied:
        code, message = code_of(call)
        assert code == grpc.StatusCode.PERMISSION_DENIED
        assert message == "API key app-a acts for volunteer vol-a, not vol-b"
    app_a.volunteers.GetVolunteer(volunteers_pb2.GetVolunteerRequest(volunteer_id="vol-a"))
    app_a.bank.GetBalance(timebank_pb2.GetBalanceRequest(volunteer_id="vol-a"))

    accepted = app_a.offers.AcceptOffer(OR.AcceptOfferRequest(offer_id=offer_a.offer_id))
    assert accepted.order.resident.contact == "138-0000-0000"  # kept for who accepts
    assert [o.volunteer_id for o in accepted.order.offers] == ["vol-a"]  # not vol-b's
    assert "vol-b" not in {e.volunteer_id for e in accepted.order.history}
    app_b.offers.AcceptOffer(OR.AcceptOfferRequest(offer_id=offer_b.offer_id))

    complete = OR.CompleteOrderRequest(
        order_id=order.order_id, hours_served=1, actor=OR.ACTOR_VOLUNTEER, volunteer_id="vol-a"
    )
    code, _ = code_of(lambda: app_b.orders.CompleteOrder(complete))  # as someone else
    assert code == grpc.StatusCode.PERMISSION_DENIED
    as_centre = OR.CompleteOrderRequest(
        order_id=order.order_id, hours_served=1, actor=OR.ACTOR_CENTRE
    )
    code, _ = code_of(lambda: app_a.orders.CompleteOrder(as_centre))
    assert code == grpc.StatusCode.PERMISSION_DENIED
    done = app_a.orders.CompleteOrder(complete)
    assert done.credited and [o.volunteer_id for o in done.order.offers] == ["vol-a"]


def test_a_volunteer_cannot_complete_an_order_it_did_not_accept(system: OrderSystem) -> None:
    order = As(system, "res-b").orders.SubmitOrder(submit_request("never-accepted")).order
    request = OR.CompleteOrderRequest(
        order_id=order.order_id, hours_served=1, actor=OR.ACTOR_VOLUNTEER, volunteer_id="vol-a"
    )
    code, message = code_of(lambda: As(system, "app-a").orders.CompleteOrder(request))
    assert code == grpc.StatusCode.PERMISSION_DENIED
    assert message == f"volunteer vol-a did not accept order {order.order_id}"


def test_the_access_log_names_key_and_role_never_the_token(
    system: OrderSystem, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="matcher.service.interceptors.observe")
    get = OR.GetOrderRequest(order_id="ord-absent")
    code_of(lambda: As(system, "console").orders.GetOrder(get))
    code_of(lambda: As(system, "registrar").orders.GetOrder(get))
    code_of(lambda: system.orders.GetOrder(get, metadata=(("authorization", "Bearer nope"),)))
    lines = [r for r in caplog.records if r.name == "matcher.service.interceptors.observe"]
    fields = [r.fields for r in lines[-3:]]  # type: ignore[attr-defined]
    assert [(f["code"], f.get("key"), f.get("role")) for f in fields] == [
        ("NOT_FOUND", "console", "dispatcher"),
        ("PERMISSION_DENIED", "registrar", "registry"),
        ("UNAUTHENTICATED", None, None),
    ]
    text = "\n".join(JsonFormatter().format(r) for r in caplog.records)
    for secret in [*TOKENS.values(), "138-0000-0000", "nope"]:
        assert secret not in text


def test_the_gateway_forwards_the_key() -> None:
    body = json_format.MessageToDict(make_valid_request())
    settings = Settings(port=0, metrics_port=-1, api_keys=KEYS)
    with matcher_stack(settings) as stack, httpx.Client(base_url=stack.url, timeout=30) as http:
        missing = http.post("/v1/match", json=body)
        wrong = http.post("/v1/match", json=body, headers=_bearer("registrar"))
        right = http.post("/v1/match", json=body, headers=_bearer("console"))
    assert missing.status_code == 401, missing.text
    assert missing.json()["error"]["status"] == "UNAUTHENTICATED"
    assert wrong.status_code == 403, wrong.text
    assert "role registry may not call" in wrong.json()["error"]["message"]
    assert right.status_code == 200, right.text
    assert right.json()["assignments"]


def _bearer(key_id: str) -> dict[str, str]:
    return {"authorization": f"Bearer {TOKENS[key_id]}"}


def test_open_mode_on_a_reachable_address_logs_a_loud_banner(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="matcher.service.interceptors.access")
    app = create_server(Settings(host="0.0.0.0", port=0, metrics_port=-1))
    app.stop()
    [banner] = [r for r in caplog.records if r.name == "matcher.service.interceptors.access"]
    assert banner.levelno == logging.ERROR
    assert "ACCESS CONTROL IS OFF on 0.0.0.0" in banner.getMessage()
    caplog.clear()
    app = create_server(KEYED.with_overrides(host="0.0.0.0"))
    app.stop()
    assert not [r for r in caplog.records if r.name == "matcher.service.interceptors.access"]
