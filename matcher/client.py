"""A small typed Python client for the matcher's gRPC API (the integrator's kit).

::

    from matcher.client import MatcherClient, MatcherCallError

    with MatcherClient("127.0.0.1:50051") as client:
        reply = client.match(requests, volunteers)            # match_pb2.MatchResponse
        for volunteer in client.iter_volunteers(skill="elderly_care"):
            ...

Defaults, each a keyword argument:

- **Deadline** ``timeout=10.0`` seconds per call, retries included (``timeout=`` on a method
  overrides it for that call).
- **Retries** ``retries=3``: a call that fails with UNAVAILABLE (server restarting, store
  down) is sent again after 0.1 s, 0.2 s, 0.4 s, ... (doubling, at most 2 s, ±20% jitter),
  within the deadline, **only when resending cannot change the outcome**: Match (read-only),
  the gets, lists and statuses, and UpsertVolunteers / ReplaceAvailability without an
  ``expected_version`` (resending the same records changes nothing). DeleteVolunteer is never
  retried (if the first attempt did delete, the retry would answer NOT_FOUND), nor is a write
  with an ``expected_version`` (the retry would answer FAILED_PRECONDITION).
- **Keep-alive** pings every 5 minutes while calls are open (``KEEPALIVE_OPTIONS``; gRPC
  servers by default refuse pings more often than that), so a dead connection is noticed.
- **Messages** up to 256 MiB each way, as the server allows by default.
- **TLS** when ``credentials`` are given: ``matcher.tls.channel_credentials("ca.pem")``, with
  a client certificate and key for a server that requires one; plaintext otherwise.
- **API key** ``api_key="<token>"`` sends ``authorization: Bearer <token>`` with every call
  (needed when the server has access control on); ``metadata=`` adds any other entries.

Every failed call raises ``MatcherCallError`` carrying the status code, message, the
``google.rpc.BadRequest`` field violations and the ``google.rpc.ErrorInfo`` reason/metadata.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, TypeVar

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from matcher.errors import FieldViolation
from matcher.v1 import (
    match_pb2,
    match_pb2_grpc,
    status_pb2,
    status_pb2_grpc,
    volunteers_pb2,
    volunteers_pb2_grpc,
)

R = TypeVar("R")

#: Keep-alive: ping an idle-but-busy connection every 5 min (the gRPC server default minimum).
KEEPALIVE_OPTIONS: tuple[tuple[str, int], ...] = (
    ("grpc.keepalive_time_ms", 300_000),
    ("grpc.keepalive_timeout_ms", 20_000),
    ("grpc.keepalive_permit_without_calls", 0),
)
MAX_MESSAGE_BYTES = 256 * 1024 * 1024
DEFAULT_TIMEOUT = 10.0
DEFAULT_RETRIES = 3
INITIAL_BACKOFF, MAX_BACKOFF, JITTER = 0.1, 2.0, 0.2


class MatcherCallError(Exception):
    """A call failed: ``code`` (``grpc.StatusCode``), ``message``, and the details the server
    attached: ``field_violations`` (bad input), ``reason`` and ``error_metadata`` (ErrorInfo,
    e.g. ``LIMIT_EXCEEDED`` with ``limit`` / ``allowed`` / ``actual``)."""

    def __init__(
        self,
        code: grpc.StatusCode,
        message: str,
        field_violations: Sequence[FieldViolation] = (),
        reason: str = "",
        error_metadata: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(f"{code.name}: {message}")
        self.code = code
        self.message = message
        self.field_violations = tuple(field_violations)
        self.reason = reason
        self.error_metadata = dict(error_metadata or {})

    @classmethod
    def from_rpc_error(cls, error: grpc.RpcError) -> MatcherCallError:
        """Read the code, message and ``google.rpc.Status`` details of a failed call."""
        code = error.code() if isinstance(error, grpc.Call) else grpc.StatusCode.UNKNOWN
        message = (error.details() if isinstance(error, grpc.Call) else None) or str(error)
        violations: list[FieldViolation] = []
        reason, metadata = "", dict[str, str]()
        try:
            status = rpc_status.from_call(error) if isinstance(error, grpc.Call) else None
        except ValueError:  # a status detail whose code disagrees with the call's
            status = None
        details: Sequence[Any] = status.details if status is not None else ()
        for detail in details:
            bad, info = error_details_pb2.BadRequest(), error_details_pb2.ErrorInfo()
            if detail.Unpack(bad):
                violations += [FieldViolation(v.field, v.description) for v in bad.field_violations]
            elif detail.Unpack(info):
                reason, metadata = info.reason, dict(info.metadata)
        return cls(code, message, violations, reason, metadata)


def backoff_delays(retries: int, rng: random.Random | None = None) -> list[float]:
    """Seconds to wait before each retry: doubling from 0.1 s, capped at 2 s, ±20% jitter."""
    rng = rng or random.Random()
    delays = []
    for attempt in range(retries):
        base = min(INITIAL_BACKOFF * 2**attempt, MAX_BACKOFF)
        delays.append(base * (1 + JITTER * (2 * rng.random() - 1)))
    return delays


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
        all_options = [
            *KEEPALIVE_OPTIONS,
            ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
            ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
            *options,
        ]
        if credentials is None:
            self._channel = grpc.insecure_channel(target, options=all_options)
        else:
            self._channel = grpc.secure_channel(target, credentials, options=all_options)
        self.timeout, self.retries = timeout, retries
        bearer = (("authorization", f"Bearer {api_key}"),) if api_key else ()
        self._metadata = (*metadata, *bearer)
        self._match = match_pb2_grpc.MatchServiceStub(self._channel)  # type: ignore[no-untyped-call]
        self._registry = volunteers_pb2_grpc.VolunteerServiceStub(self._channel)  # type: ignore[no-untyped-call]
        self._status = status_pb2_grpc.StatusServiceStub(self._channel)  # type: ignore[no-untyped-call]

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
        """One call with the deadline, metadata and (for idempotent calls) retries."""
        deadline = time.monotonic() + (timeout if timeout is not None else self.timeout)
        delays = backoff_delays(self.retries) if idempotent else []
        while True:
            remaining = max(deadline - time.monotonic(), 0.0)
            try:
                reply = method(request, timeout=remaining, metadata=self._metadata)
            except grpc.RpcError as err:
                code = err.code() if isinstance(err, grpc.Call) else None
                delay = delays.pop(0) if delays else None
                if code != grpc.StatusCode.UNAVAILABLE or delay is None:
                    raise MatcherCallError.from_rpc_error(err) from None
                if time.monotonic() + delay >= deadline:
                    raise MatcherCallError.from_rpc_error(err) from None
                time.sleep(delay)
                continue
            if not isinstance(reply, reply_type):
                raise TypeError(f"expected {reply_type.__name__}, got {type(reply).__name__}")
            return reply

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


@dataclass(frozen=True)
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
        return volunteers_pb2.ListVolunteersRequest(
            branch_ids=self.branch_ids,
            team_id=self.team_id,
            skill=self.skill,
            center=self.center,
            radius_km=self.radius_km,
            include_inactive=self.include_inactive,
        )
