import datetime

from google.api import annotations_pb2 as _annotations_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Urgency(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    URGENCY_UNSPECIFIED: _ClassVar[Urgency]
    URGENCY_ROUTINE: _ClassVar[Urgency]
    URGENCY_URGENT: _ClassVar[Urgency]
    URGENCY_DIFFICULT: _ClassVar[Urgency]
URGENCY_UNSPECIFIED: Urgency
URGENCY_ROUTINE: Urgency
URGENCY_URGENT: Urgency
URGENCY_DIFFICULT: Urgency

class GeoPoint(_message.Message):
    __slots__ = ("lat", "lon")
    LAT_FIELD_NUMBER: _ClassVar[int]
    LON_FIELD_NUMBER: _ClassVar[int]
    lat: float
    lon: float
    def __init__(self, lat: _Optional[float] = ..., lon: _Optional[float] = ...) -> None: ...

class TimeWindow(_message.Message):
    __slots__ = ("start", "end")
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    start: _timestamp_pb2.Timestamp
    end: _timestamp_pb2.Timestamp
    def __init__(self, start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ServiceRequest(_message.Message):
    __slots__ = ("id", "required_skills", "location", "window", "urgency", "volunteers_needed", "remote", "max_distance_km")
    ID_FIELD_NUMBER: _ClassVar[int]
    REQUIRED_SKILLS_FIELD_NUMBER: _ClassVar[int]
    LOCATION_FIELD_NUMBER: _ClassVar[int]
    WINDOW_FIELD_NUMBER: _ClassVar[int]
    URGENCY_FIELD_NUMBER: _ClassVar[int]
    VOLUNTEERS_NEEDED_FIELD_NUMBER: _ClassVar[int]
    REMOTE_FIELD_NUMBER: _ClassVar[int]
    MAX_DISTANCE_KM_FIELD_NUMBER: _ClassVar[int]
    id: str
    required_skills: _containers.RepeatedScalarFieldContainer[str]
    location: GeoPoint
    window: TimeWindow
    urgency: Urgency
    volunteers_needed: int
    remote: bool
    max_distance_km: float
    def __init__(self, id: _Optional[str] = ..., required_skills: _Optional[_Iterable[str]] = ..., location: _Optional[_Union[GeoPoint, _Mapping]] = ..., window: _Optional[_Union[TimeWindow, _Mapping]] = ..., urgency: _Optional[_Union[Urgency, str]] = ..., volunteers_needed: _Optional[int] = ..., remote: _Optional[bool] = ..., max_distance_km: _Optional[float] = ...) -> None: ...

class Skill(_message.Message):
    __slots__ = ("code", "level")
    CODE_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    code: str
    level: int
    def __init__(self, code: _Optional[str] = ..., level: _Optional[int] = ...) -> None: ...

class Volunteer(_message.Message):
    __slots__ = ("id", "skills", "home", "availability", "max_travel_km", "rating", "rating_count", "recent_hours")
    ID_FIELD_NUMBER: _ClassVar[int]
    SKILLS_FIELD_NUMBER: _ClassVar[int]
    HOME_FIELD_NUMBER: _ClassVar[int]
    AVAILABILITY_FIELD_NUMBER: _ClassVar[int]
    MAX_TRAVEL_KM_FIELD_NUMBER: _ClassVar[int]
    RATING_FIELD_NUMBER: _ClassVar[int]
    RATING_COUNT_FIELD_NUMBER: _ClassVar[int]
    RECENT_HOURS_FIELD_NUMBER: _ClassVar[int]
    id: str
    skills: _containers.RepeatedCompositeFieldContainer[Skill]
    home: GeoPoint
    availability: _containers.RepeatedCompositeFieldContainer[TimeWindow]
    max_travel_km: float
    rating: float
    rating_count: int
    recent_hours: float
    def __init__(self, id: _Optional[str] = ..., skills: _Optional[_Iterable[_Union[Skill, _Mapping]]] = ..., home: _Optional[_Union[GeoPoint, _Mapping]] = ..., availability: _Optional[_Iterable[_Union[TimeWindow, _Mapping]]] = ..., max_travel_km: _Optional[float] = ..., rating: _Optional[float] = ..., rating_count: _Optional[int] = ..., recent_hours: _Optional[float] = ...) -> None: ...

class ScoringPolicy(_message.Message):
    __slots__ = ("distance_weight", "skill_weight", "rating_weight", "fairness_weight", "default_radius_km", "routine_value", "urgent_value", "difficult_value")
    DISTANCE_WEIGHT_FIELD_NUMBER: _ClassVar[int]
    SKILL_WEIGHT_FIELD_NUMBER: _ClassVar[int]
    RATING_WEIGHT_FIELD_NUMBER: _ClassVar[int]
    FAIRNESS_WEIGHT_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_RADIUS_KM_FIELD_NUMBER: _ClassVar[int]
    ROUTINE_VALUE_FIELD_NUMBER: _ClassVar[int]
    URGENT_VALUE_FIELD_NUMBER: _ClassVar[int]
    DIFFICULT_VALUE_FIELD_NUMBER: _ClassVar[int]
    distance_weight: float
    skill_weight: float
    rating_weight: float
    fairness_weight: float
    default_radius_km: float
    routine_value: int
    urgent_value: int
    difficult_value: int
    def __init__(self, distance_weight: _Optional[float] = ..., skill_weight: _Optional[float] = ..., rating_weight: _Optional[float] = ..., fairness_weight: _Optional[float] = ..., default_radius_km: _Optional[float] = ..., routine_value: _Optional[int] = ..., urgent_value: _Optional[int] = ..., difficult_value: _Optional[int] = ...) -> None: ...

class PoolSelector(_message.Message):
    __slots__ = ("branch_ids", "team_ids", "center", "radius_km")
    BRANCH_IDS_FIELD_NUMBER: _ClassVar[int]
    TEAM_IDS_FIELD_NUMBER: _ClassVar[int]
    CENTER_FIELD_NUMBER: _ClassVar[int]
    RADIUS_KM_FIELD_NUMBER: _ClassVar[int]
    branch_ids: _containers.RepeatedScalarFieldContainer[str]
    team_ids: _containers.RepeatedScalarFieldContainer[str]
    center: GeoPoint
    radius_km: float
    def __init__(self, branch_ids: _Optional[_Iterable[str]] = ..., team_ids: _Optional[_Iterable[str]] = ..., center: _Optional[_Union[GeoPoint, _Mapping]] = ..., radius_km: _Optional[float] = ...) -> None: ...

class MatchRequest(_message.Message):
    __slots__ = ("requests", "volunteers", "policy", "pool")
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    VOLUNTEERS_FIELD_NUMBER: _ClassVar[int]
    POLICY_FIELD_NUMBER: _ClassVar[int]
    POOL_FIELD_NUMBER: _ClassVar[int]
    requests: _containers.RepeatedCompositeFieldContainer[ServiceRequest]
    volunteers: _containers.RepeatedCompositeFieldContainer[Volunteer]
    policy: ScoringPolicy
    pool: PoolSelector
    def __init__(self, requests: _Optional[_Iterable[_Union[ServiceRequest, _Mapping]]] = ..., volunteers: _Optional[_Iterable[_Union[Volunteer, _Mapping]]] = ..., policy: _Optional[_Union[ScoringPolicy, _Mapping]] = ..., pool: _Optional[_Union[PoolSelector, _Mapping]] = ...) -> None: ...

class CostBreakdown(_message.Message):
    __slots__ = ("distance", "skill", "rating", "fairness")
    DISTANCE_FIELD_NUMBER: _ClassVar[int]
    SKILL_FIELD_NUMBER: _ClassVar[int]
    RATING_FIELD_NUMBER: _ClassVar[int]
    FAIRNESS_FIELD_NUMBER: _ClassVar[int]
    distance: float
    skill: float
    rating: float
    fairness: float
    def __init__(self, distance: _Optional[float] = ..., skill: _Optional[float] = ..., rating: _Optional[float] = ..., fairness: _Optional[float] = ...) -> None: ...

class Assignment(_message.Message):
    __slots__ = ("request_id", "volunteer_id", "distance_km", "score", "breakdown", "slot", "volunteer_window")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    VOLUNTEER_ID_FIELD_NUMBER: _ClassVar[int]
    DISTANCE_KM_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    BREAKDOWN_FIELD_NUMBER: _ClassVar[int]
    SLOT_FIELD_NUMBER: _ClassVar[int]
    VOLUNTEER_WINDOW_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    volunteer_id: str
    distance_km: float
    score: float
    breakdown: CostBreakdown
    slot: int
    volunteer_window: TimeWindow
    def __init__(self, request_id: _Optional[str] = ..., volunteer_id: _Optional[str] = ..., distance_km: _Optional[float] = ..., score: _Optional[float] = ..., breakdown: _Optional[_Union[CostBreakdown, _Mapping]] = ..., slot: _Optional[int] = ..., volunteer_window: _Optional[_Union[TimeWindow, _Mapping]] = ...) -> None: ...

class Unassigned(_message.Message):
    __slots__ = ("request_id", "reason", "detail", "unfilled_slots")
    class Reason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        REASON_UNSPECIFIED: _ClassVar[Unassigned.Reason]
        REASON_NO_SKILL: _ClassVar[Unassigned.Reason]
        REASON_OUT_OF_RANGE: _ClassVar[Unassigned.Reason]
        REASON_NOT_AVAILABLE: _ClassVar[Unassigned.Reason]
        REASON_OUTCOMPETED: _ClassVar[Unassigned.Reason]
    REASON_UNSPECIFIED: Unassigned.Reason
    REASON_NO_SKILL: Unassigned.Reason
    REASON_OUT_OF_RANGE: Unassigned.Reason
    REASON_NOT_AVAILABLE: Unassigned.Reason
    REASON_OUTCOMPETED: Unassigned.Reason
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    UNFILLED_SLOTS_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    reason: Unassigned.Reason
    detail: str
    unfilled_slots: int
    def __init__(self, request_id: _Optional[str] = ..., reason: _Optional[_Union[Unassigned.Reason, str]] = ..., detail: _Optional[str] = ..., unfilled_slots: _Optional[int] = ...) -> None: ...

class MatchStats(_message.Message):
    __slots__ = ("requests", "volunteers", "slots", "assigned_slots", "fully_served_requests", "value_served", "total_cost", "total_distance_km", "candidate_pairs", "rounds", "candidates_ms", "scoring_ms", "solve_ms", "total_ms", "registry_version")
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    VOLUNTEERS_FIELD_NUMBER: _ClassVar[int]
    SLOTS_FIELD_NUMBER: _ClassVar[int]
    ASSIGNED_SLOTS_FIELD_NUMBER: _ClassVar[int]
    FULLY_SERVED_REQUESTS_FIELD_NUMBER: _ClassVar[int]
    VALUE_SERVED_FIELD_NUMBER: _ClassVar[int]
    TOTAL_COST_FIELD_NUMBER: _ClassVar[int]
    TOTAL_DISTANCE_KM_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_PAIRS_FIELD_NUMBER: _ClassVar[int]
    ROUNDS_FIELD_NUMBER: _ClassVar[int]
    CANDIDATES_MS_FIELD_NUMBER: _ClassVar[int]
    SCORING_MS_FIELD_NUMBER: _ClassVar[int]
    SOLVE_MS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_MS_FIELD_NUMBER: _ClassVar[int]
    REGISTRY_VERSION_FIELD_NUMBER: _ClassVar[int]
    requests: int
    volunteers: int
    slots: int
    assigned_slots: int
    fully_served_requests: int
    value_served: float
    total_cost: float
    total_distance_km: float
    candidate_pairs: int
    rounds: int
    candidates_ms: float
    scoring_ms: float
    solve_ms: float
    total_ms: float
    registry_version: int
    def __init__(self, requests: _Optional[int] = ..., volunteers: _Optional[int] = ..., slots: _Optional[int] = ..., assigned_slots: _Optional[int] = ..., fully_served_requests: _Optional[int] = ..., value_served: _Optional[float] = ..., total_cost: _Optional[float] = ..., total_distance_km: _Optional[float] = ..., candidate_pairs: _Optional[int] = ..., rounds: _Optional[int] = ..., candidates_ms: _Optional[float] = ..., scoring_ms: _Optional[float] = ..., solve_ms: _Optional[float] = ..., total_ms: _Optional[float] = ..., registry_version: _Optional[int] = ...) -> None: ...

class MatchResponse(_message.Message):
    __slots__ = ("assignments", "unassigned", "stats")
    ASSIGNMENTS_FIELD_NUMBER: _ClassVar[int]
    UNASSIGNED_FIELD_NUMBER: _ClassVar[int]
    STATS_FIELD_NUMBER: _ClassVar[int]
    assignments: _containers.RepeatedCompositeFieldContainer[Assignment]
    unassigned: _containers.RepeatedCompositeFieldContainer[Unassigned]
    stats: MatchStats
    def __init__(self, assignments: _Optional[_Iterable[_Union[Assignment, _Mapping]]] = ..., unassigned: _Optional[_Iterable[_Union[Unassigned, _Mapping]]] = ..., stats: _Optional[_Union[MatchStats, _Mapping]] = ...) -> None: ...
