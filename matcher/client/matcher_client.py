"""``MatcherClient``: typed calls to MatchService, VolunteerService and StatusService over
one channel (how each call is made: ``matcher.client.calls``; the defaults: the package
docstring)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator, Sequence
from types import TracebackType
from typing import Any, TypeVar

import grpc

from matcher.client.calls import (
    DEFAULT_RETRIES,
    DEFAULT_TIMEOUT,
    MatcherCallError,
    call_with_retries,
    open_channel,
)
from matcher.v1 import (
    match_pb2,
    match_pb2_grpc,
    status_pb2,
    status_pb2_grpc,
    volunteers_pb2,
    volunteers_pb2_grpc,
)

R = TypeVar("R")


class MatcherClient:
    """Typed calls to MatchService, VolunteerService and StatusService over one channel."""

    def __init__(
        self,
        target: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        retries: int = DEFAULT_RETRIES,
        credentials: grpc.ChannelCredentials | None = None,
        metadata: Sequence[tuple[str, str]] = (),
        options: Sequence[tuple[str, Any]] = (),
        api_key: str | None = None,
    ) -> None:
        if timeout <= 0 or retries < 0:
            raise ValueError("timeout must be > 0 and retries >= 0")
        self._channel = open_channel(target, credentials, options)
        self.timeout, self.retries = timeout, retries
        bearer = (("authorization", f"Bearer {api_key}"),) if api_key else ()
        self._metadata = (*metadata, *bearer)
        self._match = match_pb2_grpc.MatchServiceStub(self._channel)
        self._registry = volunteers_pb2_grpc.VolunteerServiceStub(self._channel)
        self._status = status_pb2_grpc.StatusServiceStub(self._channel)

    def __enter__(self) -> MatcherClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the channel (calls in flight are cancelled)."""
        self._channel.close()

    @property
    def channel(self) -> grpc.Channel:
        """The channel, for stubs of services this client has no methods for (orders, ...)."""
        return self._channel

    def wait_until_ready(self, timeout: float | None = None) -> None:
        """Block until the channel connects; ``MatcherCallError`` UNAVAILABLE on timeout."""
        try:
            grpc.channel_ready_future(self._channel).result(timeout=timeout or self.timeout)
        except grpc.FutureTimeoutError:
            raise MatcherCallError(grpc.StatusCode.UNAVAILABLE, "server not reachable") from None

    def _call(
        self,
        method: Callable[..., Any],
        request: Any,
        reply_type: type[R],
        *,
        idempotent: bool,
        timeout: float | None,
    ) -> R:
        """One call with this client's deadline, metadata and (if ``idempotent``) retries."""
        return call_with_retries(
            method,
            request,
            reply_type,
            timeout=self.timeout if timeout is None else timeout,
            retries=self.retries if idempotent else 0,
            metadata=self._metadata,
        )

    # MatchService

    def match(
        self,
        requests: Iterable[match_pb2.ServiceRequest],
        volunteers: Iterable[match_pb2.Volunteer] = (),
        *,
        policy: match_pb2.ScoringPolicy | None = None,
        pool: match_pb2.PoolSelector | None = None,
        timeout: float | None = None,
    ) -> match_pb2.MatchResponse:
        """The optimal assignment of ``requests`` to inline ``volunteers`` or, with ``pool``,
        to the registered volunteers it selects (``PoolSelector()`` = every active one)."""
        request = match_pb2.MatchRequest(requests=requests, volunteers=volunteers)
        if policy is not None:
            request.policy.CopyFrom(policy)
        if pool is not None:
            request.pool.CopyFrom(pool)
        return self._call(
            self._match.Match,
            request,
            match_pb2.MatchResponse,
            idempotent=True,
            timeout=timeout,
        )

    # VolunteerService

    def upsert_volunteers(
        self,
        volunteers: Iterable[volunteers_pb2.VolunteerUpsert | match_pb2.Volunteer],
        *,
        timeout: float | None = None,
    ) -> volunteers_pb2.UpsertVolunteersResponse:
        """Create or update volunteers (a bare ``Volunteer`` is an active one, no branch)."""
        upserts = [
            v
            if isinstance(v, volunteers_pb2.VolunteerUpsert)
            else volunteers_pb2.VolunteerUpsert(volunteer=v)
            for v in volunteers
        ]
        conditional = any(u.HasField("expected_version") for u in upserts)
        return self._call(
            self._registry.UpsertVolunteers,
            volunteers_pb2.UpsertVolunteersRequest(volunteers=upserts),
            volunteers_pb2.UpsertVolunteersResponse,
            idempotent=not conditional,
            timeout=timeout,
        )

    def get_volunteer(
        self, volunteer_id: str, *, timeout: float | None = None
    ) -> volunteers_pb2.RegisteredVolunteer:
        """One registered volunteer; NOT_FOUND if absent."""
        reply = self._call(
            self._registry.GetVolunteer,
            volunteers_pb2.GetVolunteerRequest(volunteer_id=volunteer_id),
            volunteers_pb2.GetVolunteerResponse,
            idempotent=True,
            timeout=timeout,
        )
        return reply.volunteer

    def delete_volunteer(
        self,
        volunteer_id: str,
        *,
        expected_version: int | None = None,
        timeout: float | None = None,
    ) -> volunteers_pb2.DeleteVolunteerResponse:
        """Remove a volunteer (never retried; see the module docstring)."""
        request = volunteers_pb2.DeleteVolunteerRequest(volunteer_id=volunteer_id)
        if expected_version is not None:
            request.expected_version = expected_version
        return self._call(
            self._registry.DeleteVolunteer,
            request,
            volunteers_pb2.DeleteVolunteerResponse,
            idempotent=False,
            timeout=timeout,
        )

    def list_volunteers(
        self,
        where: VolunteerFilter | None = None,
        *,
        page_size: int = 0,
        page_token: str = "",
        timeout: float | None = None,
    ) -> volunteers_pb2.ListVolunteersResponse:
        """One page of volunteers matching ``where``, ordered by id (``page_size`` 0 = 100)."""
        request = (where or VolunteerFilter()).to_request()
        request.page_size, request.page_token = page_size, page_token
        return self._call(
            self._registry.ListVolunteers,
            request,
            volunteers_pb2.ListVolunteersResponse,
            idempotent=True,
            timeout=timeout,
        )

    def iter_volunteers(
        self, where: VolunteerFilter | None = None, *, page_size: int = 0
    ) -> Iterator[volunteers_pb2.RegisteredVolunteer]:
        """Every volunteer matching ``where``, page after page (one deadline per page)."""
        token = ""
        while True:
            page = self.list_volunteers(where, page_size=page_size, page_token=token)
            yield from page.volunteers
            token = page.next_page_token
            if not token:
                return

    def replace_availability(
        self,
        volunteer_id: str,
        availability: Iterable[match_pb2.TimeWindow],
        *,
        expected_version: int | None = None,
        timeout: float | None = None,
    ) -> volunteers_pb2.RegisteredVolunteer:
        """Replace a volunteer's windows; retried only without ``expected_version``."""
        request = volunteers_pb2.ReplaceAvailabilityRequest(
            volunteer_id=volunteer_id, availability=availability
        )
        if expected_version is not None:
            request.expected_version = expected_version
        reply = self._call(
            self._registry.ReplaceAvailability,
            request,
            volunteers_pb2.ReplaceAvailabilityResponse,
            idempotent=expected_version is None,
            timeout=timeout,
        )
        return reply.volunteer

    def get_registry_status(
        self, *, timeout: float | None = None
    ) -> volunteers_pb2.GetRegistryStatusResponse:
        """Size and freshness of the registry as the server sees it."""
        return self._call(
            self._registry.GetRegistryStatus,
            volunteers_pb2.GetRegistryStatusRequest(),
            volunteers_pb2.GetRegistryStatusResponse,
            idempotent=True,
            timeout=timeout,
        )

    # StatusService

    def get_server_status(
        self, *, timeout: float | None = None
    ) -> status_pb2.GetServerStatusResponse:
        """The server's version, store, registry figures and main counters."""
        return self._call(
            self._status.GetServerStatus,
            status_pb2.GetServerStatusRequest(),
            status_pb2.GetServerStatusResponse,
            idempotent=True,
            timeout=timeout,
        )


@dataclasses.dataclass(frozen=True)
class VolunteerFilter:
    """Which registered volunteers to list; criteria combine with AND, defaults match all
    active volunteers."""

    branch_ids: Sequence[str] = ()
    team_id: str = ""
    skill: str = ""
    center: match_pb2.GeoPoint | None = None
    radius_km: float = 0.0
    include_inactive: bool = False

    def to_request(self) -> volunteers_pb2.ListVolunteersRequest:
        """A ``ListVolunteersRequest`` with these filters (first page)."""
        criteria = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        return volunteers_pb2.ListVolunteersRequest(**criteria)  # the same names
