import datetime

from google.api import annotations_pb2 as _annotations_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from matcher.v1 import match_pb2 as _match_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class OrderState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ORDER_STATE_UNSPECIFIED: _ClassVar[OrderState]
    ORDER_STATE_PENDING: _ClassVar[OrderState]
    ORDER_STATE_OFFERED: _ClassVar[OrderState]
    ORDER_STATE_ACCEPTED: _ClassVar[OrderState]
    ORDER_STATE_COMPLETED: _ClassVar[OrderState]
    ORDER_STATE_RATED: _ClassVar[OrderState]
    ORDER_STATE_CANCELLED: _ClassVar[OrderState]
    ORDER_STATE_EXPIRED: _ClassVar[OrderState]

class OfferState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    OFFER_STATE_UNSPECIFIED: _ClassVar[OfferState]
    OFFER_STATE_OPEN: _ClassVar[OfferState]
    OFFER_STATE_ACCEPTED: _ClassVar[OfferState]
    OFFER_STATE_DECLINED: _ClassVar[OfferState]
    OFFER_STATE_EXPIRED: _ClassVar[OfferState]
    OFFER_STATE_WITHDRAWN: _ClassVar[OfferState]

class Actor(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ACTOR_UNSPECIFIED: _ClassVar[Actor]
    ACTOR_RESIDENT: _ClassVar[Actor]
    ACTOR_CENTRE: _ClassVar[Actor]
    ACTOR_VOLUNTEER: _ClassVar[Actor]
    ACTOR_DISPATCHER: _ClassVar[Actor]
ORDER_STATE_UNSPECIFIED: OrderState
ORDER_STATE_PENDING: OrderState
ORDER_STATE_OFFERED: OrderState
ORDER_STATE_ACCEPTED: OrderState
ORDER_STATE_COMPLETED: OrderState
ORDER_STATE_RATED: OrderState
ORDER_STATE_CANCELLED: OrderState
ORDER_STATE_EXPIRED: OrderState
OFFER_STATE_UNSPECIFIED: OfferState
OFFER_STATE_OPEN: OfferState
OFFER_STATE_ACCEPTED: OfferState
OFFER_STATE_DECLINED: OfferState
OFFER_STATE_EXPIRED: OfferState
OFFER_STATE_WITHDRAWN: OfferState
ACTOR_UNSPECIFIED: Actor
ACTOR_RESIDENT: Actor
ACTOR_CENTRE: Actor
ACTOR_VOLUNTEER: Actor
ACTOR_DISPATCHER: Actor

class Resident(_message.Message):
    __slots__ = ("resident_id", "contact")
    RESIDENT_ID_FIELD_NUMBER: _ClassVar[int]
    CONTACT_FIELD_NUMBER: _ClassVar[int]
    resident_id: str
    contact: str
    def __init__(self, resident_id: _Optional[str] = ..., contact: _Optional[str] = ...) -> None: ...

class Offer(_message.Message):
    __slots__ = ("offer_id", "order_id", "volunteer_id", "state", "deadline", "request", "volunteer_window", "distance_km", "create_time", "decide_time")
    OFFER_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    VOLUNTEER_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    DEADLINE_FIELD_NUMBER: _ClassVar[int]
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    VOLUNTEER_WINDOW_FIELD_NUMBER: _ClassVar[int]
    DISTANCE_KM_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    DECIDE_TIME_FIELD_NUMBER: _ClassVar[int]
    offer_id: str
    order_id: str
    volunteer_id: str
    state: OfferState
    deadline: _timestamp_pb2.Timestamp
    request: _match_pb2.ServiceRequest
    volunteer_window: _match_pb2.TimeWindow
    distance_km: float
    create_time: _timestamp_pb2.Timestamp
    decide_time: _timestamp_pb2.Timestamp
    def __init__(self, offer_id: _Optional[str] = ..., order_id: _Optional[str] = ..., volunteer_id: _Optional[str] = ..., state: _Optional[_Union[OfferState, str]] = ..., deadline: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., request: _Optional[_Union[_match_pb2.ServiceRequest, _Mapping]] = ..., volunteer_window: _Optional[_Union[_match_pb2.TimeWindow, _Mapping]] = ..., distance_km: _Optional[float] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., decide_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class OrderEvent(_message.Message):
    __slots__ = ("time", "event", "from_state", "to_state", "actor", "volunteer_id", "offer_id")
    TIME_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    FROM_STATE_FIELD_NUMBER: _ClassVar[int]
    TO_STATE_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    VOLUNTEER_ID_FIELD_NUMBER: _ClassVar[int]
    OFFER_ID_FIELD_NUMBER: _ClassVar[int]
    time: _timestamp_pb2.Timestamp
    event: str
    from_state: OrderState
    to_state: OrderState
    actor: Actor
    volunteer_id: str
    offer_id: str
    def __init__(self, time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., event: _Optional[str] = ..., from_state: _Optional[_Union[OrderState, str]] = ..., to_state: _Optional[_Union[OrderState, str]] = ..., actor: _Optional[_Union[Actor, str]] = ..., volunteer_id: _Optional[str] = ..., offer_id: _Optional[str] = ...) -> None: ...

class Order(_message.Message):
    __slots__ = ("order_id", "request", "branch_id", "resident", "state", "offers", "accepted_volunteer_ids", "hours_served", "rating", "rating_comment", "history", "create_time", "update_time", "version")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    BRANCH_ID_FIELD_NUMBER: _ClassVar[int]
    RESIDENT_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    OFFERS_FIELD_NUMBER: _ClassVar[int]
    ACCEPTED_VOLUNTEER_IDS_FIELD_NUMBER: _ClassVar[int]
    HOURS_SERVED_FIELD_NUMBER: _ClassVar[int]
    RATING_FIELD_NUMBER: _ClassVar[int]
    RATING_COMMENT_FIELD_NUMBER: _ClassVar[int]
    HISTORY_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    request: _match_pb2.ServiceRequest
    branch_id: str
    resident: Resident
    state: OrderState
    offers: _containers.RepeatedCompositeFieldContainer[Offer]
    accepted_volunteer_ids: _containers.RepeatedScalarFieldContainer[str]
    hours_served: float
    rating: int
    rating_comment: str
    history: _containers.RepeatedCompositeFieldContainer[OrderEvent]
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    version: int
    def __init__(self, order_id: _Optional[str] = ..., request: _Optional[_Union[_match_pb2.ServiceRequest, _Mapping]] = ..., branch_id: _Optional[str] = ..., resident: _Optional[_Union[Resident, _Mapping]] = ..., state: _Optional[_Union[OrderState, str]] = ..., offers: _Optional[_Iterable[_Union[Offer, _Mapping]]] = ..., accepted_volunteer_ids: _Optional[_Iterable[str]] = ..., hours_served: _Optional[float] = ..., rating: _Optional[int] = ..., rating_comment: _Optional[str] = ..., history: _Optional[_Iterable[_Union[OrderEvent, _Mapping]]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., version: _Optional[int] = ...) -> None: ...

class SubmitOrderRequest(_message.Message):
    __slots__ = ("request", "branch_id", "resident", "idempotency_key")
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    BRANCH_ID_FIELD_NUMBER: _ClassVar[int]
    RESIDENT_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    request: _match_pb2.ServiceRequest
    branch_id: str
    resident: Resident
    idempotency_key: str
    def __init__(self, request: _Optional[_Union[_match_pb2.ServiceRequest, _Mapping]] = ..., branch_id: _Optional[str] = ..., resident: _Optional[_Union[Resident, _Mapping]] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class SubmitOrderResponse(_message.Message):
    __slots__ = ("order", "created")
    ORDER_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    order: Order
    created: bool
    def __init__(self, order: _Optional[_Union[Order, _Mapping]] = ..., created: _Optional[bool] = ...) -> None: ...

class GetOrderRequest(_message.Message):
    __slots__ = ("order_id",)
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    def __init__(self, order_id: _Optional[str] = ...) -> None: ...

class GetOrderResponse(_message.Message):
    __slots__ = ("order",)
    ORDER_FIELD_NUMBER: _ClassVar[int]
    order: Order
    def __init__(self, order: _Optional[_Union[Order, _Mapping]] = ...) -> None: ...

class ListOrdersRequest(_message.Message):
    __slots__ = ("states", "branch_ids", "page_size", "page_token")
    STATES_FIELD_NUMBER: _ClassVar[int]
    BRANCH_IDS_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    states: _containers.RepeatedScalarFieldContainer[OrderState]
    branch_ids: _containers.RepeatedScalarFieldContainer[str]
    page_size: int
    page_token: str
    def __init__(self, states: _Optional[_Iterable[_Union[OrderState, str]]] = ..., branch_ids: _Optional[_Iterable[str]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListOrdersResponse(_message.Message):
    __slots__ = ("orders", "next_page_token", "total_size")
    ORDERS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SIZE_FIELD_NUMBER: _ClassVar[int]
    orders: _containers.RepeatedCompositeFieldContainer[Order]
    next_page_token: str
    total_size: int
    def __init__(self, orders: _Optional[_Iterable[_Union[Order, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., total_size: _Optional[int] = ...) -> None: ...

class CancelOrderRequest(_message.Message):
    __slots__ = ("order_id", "actor", "reason")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    actor: Actor
    reason: str
    def __init__(self, order_id: _Optional[str] = ..., actor: _Optional[_Union[Actor, str]] = ..., reason: _Optional[str] = ...) -> None: ...

class CancelOrderResponse(_message.Message):
    __slots__ = ("order",)
    ORDER_FIELD_NUMBER: _ClassVar[int]
    order: Order
    def __init__(self, order: _Optional[_Union[Order, _Mapping]] = ...) -> None: ...

class CompleteOrderRequest(_message.Message):
    __slots__ = ("order_id", "hours_served", "actor", "volunteer_id")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    HOURS_SERVED_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    VOLUNTEER_ID_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    hours_served: float
    actor: Actor
    volunteer_id: str
    def __init__(self, order_id: _Optional[str] = ..., hours_served: _Optional[float] = ..., actor: _Optional[_Union[Actor, str]] = ..., volunteer_id: _Optional[str] = ...) -> None: ...

class CompleteOrderResponse(_message.Message):
    __slots__ = ("order", "credited")
    ORDER_FIELD_NUMBER: _ClassVar[int]
    CREDITED_FIELD_NUMBER: _ClassVar[int]
    order: Order
    credited: bool
    def __init__(self, order: _Optional[_Union[Order, _Mapping]] = ..., credited: _Optional[bool] = ...) -> None: ...

class RateOrderRequest(_message.Message):
    __slots__ = ("order_id", "stars", "comment")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    STARS_FIELD_NUMBER: _ClassVar[int]
    COMMENT_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    stars: int
    comment: str
    def __init__(self, order_id: _Optional[str] = ..., stars: _Optional[int] = ..., comment: _Optional[str] = ...) -> None: ...

class RateOrderResponse(_message.Message):
    __slots__ = ("order",)
    ORDER_FIELD_NUMBER: _ClassVar[int]
    order: Order
    def __init__(self, order: _Optional[_Union[Order, _Mapping]] = ...) -> None: ...

class DispatchScope(_message.Message):
    __slots__ = ("branch_ids", "center", "radius_km")
    BRANCH_IDS_FIELD_NUMBER: _ClassVar[int]
    CENTER_FIELD_NUMBER: _ClassVar[int]
    RADIUS_KM_FIELD_NUMBER: _ClassVar[int]
    branch_ids: _containers.RepeatedScalarFieldContainer[str]
    center: _match_pb2.GeoPoint
    radius_km: float
    def __init__(self, branch_ids: _Optional[_Iterable[str]] = ..., center: _Optional[_Union[_match_pb2.GeoPoint, _Mapping]] = ..., radius_km: _Optional[float] = ...) -> None: ...

class RunDispatchRoundRequest(_message.Message):
    __slots__ = ("scope", "pool", "policy")
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    POOL_FIELD_NUMBER: _ClassVar[int]
    POLICY_FIELD_NUMBER: _ClassVar[int]
    scope: DispatchScope
    pool: _match_pb2.PoolSelector
    policy: _match_pb2.ScoringPolicy
    def __init__(self, scope: _Optional[_Union[DispatchScope, _Mapping]] = ..., pool: _Optional[_Union[_match_pb2.PoolSelector, _Mapping]] = ..., policy: _Optional[_Union[_match_pb2.ScoringPolicy, _Mapping]] = ...) -> None: ...

class RunDispatchRoundResponse(_message.Message):
    __slots__ = ("orders_considered", "offers", "orders_unserved", "offers_expired", "orders_lapsed", "reservation_conflicts", "solves")
    ORDERS_CONSIDERED_FIELD_NUMBER: _ClassVar[int]
    OFFERS_FIELD_NUMBER: _ClassVar[int]
    ORDERS_UNSERVED_FIELD_NUMBER: _ClassVar[int]
    OFFERS_EXPIRED_FIELD_NUMBER: _ClassVar[int]
    ORDERS_LAPSED_FIELD_NUMBER: _ClassVar[int]
    RESERVATION_CONFLICTS_FIELD_NUMBER: _ClassVar[int]
    SOLVES_FIELD_NUMBER: _ClassVar[int]
    orders_considered: int
    offers: _containers.RepeatedCompositeFieldContainer[Offer]
    orders_unserved: int
    offers_expired: int
    orders_lapsed: int
    reservation_conflicts: int
    solves: int
    def __init__(self, orders_considered: _Optional[int] = ..., offers: _Optional[_Iterable[_Union[Offer, _Mapping]]] = ..., orders_unserved: _Optional[int] = ..., offers_expired: _Optional[int] = ..., orders_lapsed: _Optional[int] = ..., reservation_conflicts: _Optional[int] = ..., solves: _Optional[int] = ...) -> None: ...

class ListOffersRequest(_message.Message):
    __slots__ = ("volunteer_id", "states")
    VOLUNTEER_ID_FIELD_NUMBER: _ClassVar[int]
    STATES_FIELD_NUMBER: _ClassVar[int]
    volunteer_id: str
    states: _containers.RepeatedScalarFieldContainer[OfferState]
    def __init__(self, volunteer_id: _Optional[str] = ..., states: _Optional[_Iterable[_Union[OfferState, str]]] = ...) -> None: ...

class ListOffersResponse(_message.Message):
    __slots__ = ("offers",)
    OFFERS_FIELD_NUMBER: _ClassVar[int]
    offers: _containers.RepeatedCompositeFieldContainer[Offer]
    def __init__(self, offers: _Optional[_Iterable[_Union[Offer, _Mapping]]] = ...) -> None: ...

class WatchOffersRequest(_message.Message):
    __slots__ = ("volunteer_id",)
    VOLUNTEER_ID_FIELD_NUMBER: _ClassVar[int]
    volunteer_id: str
    def __init__(self, volunteer_id: _Optional[str] = ...) -> None: ...

class WatchOffersResponse(_message.Message):
    __slots__ = ("offer",)
    OFFER_FIELD_NUMBER: _ClassVar[int]
    offer: Offer
    def __init__(self, offer: _Optional[_Union[Offer, _Mapping]] = ...) -> None: ...

class AcceptOfferRequest(_message.Message):
    __slots__ = ("offer_id",)
    OFFER_ID_FIELD_NUMBER: _ClassVar[int]
    offer_id: str
    def __init__(self, offer_id: _Optional[str] = ...) -> None: ...

class AcceptOfferResponse(_message.Message):
    __slots__ = ("offer", "order")
    OFFER_FIELD_NUMBER: _ClassVar[int]
    ORDER_FIELD_NUMBER: _ClassVar[int]
    offer: Offer
    order: Order
    def __init__(self, offer: _Optional[_Union[Offer, _Mapping]] = ..., order: _Optional[_Union[Order, _Mapping]] = ...) -> None: ...

class DeclineOfferRequest(_message.Message):
    __slots__ = ("offer_id",)
    OFFER_ID_FIELD_NUMBER: _ClassVar[int]
    offer_id: str
    def __init__(self, offer_id: _Optional[str] = ...) -> None: ...

class DeclineOfferResponse(_message.Message):
    __slots__ = ("offer",)
    OFFER_FIELD_NUMBER: _ClassVar[int]
    offer: Offer
    def __init__(self, offer: _Optional[_Union[Offer, _Mapping]] = ...) -> None: ...
