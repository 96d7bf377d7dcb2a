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

class LedgerEntryKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LEDGER_ENTRY_KIND_UNSPECIFIED: _ClassVar[LedgerEntryKind]
    LEDGER_ENTRY_KIND_EARNED: _ClassVar[LedgerEntryKind]
    LEDGER_ENTRY_KIND_REDEEMED: _ClassVar[LedgerEntryKind]
LEDGER_ENTRY_KIND_UNSPECIFIED: LedgerEntryKind
LEDGER_ENTRY_KIND_EARNED: LedgerEntryKind
LEDGER_ENTRY_KIND_REDEEMED: LedgerEntryKind

class LedgerEntry(_message.Message):
    __slots__ = ("sequence", "transaction_id", "kind", "account", "minutes", "hours", "branch_id", "order_id", "reason", "time")
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    TRANSACTION_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    MINUTES_FIELD_NUMBER: _ClassVar[int]
    HOURS_FIELD_NUMBER: _ClassVar[int]
    BRANCH_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    sequence: int
    transaction_id: str
    kind: LedgerEntryKind
    account: str
    minutes: int
    hours: float
    branch_id: str
    order_id: str
    reason: str
    time: _timestamp_pb2.Timestamp
    def __init__(self, sequence: _Optional[int] = ..., transaction_id: _Optional[str] = ..., kind: _Optional[_Union[LedgerEntryKind, str]] = ..., account: _Optional[str] = ..., minutes: _Optional[int] = ..., hours: _Optional[float] = ..., branch_id: _Optional[str] = ..., order_id: _Optional[str] = ..., reason: _Optional[str] = ..., time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class BranchFigures(_message.Message):
    __slots__ = ("branch_id", "earned_minutes", "redeemed_minutes", "outstanding_minutes", "outstanding_hours", "completed_orders")
    BRANCH_ID_FIELD_NUMBER: _ClassVar[int]
    EARNED_MINUTES_FIELD_NUMBER: _ClassVar[int]
    REDEEMED_MINUTES_FIELD_NUMBER: _ClassVar[int]
    OUTSTANDING_MINUTES_FIELD_NUMBER: _ClassVar[int]
    OUTSTANDING_HOURS_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_ORDERS_FIELD_NUMBER: _ClassVar[int]
    branch_id: str
    earned_minutes: int
    redeemed_minutes: int
    outstanding_minutes: int
    outstanding_hours: float
    completed_orders: int
    def __init__(self, branch_id: _Optional[str] = ..., earned_minutes: _Optional[int] = ..., redeemed_minutes: _Optional[int] = ..., outstanding_minutes: _Optional[int] = ..., outstanding_hours: _Optional[float] = ..., completed_orders: _Optional[int] = ...) -> None: ...

class GetBalanceRequest(_message.Message):
    __slots__ = ("volunteer_id",)
    VOLUNTEER_ID_FIELD_NUMBER: _ClassVar[int]
    volunteer_id: str
    def __init__(self, volunteer_id: _Optional[str] = ...) -> None: ...

class GetBalanceResponse(_message.Message):
    __slots__ = ("volunteer_id", "balance_minutes", "balance_hours", "earned_minutes", "redeemed_minutes")
    VOLUNTEER_ID_FIELD_NUMBER: _ClassVar[int]
    BALANCE_MINUTES_FIELD_NUMBER: _ClassVar[int]
    BALANCE_HOURS_FIELD_NUMBER: _ClassVar[int]
    EARNED_MINUTES_FIELD_NUMBER: _ClassVar[int]
    REDEEMED_MINUTES_FIELD_NUMBER: _ClassVar[int]
    volunteer_id: str
    balance_minutes: int
    balance_hours: float
    earned_minutes: int
    redeemed_minutes: int
    def __init__(self, volunteer_id: _Optional[str] = ..., balance_minutes: _Optional[int] = ..., balance_hours: _Optional[float] = ..., earned_minutes: _Optional[int] = ..., redeemed_minutes: _Optional[int] = ...) -> None: ...

class GetStatementRequest(_message.Message):
    __slots__ = ("volunteer_id", "page_size", "page_token")
    VOLUNTEER_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    volunteer_id: str
    page_size: int
    page_token: str
    def __init__(self, volunteer_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class GetStatementResponse(_message.Message):
    __slots__ = ("entries", "next_page_token", "total_size", "balance_minutes")
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SIZE_FIELD_NUMBER: _ClassVar[int]
    BALANCE_MINUTES_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[LedgerEntry]
    next_page_token: str
    total_size: int
    balance_minutes: int
    def __init__(self, entries: _Optional[_Iterable[_Union[LedgerEntry, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., total_size: _Optional[int] = ..., balance_minutes: _Optional[int] = ...) -> None: ...

class GetBranchSummaryRequest(_message.Message):
    __slots__ = ("branch_id",)
    BRANCH_ID_FIELD_NUMBER: _ClassVar[int]
    branch_id: str
    def __init__(self, branch_id: _Optional[str] = ...) -> None: ...

class GetBranchSummaryResponse(_message.Message):
    __slots__ = ("total", "branches")
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    BRANCHES_FIELD_NUMBER: _ClassVar[int]
    total: BranchFigures
    branches: _containers.RepeatedCompositeFieldContainer[BranchFigures]
    def __init__(self, total: _Optional[_Union[BranchFigures, _Mapping]] = ..., branches: _Optional[_Iterable[_Union[BranchFigures, _Mapping]]] = ...) -> None: ...

class RedeemHoursRequest(_message.Message):
    __slots__ = ("volunteer_id", "hours", "reason", "branch_id", "idempotency_key")
    VOLUNTEER_ID_FIELD_NUMBER: _ClassVar[int]
    HOURS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    BRANCH_ID_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    volunteer_id: str
    hours: float
    reason: str
    branch_id: str
    idempotency_key: str
    def __init__(self, volunteer_id: _Optional[str] = ..., hours: _Optional[float] = ..., reason: _Optional[str] = ..., branch_id: _Optional[str] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class RedeemHoursResponse(_message.Message):
    __slots__ = ("posted", "balance_minutes", "balance_hours")
    POSTED_FIELD_NUMBER: _ClassVar[int]
    BALANCE_MINUTES_FIELD_NUMBER: _ClassVar[int]
    BALANCE_HOURS_FIELD_NUMBER: _ClassVar[int]
    posted: bool
    balance_minutes: int
    balance_hours: float
    def __init__(self, posted: _Optional[bool] = ..., balance_minutes: _Optional[int] = ..., balance_hours: _Optional[float] = ...) -> None: ...
