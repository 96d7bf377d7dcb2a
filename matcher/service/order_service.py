"""OrderService: submitting, reading, cancelling, completing and rating orders, a thin layer
over the order desk.

validate -> convert (``matcher.service.convert.orders``) -> access policy (whose order:
``matcher.access.policy``) -> desk -> convert. Errors map in ``matcher.service.errors``: an
unknown order is NOT_FOUND, a transition the order's state does not allow
FAILED_PRECONDITION (naming the state), bad input INVALID_ARGUMENT naming the field.
"""

from __future__ import annotations

import grpc

from matcher.access import policy
from matcher.access.principal import current
from matcher.orders.desk import OrderDesk
from matcher.service.convert.orders import (
    cancellation_to_domain,
    check_id,
    completion_to_domain,
    encode_page_token,
    list_orders_to_query,
    order_to_proto,
    rating_to_domain,
    submission_to_domain,
)
from matcher.v1 import orders_pb2, orders_pb2_grpc


class OrderServicer(orders_pb2_grpc.OrderServiceServicer):
    """OrderService: submissions, reads, cancellations, completions, ratings."""

    def __init__(self, desk: OrderDesk) -> None:
        self._desk = desk

    def SubmitOrder(  # noqa: N802 (the rpc's name)
        self, request: orders_pb2.SubmitOrderRequest, context: grpc.ServicerContext
    ) -> orders_pb2.SubmitOrderResponse:
        wanted = submission_to_domain(request, self._desk.now_ms() // 1000)
        caller = current()
        order, created = self._desk.submit(
            wanted.branch_id, wanted.resident, wanted.spec, wanted.idempotency_key, caller.key_id
        )
        policy.check_order(caller, order)
        if created:  # an urgent order may have been dispatched already: show where it is
            order = self._desk.get(order.order_id)
        return orders_pb2.SubmitOrderResponse(order=order_to_proto(order), created=created)

    def GetOrder(  # noqa: N802
        self, request: orders_pb2.GetOrderRequest, context: grpc.ServicerContext
    ) -> orders_pb2.GetOrderResponse:
        check_id(request.order_id, "order_id")
        order = self._desk.get(request.order_id)
        policy.check_order(current(), order)
        return orders_pb2.GetOrderResponse(order=order_to_proto(order))

    def ListOrders(  # noqa: N802
        self, request: orders_pb2.ListOrdersRequest, context: grpc.ServicerContext
    ) -> orders_pb2.ListOrdersResponse:
        query = list_orders_to_query(request)
        page, total = self._desk.list_orders(
            query.states,
            query.branch_ids,
            query.offset,
            query.page_size,
            policy.owner_filter(current()),
        )
        end = query.offset + len(page)
        return orders_pb2.ListOrdersResponse(
            orders=[order_to_proto(o) for o in page],
            next_page_token=encode_page_token(end) if end < total else "",
            total_size=total,
        )

    def CancelOrder(  # noqa: N802
        self, request: orders_pb2.CancelOrderRequest, context: grpc.ServicerContext
    ) -> orders_pb2.CancelOrderResponse:
        actor, reason = cancellation_to_domain(request)
        caller = current()
        actor = policy.cancel_actor(caller, actor)
        policy.check_order_id(caller, lambda: self._desk.get(request.order_id))
        order = self._desk.cancel(request.order_id, actor, reason)
        return orders_pb2.CancelOrderResponse(order=order_to_proto(order))

    def CompleteOrder(  # noqa: N802
        self, request: orders_pb2.CompleteOrderRequest, context: grpc.ServicerContext
    ) -> orders_pb2.CompleteOrderResponse:
        minutes, actor, volunteer_id = completion_to_domain(request)
        caller = current()
        policy.check_completion(
            caller, actor, volunteer_id, lambda: self._desk.get(request.order_id)
        )
        order, credited = self._desk.complete(request.order_id, minutes, actor, volunteer_id)
        shown = policy.visible_order(caller, order)
        return orders_pb2.CompleteOrderResponse(order=order_to_proto(shown), credited=credited)

    def RateOrder(  # noqa: N802
        self, request: orders_pb2.RateOrderRequest, context: grpc.ServicerContext
    ) -> orders_pb2.RateOrderResponse:
        stars, comment = rating_to_domain(request)
        policy.check_order_id(current(), lambda: self._desk.get(request.order_id))
        order = self._desk.rate(request.order_id, stars, comment)
        return orders_pb2.RateOrderResponse(order=order_to_proto(order))
