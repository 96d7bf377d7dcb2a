"""Offer streams that read slowly, or are many, do not hold up anyone else.

* A client opens WatchOffers and never reads while offers keep being made and declined for
  its volunteer: rounds, another volunteer's stream and unary calls carry on with bounded
  latency, the server grows no threads for it, and its slot is free again once it cancels.
* Each open stream holds a server thread. Before ``MATCHER_MAX_WATCH_STREAMS``, as many
  streams as ``MATCHER_WORKERS`` left unary calls and health checks waiting for ever (they
  hit their deadline); now a stream beyond the limit is refused with RESOURCE_EXHAUSTED
  naming the setting, and the other calls keep their threads.
"""

from __future__ import annotations

import statistics
import threading
import time
from contextlib import ExitStack
from typing import cast

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_status import rpc_status

from matcher.config import ConfigError, Settings
from matcher.service import offer_service
from matcher.v1 import orders_pb2
from tests.support.net import wait_until
from tests.support.orders import ORDER_SETTINGS, OrderSystem, running_system, watching
from tests.support.registry import north_km, upsert

OR = orders_pb2
#: A generous bound on any call or delivery while a stream is stuck.
BOUND_SECONDS = 5.0
#: Offers made and declined for the volunteer whose stream is never read.
CYCLES = 300


def healthy(system: OrderSystem, timeout: float = BOUND_SECONDS) -> bool:
    reply = health_pb2_grpc.HealthStub(system.channel).Check(
        health_pb2.HealthCheckRequest(service="matcher.v1.OfferService"), timeout=timeout
    )
    return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)


def stream_refusal(system: OrderSystem, vid: str) -> grpc.RpcError | None:
    """Open a stream for ``vid`` and read its first answer: the error if it was refused, else
    None (the stream opened; it is cancelled)."""
    call = system.offers.WatchOffers(OR.WatchOffersRequest(volunteer_id=vid), timeout=1)
    try:
        next(call)
    except grpc.RpcError as error:
        if error.code() == grpc.StatusCode.DEADLINE_EXCEEDED:
            return None  # open, and nothing to send: not refused
        return error
    except StopIteration:
        pass
    call.cancel()
    return None


def test_a_stream_that_is_never_read_holds_up_nobody() -> None:
    settings = ORDER_SETTINGS.with_overrides(workers=8)  # 4 streams at once
    with running_system(settings) as system:
        system.register(
            upsert("vol-slow", skills=("calligraphy",), hours=(0, 9)),
            upsert("vol-fast", at=north_km(1), skills=("folk_handicraft",), hours=(0, 9)),
        )
        threads_before = threading.active_count()
        slow = system.offers.WatchOffers(OR.WatchOffersRequest(volunteer_id="vol-slow"))
        calls: list[float] = []
        deliveries: list[float] = []
        with watching(system, "vol-fast") as fast:
            for n in range(CYCLES):
                began = time.monotonic()
                system.submit(
                    f"slow-{n}", skills=("calligraphy",), start_h=1 + n % 7, end_h=2 + n % 7
                )
                [offer] = system.round().offers
                assert offer.volunteer_id == "vol-slow"
                system.decline(offer.offer_id)
                calls.append((time.monotonic() - began) / 3)
                if n % 30 == 0:  # meanwhile the other stream gets its offers at once
                    began = time.monotonic()
                    system.submit(
                        f"fast-{n}", skills=("folk_handicraft",), start_h=1 + n % 7, end_h=2 + n % 7
                    )
                    [other] = system.round().offers
                    assert fast.get(timeout=BOUND_SECONDS) == (other.offer_id, OR.OFFER_STATE_OPEN)
                    deliveries.append(time.monotonic() - began)
                    system.decline(other.offer_id)
                    declined = (other.offer_id, OR.OFFER_STATE_DECLINED)
                    assert fast.get(timeout=BOUND_SECONDS) == declined
            assert healthy(system)
            grown = threading.active_count() - threads_before
        slow.cancel()
        # Its thread ends and its slot is free: the whole limit can be opened again.
        watchers = [f"vol-{k}" for k in range(settings.watch_stream_limit)]
        system.register(*(upsert(vid) for vid in [*watchers, "vol-x"]))
        with ExitStack() as stack:
            for k in range(settings.watch_stream_limit):
                stack.enter_context(watching(system, f"vol-{k}"))
            wait_until(lambda: stream_refusal(system, "vol-x") is not None, 5, "the limit")
        assert max(calls) < BOUND_SECONDS and max(deliveries) < BOUND_SECONDS
        # The server's threads are its worker pool (started on demand) and nothing per message.
        assert grown <= settings.workers + 1, f"{grown} more threads while the stream was stuck"
        print(
            f"{CYCLES} offers made and declined for an unread stream: calls mean "
            f"{statistics.mean(calls) * 1000:.1f} ms, max {max(calls) * 1000:.0f} ms; other "
            f"stream's offers arrived within {max(deliveries) * 1000:.0f} ms; "
            f"{grown} more threads"
        )


def test_streams_beyond_the_limit_are_refused_and_unary_calls_keep_threads() -> None:
    settings = ORDER_SETTINGS.with_overrides(workers=4)  # 2 streams at once
    assert settings.watch_stream_limit == 2
    with running_system(settings) as system:
        system.register(*(upsert(vid) for vid in ("vol-a", "vol-b", "vol-c")))
        with watching(system, "vol-a"), watching(system, "vol-b") as second:
            time.sleep(0.3)  # both hold their thread now
            error = stream_refusal(system, "vol-c")
            assert error is not None
            assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
            assert "MATCHER_MAX_WATCH_STREAMS=2" in (error.details() or "")
            status = rpc_status.from_call(cast(grpc.Call, error))
            assert status is not None
            info = error_details_pb2.ErrorInfo()
            assert status.details[0].Unpack(info)
            assert info.metadata["limit"] == "MATCHER_MAX_WATCH_STREAMS"
            # Unary calls and health checks still get a thread, at once.
            began = time.monotonic()
            assert healthy(system, timeout=2)
            system.submit("key-1")
            assert len(system.round().offers) == 1
            assert time.monotonic() - began < 2
            assert second.empty()
        # Once streams end their slots are free again.
        wait_until(lambda: stream_refusal(system, "vol-c") is None, 5, "a free stream slot")


def test_a_cancelled_stream_frees_its_slot_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(offer_service, "POLL_SECONDS", 60.0)  # only a wake-up can end a wait
    settings = ORDER_SETTINGS.with_overrides(workers=2)  # 1 stream at once
    with running_system(settings) as system:
        system.register(upsert("vol-a"), upsert("vol-b"))  # a stream for a stranger is NOT_FOUND
        with watching(system, "vol-a"):
            time.sleep(0.3)  # the stream holds its slot, waiting for offers
            refused = stream_refusal(system, "vol-b")
            assert refused is not None and refused.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        cancelled = time.monotonic()
        wait_until(lambda: stream_refusal(system, "vol-b") is None, 10, "the slot back")
        assert time.monotonic() - cancelled < 10  # not after the 60 s poll


def test_the_stream_limit_leaves_unary_calls_a_thread() -> None:
    assert Settings(workers=8).watch_stream_limit == 4
    assert Settings(workers=1).watch_stream_limit == 1
    assert Settings(workers=8, max_watch_streams=7).watch_stream_limit == 7
    with pytest.raises(ConfigError, match="MATCHER_MAX_WATCH_STREAMS"):
        Settings(workers=8, max_watch_streams=8)
    assert Settings.from_env({"MATCHER_MAX_WATCH_STREAMS": "3"}).max_watch_streams == 3
