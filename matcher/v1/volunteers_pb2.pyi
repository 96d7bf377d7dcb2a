import datetime

from google.api import annotations_pb2 as _annotations_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from matcher.v1 import match_pb2 as _match_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RegisteredVolunteer(_message.Message):
    __slots__ = ("volunteer", "branch_id", "team_ids", "active", "version", "create_time", "update_time")
    VOLUNTEER_FIELD_NUMBER: _ClassVar[int]
    BRANCH_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_IDS_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    volunteer: _match_pb2.Volunteer
    branch_id: str
    team_ids: _containers.RepeatedScalarFieldContainer[str]
    active: bool
    version: int
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, volunteer: _Optional[_Union[_match_pb2.Volunteer, _Mapping]] = ..., branch_id: _Optional[str] = ..., team_ids: _Optional[_Iterable[str]] = ..., active: _Optional[bool] = ..., version: _Optional[int] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class VolunteerUpsert(_message.Message):
    __slots__ = ("volunteer", "branch_id", "team_ids", "active", "expected_version")
    VOLUNTEER_FIELD_NUMBER: _ClassVar[int]
    BRANCH_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_IDS_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_VERSION_FIELD_NUMBER: _ClassVar[int]
    volunteer: _match_pb2.Volunteer
    branch_id: str
    team_ids: _containers.RepeatedScalarFieldContainer[str]
    active: bool
    expected_version: int
    def __init__(self, volunteer: _Optional[_Union[_match_pb2.Volunteer, _Mapping]] = ..., branch_id: _Optional[str] = ..., team_ids: _Optional[_Iterable[str]] = ..., active: _Optional[bool] = ..., expected_version: _Optional[int] = ...) -> None: ...

class UpsertVolunteersRequest(_message.Message):
    __slots__ = ("volunteers",)
    VOLUNTEERS_FIELD_NUMBER: _ClassVar[int]
    volunteers: _containers.RepeatedCompositeFieldContainer[VolunteerUpsert]
    def __init__(self, volunteers: _Optional[_Iterable[_Union[VolunteerUpsert, _Mapping]]] = ...) -> None: ...

class UpsertVolunteersResponse(_message.Message):
    __slots__ = ("volunteers", "registry_version")
    VOLUNTEERS_FIELD_NUMBER: _ClassVar[int]
    REGISTRY_VERSION_FIELD_NUMBER: _ClassVar[int]
    volunteers: _containers.RepeatedCompositeFieldContainer[RegisteredVolunteer]
    registry_version: int
    def __init__(self, volunteers: _Optional[_Iterable[_Union[RegisteredVolunteer, _Mapping]]] = ..., registry_version: _Optional[int] = ...) -> None: ...

class GetVolunteerRequest(_message.Message):
    __slots__ = ("volunteer_id",)
    VOLUNTEER_ID_FIELD_NUMBER: _ClassVar[int]
    volunteer_id: str
    def __init__(self, volunteer_id: _Optional[str] = ...) -> None: ...

class GetVolunteerResponse(_message.Message):
    __slots__ = ("volunteer",)
    VOLUNTEER_FIELD_NUMBER: _ClassVar[int]
    volunteer: RegisteredVolunteer
    def __init__(self, volunteer: _Optional[_Union[RegisteredVolunteer, _Mapping]] = ...) -> None: ...

class DeleteVolunteerRequest(_message.Message):
    __slots__ = ("volunteer_id", "expected_version")
    VOLUNTEER_ID_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_VERSION_FIELD_NUMBER: _ClassVar[int]
    volunteer_id: str
    expected_version: int
    def __init__(self, volunteer_id: _Optional[str] = ..., expected_version: _Optional[int] = ...) -> None: ...

class DeleteVolunteerResponse(_message.Message):
    __slots__ = ("volunteer", "registry_version")
    VOLUNTEER_FIELD_NUMBER: _ClassVar[int]
    REGISTRY_VERSION_FIELD_NUMBER: _ClassVar[int]
    volunteer: RegisteredVolunteer
    registry_version: int
    def __init__(self, volunteer: _Optional[_Union[RegisteredVolunteer, _Mapping]] = ..., registry_version: _Optional[int] = ...) -> None: ...

class ListVolunteersRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "branch_ids", "team_id", "skill", "center", "radius_km", "include_inactive")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    BRANCH_IDS_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    SKILL_FIELD_NUMBER: _ClassVar[int]
    CENTER_FIELD_NUMBER: _ClassVar[int]
    RADIUS_KM_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_INACTIVE_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    branch_ids: _containers.RepeatedScalarFieldContainer[str]
    team_id: str
    skill: str
    center: _match_pb2.GeoPoint
    radius_km: float
    include_inactive: bool
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., branch_ids: _Optional[_Iterable[str]] = ..., team_id: _Optional[str] = ..., skill: _Optional[str] = ..., center: _Optional[_Union[_match_pb2.GeoPoint, _Mapping]] = ..., radius_km: _Optional[float] = ..., include_inactive: _Optional[bool] = ...) -> None: ...

class ListVolunteersResponse(_message.Message):
    __slots__ = ("volunteers", "next_page_token", "total_size")
    VOLUNTEERS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SIZE_FIELD_NUMBER: _ClassVar[int]
    volunteers: _containers.RepeatedCompositeFieldContainer[RegisteredVolunteer]
    next_page_token: str
    total_size: int
    def __init__(self, volunteers: _Optional[_Iterable[_Union[RegisteredVolunteer, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., total_size: _Optional[int] = ...) -> None: ...

class ReplaceAvailabilityRequest(_message.Message):
    __slots__ = ("volunteer_id", "availability", "expected_version")
    VOLUNTEER_ID_FIELD_NUMBER: _ClassVar[int]
    AVAILABILITY_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_VERSION_FIELD_NUMBER: _ClassVar[int]
    volunteer_id: str
    availability: _containers.RepeatedCompositeFieldContainer[_match_pb2.TimeWindow]
    expected_version: int
    def __init__(self, volunteer_id: _Optional[str] = ..., availability: _Optional[_Iterable[_Union[_match_pb2.TimeWindow, _Mapping]]] = ..., expected_version: _Optional[int] = ...) -> None: ...

class ReplaceAvailabilityResponse(_message.Message):
    __slots__ = ("volunteer",)
    VOLUNTEER_FIELD_NUMBER: _ClassVar[int]
    volunteer: RegisteredVolunteer
    def __init__(self, volunteer: _Optional[_Union[RegisteredVolunteer, _Mapping]] = ...) -> None: ...

class GetRegistryStatusRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetRegistryStatusResponse(_message.Message):
    __slots__ = ("store", "volunteers", "active_volunteers", "windows", "registry_version", "view_version", "view_refreshed_time", "store_reachable")
    STORE_FIELD_NUMBER: _ClassVar[int]
    VOLUNTEERS_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_VOLUNTEERS_FIELD_NUMBER: _ClassVar[int]
    WINDOWS_FIELD_NUMBER: _ClassVar[int]
    REGISTRY_VERSION_FIELD_NUMBER: _ClassVar[int]
    VIEW_VERSION_FIELD_NUMBER: _ClassVar[int]
    VIEW_REFRESHED_TIME_FIELD_NUMBER: _ClassVar[int]
    STORE_REACHABLE_FIELD_NUMBER: _ClassVar[int]
    store: str
    volunteers: int
    active_volunteers: int
    windows: int
    registry_version: int
    view_version: int
    view_refreshed_time: _timestamp_pb2.Timestamp
    store_reachable: bool
    def __init__(self, store: _Optional[str] = ..., volunteers: _Optional[int] = ..., active_volunteers: _Optional[int] = ..., windows: _Optional[int] = ..., registry_version: _Optional[int] = ..., view_version: _Optional[int] = ..., view_refreshed_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., store_reachable: _Optional[bool] = ...) -> None: ...
