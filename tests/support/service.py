"""A real matcher server for tests: the small limits most tests run under, a started server
and a channel to it, and a small valid ``MatchRequest`` that the validation tests break one
field at a time. The session fixtures in ``tests/conftest.py`` are built from these."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import grpc
from grpc_health.v1 import health

from matcher.config import Settings
from matcher.observability.tracing import Tracing
from matcher.service.server import MatcherServer, create_server
from matcher.v1 import match_pb2
from tests.support.times import HOUR, T0, window

#: Limits small enough that the limit tests send small messages.
TEST_SETTINGS = Settings(
    port=0,
    workers=4,
    max_requests=40,
    max_volunteers=300,
    max_slots=80,
    max_windows_per_volunteer=4,
    grace_seconds=1.0,
)


@contextmanager
def serving(
    settings: Settings, tracing: Tracing | None = None, **wiring: Any
) -> Iterator[MatcherServer]:
    """A started server for ``settings`` (``tracing`` and ``wiring``, e.g. a clock, go to
    ``create_server``); stopped afterwards."""
    app = create_server(settings, tracing, **wiring)
    app.start()
    try:
        yield app
    finally:
        app.stop()


def channel_to(app: MatcherServer, **options: Any) -> grpc.Channel:
    """An insecure channel to ``app`` on the loopback (``options``: ``insecure_channel``'s)."""
    return grpc.insecure_channel(f"127.0.0.1:{app.port}", **options)


@dataclass(frozen=True)
class RunningServer:
    """A started server and what the tests need to reach and stop it."""

    app: MatcherServer

    @property
    def server(self) -> grpc.Server:
        return self.app.server

    @property
    def port(self) -> int:
        return self.app.port

    @property
    def health(self) -> health.HealthServicer:
        return self.app.health

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"


def make_valid_request() -> match_pb2.MatchRequest:
    """Two requests and three volunteers in Qabqa town; every field valid."""
    return match_pb2.MatchRequest(
        requests=[
            match_pb2.ServiceRequest(
                id="req-a",
                required_skills=["elderly_care"],
                location=match_pb2.GeoPoint(lat=36.27, lon=100.62),
                window=window(T0 + HOUR, T0 + 2 * HOUR),
                urgency=match_pb2.URGENCY_URGENT,
                volunteers_needed=1,
            ),
            match_pb2.ServiceRequest(
                id="req-b",
                required_skills=["live_stream"],
                window=window(T0 + 3 * HOUR, T0 + 4 * HOUR),
                remote=True,
            ),
        ],
        volunteers=[
            match_pb2.Volunteer(
                id="vol-1",
                skills=[
                    match_pb2.Skill(code="elderly_care", level=4),
                    match_pb2.Skill(code="cleaning"),
                ],
                home=match_pb2.GeoPoint(lat=36.28, lon=100.63),
                availability=[window(T0, T0 + 2 * HOUR), window(T0 + 2 * HOUR, T0 + 5 * HOUR)],
                rating=4.5,
                rating_count=10,
                recent_hours=3.0,
            ),
            match_pb2.Volunteer(
                id="vol-2",
                skills=[match_pb2.Skill(code="live_stream", level=5)],
                home=match_pb2.GeoPoint(lat=36.07, lon=100.91),
                availability=[window(T0, T0 + 8 * HOUR)],
            ),
            match_pb2.Volunteer(
                id="vol-3",
                skills=[match_pb2.Skill(code="elderly_care", level=2)],
                home=match_pb2.GeoPoint(lat=36.30, lon=100.60),
                availability=[window(T0, T0 + 8 * HOUR)],
                max_travel_km=20.0,
                rating=3.0,
                rating_count=2,
            ),
        ],
        policy=match_pb2.ScoringPolicy(distance_weight=1.0, routine_value=10),
    )
