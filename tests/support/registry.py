"""Builders shared by the registry tests: readable volunteers and requests around Qabqa, a
real server over one store with stubs of every service, and readers of a failed call's
error details."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import cast

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_status import rpc_status

from matcher.config import Settings
from matcher.service.server import MatcherServer
from matcher.v1 import match_pb2, match_pb2_grpc, volunteers_pb2, volunteers_pb2_grpc
from tests.support.core import QABQA
from tests.support.service import channel_to, serving
from tests.support.times import HOUR, T0, window

VOLUNTEER_SERVICE = "matcher.v1.VolunteerService"


def upsert(
    vid: str,
    *,
    at: tuple[float, float] = QABQA,
    skills: Sequence[str] = ("elderly_care",),
    hours: tuple[int, int] = (0, 8),
    branch: str = "",
    teams: Sequence[str] = (),
    active: bool | None = None,
    expected_version: int | None = None,
    recent_hours: float = 0.0,
) -> volunteers_pb2.VolunteerUpsert:
    """One volunteer to write: home ``at``, free from T0 + hours[0] h to T0 + hours[1] h."""
    entry = volunteers_pb2.VolunteerUpsert(
        volunteer=match_pb2.Volunteer(
            id=vid,
            skills=[match_pb2.Skill(code=code, level=4) for code in skills],
            home=match_pb2.GeoPoint(lat=at[0], lon=at[1]),
            availability=[window(T0 + hours[0] * HOUR, T0 + hours[1] * HOUR)],
            recent_hours=recent_hours,
        ),
        branch_id=branch,
        team_ids=teams,
    )
    if active is not None:
        entry.active = active
    if expected_version is not None:
        entry.expected_version = expected_version
    return entry


def request(
    rid: str, *, at: tuple[float, float] = QABQA, skills: Sequence[str] = ("elderly_care",)
) -> match_pb2.ServiceRequest:
    """A routine request at ``at`` from T0 + 1 h to T0 + 2 h."""
    return match_pb2.ServiceRequest(
        id=rid,
        required_skills=skills,
        location=match_pb2.GeoPoint(lat=at[0], lon=at[1]),
        window=window(T0 + HOUR, T0 + 2 * HOUR),
    )


def north_km(km: float) -> tuple[float, float]:
    """A point ``km`` north of Qabqa."""
    return (QABQA[0] + km / 111.19, QABQA[1])


def violations(err: grpc.RpcError) -> dict[str, str]:
    """The BadRequest field violations of a failed call, field -> description."""
    status = rpc_status.from_call(cast(grpc.Call, err))
    assert status is not None
    found: dict[str, str] = {}
    for detail in status.details:
        bad_request = error_details_pb2.BadRequest()
        if detail.Unpack(bad_request):
            found.update({v.field: v.description for v in bad_request.field_violations})
    return found


def rpc_error(call: Callable[[], object]) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as caught:
        call()
    return caught.value


@dataclass
class Registry:
    """A running server and stubs to it (``app`` is None for a server in another process)."""

    app: MatcherServer | None
    channel: grpc.Channel
    volunteers: volunteers_pb2_grpc.VolunteerServiceStub
    match: match_pb2_grpc.MatchServiceStub
    health: health_pb2_grpc.HealthStub

    def upsert(self, *entries: volunteers_pb2.VolunteerUpsert) -> list[int]:
        """Write ``entries``; returns their stored versions."""
        reply = self.volunteers.UpsertVolunteers(
            volunteers_pb2.UpsertVolunteersRequest(volunteers=entries), timeout=10
        )
        return [v.version for v in reply.volunteers]

    def assigned(self, *requests: match_pb2.ServiceRequest, **pool: object) -> dict[str, str]:
        """Match ``requests`` against the pool (selector fields as keywords): request -> vol."""
        reply = self.match.Match(
            match_pb2.MatchRequest(requests=requests, pool=match_pb2.PoolSelector(**pool)),
            timeout=30,
        )
        return {a.request_id: a.volunteer_id for a in reply.assignments}

    def health_of(self, service: str = VOLUNTEER_SERVICE) -> int:
        reply = self.health.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
        return int(reply.status)


def registry_over(channel: grpc.Channel, app: MatcherServer | None = None) -> Registry:
    """Stubs of every service over ``channel``."""
    return Registry(
        app,
        channel,
        volunteers_pb2_grpc.VolunteerServiceStub(channel),  # type: ignore[no-untyped-call]
        match_pb2_grpc.MatchServiceStub(channel),  # type: ignore[no-untyped-call]
        health_pb2_grpc.HealthStub(channel),
    )


@contextmanager
def running_registry(settings: Settings) -> Iterator[Registry]:
    """A started server for ``settings`` and a channel to it; stopped afterwards."""
    with serving(settings) as app, channel_to(app) as channel:
        yield registry_over(channel, app)
