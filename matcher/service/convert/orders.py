"""The order services' messages -> the order domain (``matcher.orders``), validated; the way
back is ``orders_out`` (re-exported here for the servicers).

Paths in violations are the proto's (``request.window.start``, ``resident.resident_id``,
``hours_served``). A submitted ``ServiceRequest`` goes through the same checks as a Match
request; on top, its window must start in the future and it may ask for at most
``MAX_VOLUNTEERS_PER_ORDER`` volunteers.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Sequence
from dataclasses import dataclass

from matcher.core.model import Policy, Urgency
from matcher.core.skills import mask_codes
from matcher.errors import FieldViolation, ValidationError
from matcher.orders.model import Actor, OfferState, OrderState, Resident, ServiceSpec
from matcher.orders.rounds import Scope
from matcher.registry.model import Selector
from matcher.service.convert.checks import MAX_ID_CHARS, Violations, group_id_problem
from matcher.service.convert.match_in import _read_policy, _read_requests
from matcher.service.convert.orders_out import offer_to_proto as offer_to_proto
from matcher.service.convert.orders_out import order_to_proto as order_to_proto
from matcher.service.convert.volunteers import read_selector
from matcher.v1 import match_pb2, orders_pb2

MAX_VOLUNTEERS_PER_ORDER = 20
MAX_CONTACT_CHARS = 200
MAX_REASON_CHARS = 200
MAX_COMMENT_CHARS = 500
MAX_HOURS_SERVED = 24.0
DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE = 100, 1000
#: Most digits of the offset in a page token (offsets stay below 10**18, within int64).
MAX_TOKEN_DIGITS = 18


@dataclass(frozen=True)
class Submission:
    """A validated SubmitOrder."""

    branch_id: str
    resident: Resident
    spec: ServiceSpec
    idempotency_key: str


def submission_to_domain(msg: orders_pb2.SubmitOrderRequest, now_s: int) -> Submission:
    """Validate a SubmitOrder; every bad field is reported at once."""
    found = Violations()
    spec = _read_spec(msg, found, now_s)
    if not msg.HasField("resident"):
        found.add("resident", "is required")
    _check_text(msg.resident.resident_id, "resident.resident_id", MAX_ID_CHARS, found, True)
    _check_text(msg.resident.contact, "resident.contact", MAX_CONTACT_CHARS, found, False)
    problem = group_id_problem(msg.branch_id)
    if problem:
        found.add("branch_id", problem)
    _check_text(msg.idempotency_key, "idempotency_key", MAX_ID_CHARS, found, True)
    found.raise_if_any()
    assert spec is not None
    resident = Resident(msg.resident.resident_id, msg.resident.contact)
    return Submission(msg.branch_id, resident, spec, msg.idempotency_key)


def _read_spec(
    msg: orders_pb2.SubmitOrderRequest, found: Violations, now_s: int
) -> ServiceSpec | None:
    if not msg.HasField("request"):
        found.add("request", "is required")
        return None
    request = match_pb2.ServiceRequest()
    request.CopyFrom(msg.request)
    request.id = "order"  # ignored: the order id comes from the idempotency key
    inner = Violations()
    batch = _read_requests([request], inner)
    for v in inner.items:
        found.add(v.field.replace("requests[0]", "request", 1), v.description)
    if inner.items:
        return None
    if batch.start[0] <= now_s:
        found.add("request.window.start", "must be in the future")
    if batch.slots[0] > MAX_VOLUNTEERS_PER_ORDER:
        found.add("request.volunteers_needed", f"must be at most {MAX_VOLUNTEERS_PER_ORDER}")
    return ServiceSpec(
        skills=tuple(mask_codes(int(batch.skill_mask[0]))),
        lat=float(batch.lat[0]),
        lon=float(batch.lon[0]),
        start=int(batch.start[0]),
        end=int(batch.end[0]),
        urgency=Urgency(int(batch.urgency[0])),
        volunteers_needed=int(batch.slots[0]),
        remote=bool(batch.remote[0]),
        max_distance_km=float(batch.max_distance_km[0]),
    )


def _check_text(value: str, field: str, longest: int, found: Violations, required: bool) -> None:
    if required and not value:
        found.add(field, "must not be empty")
    elif len(value) > longest:
        found.add(field, f"must be at most {longest} characters")
    elif value and not value.isprintable():
        found.add(field, "must not contain control characters")


def check_id(value: str, field: str) -> None:
    """An id argument must be non-empty and at most ``MAX_ID_CHARS`` long."""
    found = Violations()
    _check_text(value, field, MAX_ID_CHARS, found, True)
    found.raise_if_any()


def hours_to_minutes(hours: float, field: str, most: float) -> int:
    """Hours (> 0, at most ``most``) as whole minutes (at least one)."""
    if not (math.isfinite(hours) and 0 < hours <= most) or round(hours * 60) < 1:
        raise ValidationError(
            [FieldViolation(field, f"must be a number of hours > 0 and at most {most:g}")]
        )
    return round(hours * 60)


def completion_to_domain(msg: orders_pb2.CompleteOrderRequest) -> tuple[int, Actor, str]:
    """Minutes served, who completes and (for a volunteer) who they are."""
    check_id(msg.order_id, "order_id")
    minutes = hours_to_minutes(msg.hours_served, "hours_served", MAX_HOURS_SERVED)
    if msg.actor not in (orders_pb2.ACTOR_VOLUNTEER, orders_pb2.ACTOR_CENTRE):
        raise ValidationError([FieldViolation("actor", "must be ACTOR_VOLUNTEER or ACTOR_CENTRE")])
    actor = Actor(msg.actor)
    if actor is Actor.VOLUNTEER:
        check_id(msg.volunteer_id, "volunteer_id")
    return minutes, actor, msg.volunteer_id if actor is Actor.VOLUNTEER else ""


def rating_to_domain(msg: orders_pb2.RateOrderRequest) -> tuple[int, str]:
    """Stars (1-5) and the comment."""
    check_id(msg.order_id, "order_id")
    found = Violations()
    if not 1 <= msg.stars <= 5:
        found.add("stars", "must be from 1 to 5")
    if len(msg.comment) > MAX_COMMENT_CHARS:
        found.add("comment", f"must be at most {MAX_COMMENT_CHARS} characters")
    found.raise_if_any()
    return msg.stars, msg.comment


def cancellation_to_domain(msg: orders_pb2.CancelOrderRequest) -> tuple[Actor, str]:
    check_id(msg.order_id, "order_id")
    found = Violations()
    if msg.actor not in (0, *(a.value for a in Actor)):
        found.add("actor", "unknown Actor value")
    if len(msg.reason) > MAX_REASON_CHARS or not msg.reason.isprintable():
        found.add("reason", f"must be printable and at most {MAX_REASON_CHARS} characters")
    found.raise_if_any()
    return (Actor(msg.actor) if msg.actor else Actor.CENTRE), msg.reason


@dataclass(frozen=True)
class OrderQuery:
    """A validated ListOrders."""

    states: tuple[OrderState, ...]
    branch_ids: tuple[str, ...]
    page_size: int
    offset: int


def list_orders_to_query(msg: orders_pb2.ListOrdersRequest) -> OrderQuery:
    found = Violations()
    for k, state in enumerate(msg.states):
        if state not in {s.value for s in OrderState}:
            found.add(f"states[{k}]", "must be a known OrderState other than UNSPECIFIED")
    for k, branch in enumerate(msg.branch_ids):
        problem = group_id_problem(branch)
        if problem:
            found.add(f"branch_ids[{k}]", problem)
    offset = decode_page_token(msg.page_token, found)
    found.raise_if_any()
    states = tuple(OrderState(s) for s in msg.states) or tuple(OrderState)
    size = min(msg.page_size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
    return OrderQuery(states, tuple(msg.branch_ids), size, offset)


def offer_states_to_domain(states: Sequence[int]) -> frozenset[OfferState]:
    found = Violations()
    for k, state in enumerate(states):
        if state not in {s.value for s in OfferState}:
            found.add(f"states[{k}]", "must be a known OfferState other than UNSPECIFIED")
    found.raise_if_any()
    return frozenset(OfferState(s) for s in states) or frozenset(OfferState)


def round_to_domain(msg: orders_pb2.RunDispatchRoundRequest) -> tuple[Scope, Selector, Policy]:
    """The scope, the pool selector and the policy of a round."""
    found = Violations()
    area = read_selector(
        match_pb2.PoolSelector(
            branch_ids=msg.scope.branch_ids,
            center=msg.scope.center if msg.scope.HasField("center") else None,
            radius_km=msg.scope.radius_km,
        ),
        found,
        "scope",
    )
    selector = read_selector(msg.pool, found, "pool")
    policy = (
        _read_policy(match_pb2.MatchRequest(policy=msg.policy), found)
        if msg.HasField("policy")
        else Policy()
    )
    found.raise_if_any()
    return Scope(area.branch_ids, area.center, area.radius_km), selector, policy


def encode_page_token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o1:{offset}".encode()).decode()


def decode_page_token(token: str, found: Violations) -> int:
    """The offset a page token stands for (0 for none); a foreign token is a violation."""
    if not token:
        return 0
    try:
        raw = base64.urlsafe_b64decode(token.encode()).decode()
    except (ValueError, UnicodeDecodeError):
        raw = ""
    digits = raw[3:]
    # ASCII digits only ("²".isdigit() holds, int("²") fails), and few enough that the
    # offset stays an int64 (Redis list indexes are; int() also refuses > 4300 digits)
    if not raw.startswith("o1:") or not _offset_digits(digits):
        found.add("page_token", "is not a token this server issued")
        return 0
    return int(digits)


def _offset_digits(digits: str) -> bool:
    return digits.isascii() and digits.isdigit() and len(digits) <= MAX_TOKEN_DIGITS
