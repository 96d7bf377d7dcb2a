"""Wiring of the order lifecycle into a server: the order store, the desk, the dispatcher and
the four services (OrderService, DispatchService, OfferService, TimeBankService).

The order store lives where the registry does (``MATCHER_STORE``, same Redis key prefix), so
servers sharing a Redis share orders, holds and the ledger. ``server._build`` calls
``add_order_services`` and starts / stops what it returns with the server.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import grpc

from matcher.config import Settings
from matcher.orders.desk import OrderDesk
from matcher.orders.dispatcher import Dispatcher
from matcher.orders.observer import LifecycleObserver
from matcher.orders.store.base import OrderStore, open_order_store
from matcher.orders.timebank import TimeBank
from matcher.registry.view import PoolView
from matcher.service.offer_service import OfferServicer
from matcher.service.order_service import DispatchServicer, OrderServicer
from matcher.service.timebank_service import TimeBankServicer
from matcher.v1 import orders_pb2, orders_pb2_grpc, timebank_pb2, timebank_pb2_grpc

_ORDERS = orders_pb2.DESCRIPTOR.services_by_name
ORDER_SERVICE_NAME: str = _ORDERS["OrderService"].full_name
DISPATCH_SERVICE_NAME: str = _ORDERS["DispatchService"].full_name
OFFER_SERVICE_NAME: str = _ORDERS["OfferService"].full_name
TIMEBANK_SERVICE_NAME: str = timebank_pb2.DESCRIPTOR.services_by_name["TimeBankService"].full_name
#: Every service this module registers (for health and reflection).
SERVICE_NAMES = (
    ORDER_SERVICE_NAME,
    DISPATCH_SERVICE_NAME,
    OFFER_SERVICE_NAME,
    TIMEBANK_SERVICE_NAME,
)


@dataclass(frozen=True)
class OrderServices:
    """What runs the order lifecycle in one server."""

    store: OrderStore
    desk: OrderDesk
    dispatcher: Dispatcher

    def start(self) -> None:
        """Recover what a stopped dispatcher left, then start the timed rounds."""
        self.dispatcher.start()

    def stop(self) -> None:
        """Stop the rounds, end the offer streams and close the order store."""
        self.dispatcher.stop()
        self.store.close()


def add_order_services(
    server: grpc.Server,
    settings: Settings,
    pool_view: PoolView,
    clock: Callable[[], float] = time.time,
    observer: LifecycleObserver | None = None,
) -> OrderServices:
    """Open the order store and register the four services on ``server``; ``observer``
    hears of every order written and every round run."""
    store = open_order_store(settings.store, prefix=settings.redis_prefix)
    desk = OrderDesk(store, pool_view.store, clock, settings.offer_ttl_seconds, observer=observer)
    dispatcher = Dispatcher(desk, pool_view, settings.dispatch_window_seconds)
    bank = TimeBank(store, pool_view.store, clock)
    orders_pb2_grpc.add_OrderServiceServicer_to_server(OrderServicer(desk), server)  # type: ignore[no-untyped-call]
    orders_pb2_grpc.add_DispatchServiceServicer_to_server(DispatchServicer(dispatcher), server)  # type: ignore[no-untyped-call]
    offers = OfferServicer(desk, max_streams=settings.watch_stream_limit)
    orders_pb2_grpc.add_OfferServiceServicer_to_server(offers, server)  # type: ignore[no-untyped-call]
    timebank_pb2_grpc.add_TimeBankServiceServicer_to_server(TimeBankServicer(bank), server)  # type: ignore[no-untyped-call]
    return OrderServices(store, desk, dispatcher)
