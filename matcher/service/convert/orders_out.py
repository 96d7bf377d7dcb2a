"""The order domain -> the order services' messages: orders (with offers and history) and
offers, each carrying its order's ``ServiceRequest``.

What a caller sees of each offer is decided by ``matcher.access.policy.offer_view`` for the
principal of the current call (a resident app: not the volunteer's distance from home nor
its availability window); a caller may pass the view itself.
"""

from __future__ import annotations

from typing import Any

from matcher.access.policy import OfferView, offer_view
from matcher.access.principal import current
from matcher.orders.model import Offer, Order, ServiceSpec
from matcher.service.convert.match_out import timestamp_fields, window_fields
from matcher.v1 import orders_pb2


def spec_to_request(order_id: str, spec: ServiceSpec) -> dict[str, Any]:
    """A ``ServiceRequest`` (as a dict) for an order's spec."""
    request: dict[str, Any] = {
        "id": order_id,
        "required_skills": list(spec.skills),
        "window": window_fields(spec.start, spec.end),
        "urgency": int(spec.urgency),
        "volunteers_needed": spec.volunteers_needed,
        "remote": spec.remote,
        "max_distance_km": spec.max_distance_km,
    }
    if not spec.remote or (spec.lat, spec.lon) != (0.0, 0.0):
        request["location"] = {"lat": spec.lat, "lon": spec.lon}
    return request


def offer_to_proto(order: Order, made: Offer, view: OfferView | None = None) -> orders_pb2.Offer:
    """One offer as ``view`` (by default the current caller's) shows it."""
    request = spec_to_request(order.order_id, order.spec)
    return orders_pb2.Offer(**_offer(order, made, request, view or offer_view(current())))


def order_to_proto(order: Order, view: OfferView | None = None) -> orders_pb2.Order:
    """The order: offers (as ``view``, by default the current caller's, shows them),
    history and the resident's contact."""
    view = view or offer_view(current())
    request = spec_to_request(order.order_id, order.spec)
    return orders_pb2.Order(
        order_id=order.order_id,
        request=request,
        branch_id=order.branch_id,
        resident={"resident_id": order.resident.resident_id, "contact": order.resident.contact},
        state=f"ORDER_STATE_{order.state.name}",
        offers=[_offer(order, o, request, view) for o in order.offers],
        accepted_volunteer_ids=list(order.accepted_volunteers),
        hours_served=order.minutes_served / 60,
        rating=order.stars,
        rating_comment=order.comment,
        history=[
            {
                "time": timestamp_fields(e.at_ms),
                "event": e.event.value,
                "from_state": int(e.from_state) if e.from_state is not None else 0,
                "to_state": int(e.to_state),
                "actor": int(e.actor),
                "volunteer_id": e.volunteer_id,
                "offer_id": e.offer_id,
            }
            for e in order.history
        ],
        create_time=timestamp_fields(order.created_ms),
        update_time=timestamp_fields(order.updated_ms),
        version=order.version,
    )


def _offer(order: Order, made: Offer, request: dict[str, Any], view: OfferView) -> dict[str, Any]:
    out: dict[str, Any] = {
        "offer_id": made.offer_id,
        "order_id": order.order_id,
        "volunteer_id": made.volunteer_id,
        "state": int(made.state),
        "deadline": timestamp_fields(made.deadline_ms),
        "request": request,
        "create_time": timestamp_fields(made.created_ms),
    }
    if view.volunteer_details:
        out["volunteer_window"] = window_fields(made.window_start, made.window_end)
        out["distance_km"] = made.distance_km
    if made.decided_ms:
        out["decide_time"] = timestamp_fields(made.decided_ms)
    return out
