"""DispatchService: dispatch rounds on demand, a thin layer over the dispatcher.

validate -> convert (``matcher.service.convert.orders``) -> ``Dispatcher.run_round`` ->
convert. The timed rounds run without it (``matcher.orders.dispatcher``); this service runs
one now, for a dispatcher's console or a test. Bad input is INVALID_ARGUMENT naming the field.
"""

from __future__ import annotations

import grpc

from matcher.orders.dispatcher import Dispatcher
from matcher.service.convert.orders import offer_to_proto, round_to_domain
from matcher.v1 import orders_pb2, orders_pb2_grpc


class DispatchServicer(orders_pb2_grpc.DispatchServiceServicer):
    """DispatchService: rounds on demand."""

    def __init__(self, dispatcher: Dispatcher) -> None:
        self._dispatcher = dispatcher

    def RunDispatchRound(  # noqa: N802
        self, request: orders_pb2.RunDispatchRoundRequest, context: grpc.ServicerContext
    ) -> orders_pb2.RunDispatchRoundResponse:
        scope, selector, policy = round_to_domain(request)
        report = self._dispatcher.run_round(scope, selector, policy)
        return orders_pb2.RunDispatchRoundResponse(
            orders_considered=report.orders_considered,
            offers=[offer_to_proto(order, made) for order, made in report.offers],
            orders_unserved=report.orders_unserved,
            offers_expired=report.offers_expired,
            orders_lapsed=report.orders_lapsed,
            reservation_conflicts=report.reservation_conflicts,
            solves=report.solves,
        )
