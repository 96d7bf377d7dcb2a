"""Roles and the one table of which role may call which rpc.

=============== ==============================================================================
role            may call
=============== ==============================================================================
admin           everything
dispatcher      Match, RunDispatchRound, every read (volunteers, orders, offers, time bank,
                server status), CancelOrder and CompleteOrder (the centre's staff)
registry        VolunteerService (all of it: the registry)
resident_app    SubmitOrder, GetOrder, ListOrders, CancelOrder, RateOrder: its own orders only
volunteer_app   its own volunteer's offers (List, Watch, Accept, Decline), GetVolunteer and
                time-bank balance and statement of itself, CompleteOrder of an order it accepted
=============== ==============================================================================

Health checks and reflection need no key. A method missing from the table is admin only; a
test checks that every rpc of every ``matcher.v1`` service is in it. Which objects an
``_app`` role may touch is ``matcher.access.policy``'s business.
"""

from __future__ import annotations

import enum


class Role(enum.Enum):
    """What an API key may do (the value is how keys files and logs spell it)."""

    ADMIN = "admin"
    DISPATCHER = "dispatcher"
    REGISTRY = "registry"
    RESIDENT_APP = "resident_app"
    VOLUNTEER_APP = "volunteer_app"


D, G, R, V = Role.DISPATCHER, Role.REGISTRY, Role.RESIDENT_APP, Role.VOLUNTEER_APP

#: rpc (``/package.Service/Method``) -> roles besides admin that may call it.
PERMISSIONS: dict[str, frozenset[Role]] = {
    method: frozenset(roles)
    for method, roles in {
        "/matcher.v1.MatchService/Match": (D,),
        "/matcher.v1.VolunteerService/UpsertVolunteers": (G,),
        "/matcher.v1.VolunteerService/GetVolunteer": (D, G, V),
        "/matcher.v1.VolunteerService/DeleteVolunteer": (G,),
        "/matcher.v1.VolunteerService/ListVolunteers": (D, G),
        "/matcher.v1.VolunteerService/ReplaceAvailability": (G,),
        "/matcher.v1.VolunteerService/GetRegistryStatus": (D, G),
        "/matcher.v1.StatusService/GetServerStatus": (D,),
        "/matcher.v1.OrderService/SubmitOrder": (R,),
        "/matcher.v1.OrderService/GetOrder": (D, R),
        "/matcher.v1.OrderService/ListOrders": (D, R),
        "/matcher.v1.OrderService/CancelOrder": (D, R),
        "/matcher.v1.OrderService/CompleteOrder": (D, V),
        "/matcher.v1.OrderService/RateOrder": (R,),
        "/matcher.v1.DispatchService/RunDispatchRound": (D,),
        "/matcher.v1.OfferService/ListOffers": (D, V),
        "/matcher.v1.OfferService/WatchOffers": (D, V),
        "/matcher.v1.OfferService/AcceptOffer": (V,),
        "/matcher.v1.OfferService/DeclineOffer": (V,),
        "/matcher.v1.TimeBankService/GetBalance": (D, V),
        "/matcher.v1.TimeBankService/GetStatement": (D, V),
        "/matcher.v1.TimeBankService/GetBranchSummary": (D,),
        "/matcher.v1.TimeBankService/RedeemHours": (),
    }.items()
}

#: Method prefixes anyone may call without a key: health checks and reflection.
OPEN_PREFIXES = (
    "/grpc.health.v1.Health/",
    "/grpc.reflection.v1alpha.ServerReflection/",
    "/grpc.reflection.v1.ServerReflection/",
)


def is_open(method: str) -> bool:
    """Whether ``method`` needs no key."""
    return method.startswith(OPEN_PREFIXES)


def may_call(role: Role, method: str) -> bool:
    """Whether ``role`` may call ``method`` (admin may call anything)."""
    return role is Role.ADMIN or role in PERMISSIONS.get(method, frozenset())


def parse_role(text: str) -> Role | None:
    """The role spelled ``text``, or None."""
    return next((r for r in Role if r.value == text), None)
