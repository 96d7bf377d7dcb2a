"""Per-key rate limits and deadlines on a real server: a burst, then RESOURCE_EXHAUSTED
naming MATCHER_RATE_LIMIT_PER_SECOND (ErrorInfo LIMIT_EXCEEDED), then recovery; a key's own
rate from the keys file; per peer address in open mode; and a Match whose deadline passed
while it waited for the only worker is never solved."""

from __future__ import annotations

import time
from pathlib import Path
from types import SimpleNamespace

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_status import rpc_status

from matcher.access.keys import KeyRing, hash_token, new_token
from matcher.access.rate_limit import RateLimiter
from matcher.config import Settings
from matcher.errors import DeadlineExceededError
from matcher.service.interceptors.access import AccessInterceptor
from matcher.service.match_service import check_deadline
from matcher.service.server import MatcherServer
from matcher.v1 import match_pb2_grpc, orders_pb2, status_pb2, status_pb2_grpc
from tests.support.net import wait_until
from tests.support.orders import ORDER_SETTINGS, running_system
from tests.support.registry import north_km, rpc_error, upsert
from tests.support.service import channel_to, make_valid_request, serving

FAST, SLOW = new_token(), new_token()
BASE = Settings(port=0, metrics_port=-1, workers=2)
STATUS = status_pb2.GetServerStatusRequest()
MATCH = "/matcher.v1.MatchService/Match"
WATCH = "/matcher.v1.OfferService/WatchOffers"


def status_call(channel: grpc.Channel, token: str | None = None) -> None:
    stub = status_pb2_grpc.StatusServiceStub(channel)  # type: ignore[no-untyped-call]
    metadata = (("authorization", f"Bearer {token}"),) if token else ()
    stub.GetServerStatus(STATUS, metadata=metadata, timeout=10)


def limit_info(err: grpc.RpcError) -> error_details_pb2.ErrorInfo:
    status = rpc_status.from_call(err)  # type: ignore[arg-type]
    assert status is not None
    info = error_details_pb2.ErrorInfo()
    assert status.details[0].Unpack(info)
    return info


def test_a_burst_then_resource_exhausted_naming_the_limit_then_recovery() -> None:
    keys = f"ops:admin:{hash_token(FAST)}"
    settings = BASE.with_overrides(api_keys=keys, rate_limit_per_second=5.0, rate_limit_burst=3)
    with serving(settings) as app, channel_to(app) as channel:
        for _ in range(3):
            status_call(channel, FAST)
        err = rpc_error(lambda: status_call(channel, FAST))
        assert err.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert "API key ops" in (err.details() or "")
        assert "exceeds the limit MATCHER_RATE_LIMIT_PER_SECOND=5" in (err.details() or "")
        info = limit_info(err)
        assert (info.reason, info.metadata["limit"]) == (
            "LIMIT_EXCEEDED",
            "MATCHER_RATE_LIMIT_PER_SECOND",
        )
        assert info.metadata["allowed"] == "5"
        time.sleep(0.25)  # a token back at 5 per second
        status_call(channel, FAST)


def test_a_key_has_its_own_rate_from_the_keys_file(tmp_path: Path) -> None:
    path = tmp_path / "keys.toml"
    path.write_text(
        f'[[keys]]\nid = "ops"\nrole = "admin"\nsha256 = "{hash_token(FAST)}"\n\n'
        f'[[keys]]\nid = "batch"\nrole = "dispatcher"\nsha256 = "{hash_token(SLOW)}"\n'
        "rate_per_second = 1\n",
        encoding="utf-8",
    )
    with serving(BASE.with_overrides(api_keys_file=str(path))) as app, channel_to(app) as channel:
        status_call(channel, SLOW)
        err = rpc_error(lambda: status_call(channel, SLOW))
        assert err.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert "API key batch" in (err.details() or "")
        for _ in range(10):  # the server-wide rate is off: the other key is not limited
            status_call(channel, FAST)


def test_open_mode_limits_per_peer_address_and_never_health() -> None:
    settings = BASE.with_overrides(rate_limit_per_second=1.0)
    with serving(settings) as app, channel_to(app) as channel:
        status_call(channel)
        err = rpc_error(lambda: status_call(channel))
        assert err.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert "calls this second by peer 127.0.0.1" in (err.details() or "")
        health = health_pb2_grpc.HealthStub(channel)
        for _ in range(5):
            health.Check(health_pb2.HealthCheckRequest(), timeout=5)


def _calls_of(app: MatcherServer, method: str) -> float:
    """Calls of ``method`` that ended, whatever their code."""
    return sum(
        s.value
        for family in app.metrics.registry.collect()
        for s in family.samples
        if s.name == "matcher_rpc_requests_total" and s.labels.get("method") == method
    )


def _sample(app: MatcherServer, name: str, labels: dict[str, str] | None = None) -> float:
    value = app.metrics.registry.get_sample_value(name, labels or {})
    return value or 0.0


def test_a_match_whose_deadline_passed_in_the_queue_is_not_solved() -> None:
    with running_system(ORDER_SETTINGS.with_overrides(workers=1)) as system:
        system.register(upsert("vol-x", at=north_km(1)))
        system.submit("k-1")
        system.round()  # an open offer to vol-x, so its stream answers at once
        watch = system.offers.WatchOffers(orders_pb2.WatchOffersRequest(volunteer_id="vol-x"))
        assert next(watch).offer.volunteer_id == "vol-x"  # the stream holds the only worker
        match = match_pb2_grpc.MatchServiceStub(system.channel)  # type: ignore[no-untyped-call]
        err = rpc_error(lambda: match.Match(make_valid_request(), timeout=0.3))
        assert err.code() == grpc.StatusCode.DEADLINE_EXCEEDED
        watch.cancel()  # the worker is free again; the queued Match is past its deadline
        app = system.app
        wait_until(lambda: _calls_of(app, WATCH) > 0, 10, "the stream to end")
        time.sleep(0.3)  # time for the queued call to be taken up, if it were
        assert _sample(app, "matcher_match_batch_requests_count") == 0  # never solved
        assert _calls_of(app, MATCH) == 0  # gRPC dropped it before any servicer ran
        match.Match(make_valid_request(), timeout=10)  # a Match in time is solved
        assert _sample(app, "matcher_match_batch_requests_count") == 1


def test_the_interceptor_refuses_a_call_past_its_deadline() -> None:
    interceptor = AccessInterceptor(KeyRing(), RateLimiter(0, 0))
    late = SimpleNamespace(time_remaining=lambda: -0.01)
    with pytest.raises(DeadlineExceededError, match="deadline of /m/M passed before it started"):
        interceptor.admit("/m/M", late)  # type: ignore[arg-type]


def test_match_checks_the_deadline_before_solving() -> None:
    check_deadline(SimpleNamespace(time_remaining=lambda: None))  # type: ignore[arg-type]
    check_deadline(SimpleNamespace(time_remaining=lambda: 0.5))  # type: ignore[arg-type]
    with pytest.raises(DeadlineExceededError, match="before the solve started"):
        check_deadline(SimpleNamespace(time_remaining=lambda: 0.0))  # type: ignore[arg-type]
