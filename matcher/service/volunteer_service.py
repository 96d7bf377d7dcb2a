"""VolunteerService: the registry (志愿者库), a thin layer over the store and the pool view.

Writes and single reads go to the store (so a Get right after a write sees it, from any
server sharing the store); listing and filtering run on the pool view, which is brought to the
store's current version first. Errors map in ``matcher.service.errors``: a version mismatch is
FAILED_PRECONDITION, an absent volunteer NOT_FOUND, an unreachable store UNAVAILABLE.
"""

from __future__ import annotations

import dataclasses

import grpc
import numpy as np

from matcher.access import policy
from matcher.access.principal import current
from matcher.config import Settings
from matcher.errors import (
    ConflictError,
    FieldViolation,
    NotFoundError,
    StoreUnavailableError,
    ValidationError,
)
from matcher.registry.model import VolunteerRecord
from matcher.registry.view import PoolView
from matcher.service.convert import (
    MAX_ID_CHARS,
    availability_to_windows,
    list_request_to_query,
    record_to_proto,
    records_to_proto,
    upserts_to_records,
)
from matcher.v1 import volunteers_pb2, volunteers_pb2_grpc

#: Attempts of ReplaceAvailability's read-modify-write when other writes keep racing it.
REPLACE_ATTEMPTS = 5


class VolunteerServicer(volunteers_pb2_grpc.VolunteerServiceServicer):
    """VolunteerService: validate, convert, store or pool view, convert back."""

    def __init__(self, settings: Settings, pool_view: PoolView) -> None:
        self._settings = settings
        self._view = pool_view
        self._store = pool_view.store

    def UpsertVolunteers(  # noqa: N802 (the rpc's name)
        self, request: volunteers_pb2.UpsertVolunteersRequest, context: grpc.ServicerContext
    ) -> volunteers_pb2.UpsertVolunteersResponse:
        records, expected = upserts_to_records(request, self._settings)
        stored = self._store.upsert(records, expected)
        return volunteers_pb2.UpsertVolunteersResponse(
            volunteers=records_to_proto(stored), registry_version=self._store.version()
        )

    def GetVolunteer(  # noqa: N802
        self, request: volunteers_pb2.GetVolunteerRequest, context: grpc.ServicerContext
    ) -> volunteers_pb2.GetVolunteerResponse:
        policy.check_volunteer(current(), request.volunteer_id)  # a volunteer app: itself only
        return volunteers_pb2.GetVolunteerResponse(
            volunteer=record_to_proto(self._existing(request.volunteer_id))
        )

    def DeleteVolunteer(  # noqa: N802
        self, request: volunteers_pb2.DeleteVolunteerRequest, context: grpc.ServicerContext
    ) -> volunteers_pb2.DeleteVolunteerResponse:
        _check_id(request.volunteer_id)
        expected = request.expected_version if request.HasField("expected_version") else None
        deleted = self._store.delete(request.volunteer_id, expected)
        if deleted is None:
            raise _not_found(request.volunteer_id)
        return volunteers_pb2.DeleteVolunteerResponse(
            volunteer=record_to_proto(deleted), registry_version=self._store.version()
        )

    def ListVolunteers(  # noqa: N802
        self, request: volunteers_pb2.ListVolunteersRequest, context: grpc.ServicerContext
    ) -> volunteers_pb2.ListVolunteersResponse:
        query = list_request_to_query(request)
        state = self._view.current()
        keep = state.matching(query.selector, query.skill)
        if not query.include_inactive:
            keep &= state.active
        page, token, total = state.page(keep, query.page_size, query.page_token)
        return volunteers_pb2.ListVolunteersResponse(
            volunteers=records_to_proto(page), next_page_token=token, total_size=total
        )

    def ReplaceAvailability(  # noqa: N802
        self, request: volunteers_pb2.ReplaceAvailabilityRequest, context: grpc.ServicerContext
    ) -> volunteers_pb2.ReplaceAvailabilityResponse:
        windows = availability_to_windows(request.availability, self._settings)
        caller_expects = request.HasField("expected_version")
        for attempt in range(REPLACE_ATTEMPTS):
            old = self._existing(request.volunteer_id)
            expected = request.expected_version if caller_expects else old.version
            profile = dataclasses.replace(old.profile, windows=windows)
            try:
                [stored] = self._store.upsert(
                    [dataclasses.replace(old, profile=profile)], {old.id: expected}
                )
            except ConflictError:
                if caller_expects or attempt + 1 == REPLACE_ATTEMPTS:
                    raise
                continue  # another write got in between the read and this one: read again
            return volunteers_pb2.ReplaceAvailabilityResponse(volunteer=record_to_proto(stored))
        raise AssertionError("unreachable")  # pragma: no cover

    def GetRegistryStatus(  # noqa: N802
        self, request: volunteers_pb2.GetRegistryStatusRequest, context: grpc.ServicerContext
    ) -> volunteers_pb2.GetRegistryStatusResponse:
        response = volunteers_pb2.GetRegistryStatusResponse(
            store=self._store.description, store_reachable=True
        )
        try:
            state = self._view.current()
            response.registry_version = state.version
        except StoreUnavailableError:
            response.store_reachable = False
            last = self._view.last
            if last is None:
                return response
            state = last
            response.registry_version = state.version
        response.volunteers = len(state.records)
        response.active_volunteers = int(np.count_nonzero(state.active))
        response.windows = state.index.pool.n_windows
        response.view_version = state.version
        response.view_refreshed_time.FromMilliseconds(self._view.checked_ms)
        return response

    def _existing(self, volunteer_id: str) -> VolunteerRecord:
        _check_id(volunteer_id)
        record = self._store.get(volunteer_id)
        if record is None:
            raise _not_found(volunteer_id)
        return record


def _check_id(volunteer_id: str) -> None:
    if not volunteer_id:
        raise ValidationError([FieldViolation("volunteer_id", "must not be empty")])
    if len(volunteer_id) > MAX_ID_CHARS:
        raise ValidationError(
            [FieldViolation("volunteer_id", f"must be at most {MAX_ID_CHARS} characters")]
        )


def _not_found(volunteer_id: str) -> NotFoundError:
    return NotFoundError(f"volunteer {volunteer_id} is not registered")
