"""The order domain -> the order services' messages: orders (with offers and history) and
offers, each carrying its order's ``ServiceRequest``."""

from __future__ import annotations

from typing import Any

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


def offer_to_proto(order: Order, made: Offer) -> orders_pb2.Offer:
    return orders_pb2.Offer(**_offer(order, made, spec_to_request(order.order_id, order.spec)))


def order_to_proto(order: Order) -> orders_pb2.Order:
    """The full order: offers, history and the resident's contact."""
    request = spec_to_request(order.order_id, order.spec)
    return orders_pb2.Order(
        order_id=order.order_id,
        request=request,
        branch_id=order.branch_id,
        resident={"resident_id": order.resident.resident_id, "contact": order.resident.contact},
        state=f"ORDER_STATE_{order.state.name}",
        offers=[_offer(order, o, request) for o in order.offers],
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


def _offer(order: Order, made: Offer, request: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "offer_id": made.offer_id,
        "order_id": order.order_id,
        "volunteer_id": made.volunteer_id,
        "state": int(made.state),
        "deadline": timestamp_fields(made.deadline_ms),
        "request": request,
        "volunteer_window": window_fields(made.window_start, made.window_end),
        "distance_km": made.distance_km,
        "create_time": timestamp_fields(made.created_ms),
    }
    if made.decided_ms:
        out["decide_time"] = timestamp_fields(made.decided_ms)
    return out
