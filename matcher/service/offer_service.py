"""OfferService: the volunteers' side (接单) over the order desk.

``WatchOffers`` is a server stream: it sends every OPEN offer first, then each offer again
whenever it is made or changes state. A volunteer neither registered nor ever offered an
order is NOT_FOUND before the stream starts (not a stream that waits forever). It wakes
at once on changes made in this process (``OfferFeed``) and re-reads the volunteer's offers
at least every ``POLL_SECONDS`` for changes made by other processes. Each open stream holds
one server thread (gRPC's sync server) for as long as it is open, however slowly its client
reads, so the streams open at once are limited (``MATCHER_MAX_WATCH_STREAMS``, half the
workers by default): one more is refused with RESOURCE_EXHAUSTED naming the setting, and unary
calls and health checks always keep threads. Without the limit, as many streams as workers
left every other call waiting.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import grpc

from matcher.access import policy
from matcher.access.principal import current
from matcher.errors import LimitExceededError, NotFoundError
from matcher.orders.desk import OrderDesk
from matcher.orders.model import OfferState
from matcher.service.convert.orders import (
    check_id,
    offer_states_to_domain,
    offer_to_proto,
    order_to_proto,
)
from matcher.v1 import orders_pb2, orders_pb2_grpc

#: How often a stream re-reads its volunteer's offers without being woken, seconds.
POLL_SECONDS = 0.5
#: The setting that limits the streams open at once.
STREAM_LIMIT = "MATCHER_MAX_WATCH_STREAMS"


class StreamSlots:
    """At most ``limit`` streams open at once; ``taken()`` holds one for a stream's life."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._open = 0
        self._lock = threading.Lock()

    @property
    def open(self) -> int:
        return self._open

    @contextmanager
    def taken(self) -> Iterator[None]:
        """Hold a slot (``LimitExceededError`` when none is free) until the block ends."""
        with self._lock:
            if self._open >= self.limit:
                raise LimitExceededError(
                    STREAM_LIMIT, self.limit, self._open + 1, "open WatchOffers streams"
                )
            self._open += 1
        try:
            yield
        finally:
            with self._lock:
                self._open -= 1


class OfferServicer(orders_pb2_grpc.OfferServiceServicer):
    """OfferService: list, watch, accept and decline offers."""

    def __init__(
        self, desk: OrderDesk, poll_seconds: float | None = None, *, max_streams: int = 4
    ) -> None:
        self._desk = desk
        self._poll = POLL_SECONDS if poll_seconds is None else poll_seconds
        self.streams = StreamSlots(max_streams)

    def ListOffers(  # noqa: N802 (the rpc's name)
        self, request: orders_pb2.ListOffersRequest, context: grpc.ServicerContext
    ) -> orders_pb2.ListOffersResponse:
        check_id(request.volunteer_id, "volunteer_id")
        policy.check_volunteer(current(), request.volunteer_id)
        states = offer_states_to_domain(request.states)
        pairs = self._desk.volunteer_offers(request.volunteer_id)
        return orders_pb2.ListOffersResponse(
            offers=[offer_to_proto(order, made) for order, made in pairs if made.state in states]
        )

    def WatchOffers(  # noqa: N802
        self, request: orders_pb2.WatchOffersRequest, context: grpc.ServicerContext
    ) -> Iterator[orders_pb2.WatchOffersResponse]:
        check_id(request.volunteer_id, "volunteer_id")
        policy.check_volunteer(current(), request.volunteer_id)
        self._check_known(request.volunteer_id)  # before the stream starts: never a silent wait
        with self.streams.taken():
            yield from self._watch(request.volunteer_id, context)

    def _check_known(self, volunteer_id: str) -> None:
        """``NotFoundError`` for a volunteer neither registered nor ever offered an order."""
        desk = self._desk
        if desk.registry.get(volunteer_id) is None and not desk.orders.volunteer_order_ids(
            volunteer_id
        ):
            raise NotFoundError(f"volunteer {volunteer_id} is not registered")

    def _watch(
        self, volunteer_id: str, context: grpc.ServicerContext
    ) -> Iterator[orders_pb2.WatchOffersResponse]:
        feed = self._desk.feed
        # A cancelled stream wakes its wait at once, so its thread and slot come back now,
        # not at the next poll.
        context.add_callback(lambda: feed.touch((volunteer_id,)))
        seen: dict[str, OfferState] | None = None
        while context.is_active() and not feed.closed:
            count = feed.count(volunteer_id)
            pairs = self._desk.volunteer_offers(volunteer_id)
            for order, made in pairs:
                before = None if seen is None else seen.get(made.offer_id)
                fresh = made.state is OfferState.OPEN if seen is None else before != made.state
                if fresh:
                    yield orders_pb2.WatchOffersResponse(offer=offer_to_proto(order, made))
            seen = {made.offer_id: made.state for _, made in pairs}
            feed.wait(volunteer_id, count, self._poll)

    def AcceptOffer(  # noqa: N802
        self, request: orders_pb2.AcceptOfferRequest, context: grpc.ServicerContext
    ) -> orders_pb2.AcceptOfferResponse:
        check_id(request.offer_id, "offer_id")
        caller = current()
        policy.check_offer(caller, request.offer_id, self._desk.get)
        order = self._desk.accept(request.offer_id)
        made = order.offer(request.offer_id)
        assert made is not None
        return orders_pb2.AcceptOfferResponse(
            offer=offer_to_proto(order, made),
            order=order_to_proto(policy.visible_order(caller, order)),
        )

    def DeclineOffer(  # noqa: N802
        self, request: orders_pb2.DeclineOfferRequest, context: grpc.ServicerContext
    ) -> orders_pb2.DeclineOfferResponse:
        check_id(request.offer_id, "offer_id")
        policy.check_offer(current(), request.offer_id, self._desk.get)
        order = self._desk.decline(request.offer_id)
        made = order.offer(request.offer_id)
        assert made is not None
        return orders_pb2.DeclineOfferResponse(offer=offer_to_proto(order, made))
