import datetime

from google.api import annotations_pb2 as _annotations_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GetServerStatusRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class MetricSample(_message.Message):
    __slots__ = ("name", "labels", "value")
    class LabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    name: str
    labels: _containers.ScalarMap[str, str]
    value: float
    def __init__(self, name: _Optional[str] = ..., labels: _Optional[_Mapping[str, str]] = ..., value: _Optional[float] = ...) -> None: ...

class GetServerStatusResponse(_message.Message):
    __slots__ = ("version", "start_time", "uptime_seconds", "store", "store_reachable", "registry_volunteers", "registry_active_volunteers", "registry_version", "registry_view_age_seconds", "counters", "metrics_port")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    UPTIME_SECONDS_FIELD_NUMBER: _ClassVar[int]
    STORE_FIELD_NUMBER: _ClassVar[int]
    STORE_REACHABLE_FIELD_NUMBER: _ClassVar[int]
    REGISTRY_VOLUNTEERS_FIELD_NUMBER: _ClassVar[int]
    REGISTRY_ACTIVE_VOLUNTEERS_FIELD_NUMBER: _ClassVar[int]
    REGISTRY_VERSION_FIELD_NUMBER: _ClassVar[int]
    REGISTRY_VIEW_AGE_SECONDS_FIELD_NUMBER: _ClassVar[int]
    COUNTERS_FIELD_NUMBER: _ClassVar[int]
    METRICS_PORT_FIELD_NUMBER: _ClassVar[int]
    version: str
    start_time: _timestamp_pb2.Timestamp
    uptime_seconds: float
    store: str
    store_reachable: bool
    registry_volunteers: int
    registry_active_volunteers: int
    registry_version: int
    registry_view_age_seconds: float
    counters: _containers.RepeatedCompositeFieldContainer[MetricSample]
    metrics_port: int
    def __init__(self, version: _Optional[str] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., uptime_seconds: _Optional[float] = ..., store: _Optional[str] = ..., store_reachable: _Optional[bool] = ..., registry_volunteers: _Optional[int] = ..., registry_active_volunteers: _Optional[int] = ..., registry_version: _Optional[int] = ..., registry_view_age_seconds: _Optional[float] = ..., counters: _Optional[_Iterable[_Union[MetricSample, _Mapping]]] = ..., metrics_port: _Optional[int] = ...) -> None: ...
