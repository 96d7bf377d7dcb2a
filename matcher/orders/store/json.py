"""Orders, holds and ledger entries as compact JSON (the values the Redis store keeps).

Enums are stored by value; an order's text starts with ``{"ver":<version>,`` and holds its
state as a top-level ``,"st":<state>,``, so the Redis scripts compare versions and find the
state's index with pattern matches, without decoding the order (inside a JSON string every
``"`` is escaped, so the state pattern cannot match there).
"""

from __future__ import annotations

import json
from typing import Any

from matcher.core.model import Urgency
from matcher.orders.model import (
    Actor,
    EffectKind,
    EntryKind,
    Event,
    HistoryEvent,
    Hold,
    LedgerEntry,
    Offer,
    OfferState,
    Order,
    OrderState,
    RegistryEffect,
    Resident,
    ServiceSpec,
)

# Enum members by stored value: a dict lookup is several times cheaper than calling the enum,
# and a round decodes every pending order with its whole history.
_ORDER_STATE = {int(s): s for s in OrderState}
_OFFER_STATE = {int(s): s for s in OfferState}
_ACTOR = {int(a): a for a in Actor}
_EVENT = {e.value: e for e in Event}
_URGENCY = {int(u): u for u in Urgency}


def _dumps(data: object) -> str:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def encode_order(order: Order) -> str:
    """The stored text of ``order`` (version first)."""
    s = order.spec
    data = {
        "ver": order.version,
        "id": order.order_id,
        "b": order.branch_id,
        "r": [order.resident.resident_id, order.resident.contact],
        "s": [
            list(s.skills),
            s.lat,
            s.lon,
            s.start,
            s.end,
            int(s.urgency),
            s.volunteers_needed,
            s.remote,
            s.max_distance_km,
        ],
        "fp": order.fingerprint,
        "st": int(order.state),
        "o": [_offer(o) for o in order.offers],
        "h": [_event(e) for e in order.history],
        "m": order.minutes_served,
        "k": order.stars,
        "c": order.comment,
        "t": [order.created_ms, order.updated_ms],
        "w": order.owner,
    }
    return _dumps(data)


def decode_order(text: str | bytes) -> Order:
    """The order stored as ``text``."""
    d: dict[str, Any] = json.loads(text)
    skills, lat, lon, start, end, urgency, needed, remote, max_km = d["s"]
    return Order(
        order_id=d["id"],
        branch_id=d["b"],
        resident=Resident(d["r"][0], d["r"][1]),
        spec=ServiceSpec(
            tuple(skills), lat, lon, start, end, _URGENCY[urgency], needed, remote, max_km
        ),
        fingerprint=d["fp"],
        state=_ORDER_STATE[d["st"]],
        offers=tuple([_read_offer(o) for o in d["o"]]),
        history=tuple([_read_event(e) for e in d["h"]]),
        minutes_served=d["m"],
        stars=d["k"],
        comment=d["c"],
        version=d["ver"],
        created_ms=d["t"][0],
        updated_ms=d["t"][1],
        owner=d.get("w", ""),  # absent in records written before access control
    )


def _offer(o: Offer) -> list[Any]:
    return [
        o.offer_id,
        o.volunteer_id,
        int(o.state),
        o.created_ms,
        o.deadline_ms,
        o.window_start,
        o.window_end,
        o.distance_km,
        o.decided_ms,
    ]


def _read_offer(raw: list[Any]) -> Offer:
    oid, vid, state, created, deadline, ws, we, km, decided = raw
    return Offer(oid, vid, _OFFER_STATE[state], created, deadline, ws, we, km, decided)


def _event(e: HistoryEvent) -> list[Any]:
    start = int(e.from_state) if e.from_state is not None else 0
    return [
        e.at_ms,
        e.event.value,
        start,
        int(e.to_state),
        int(e.actor),
        e.volunteer_id,
        e.offer_id,
        e.detail,
    ]


def _read_event(raw: list[Any]) -> HistoryEvent:
    at, event, start, to, actor, vid, oid, detail = raw
    return HistoryEvent(
        at,
        _EVENT[event],
        _ORDER_STATE[start] if start else None,
        _ORDER_STATE[to],
        _ACTOR[actor],
        vid,
        oid,
        detail,
    )


def encode_hold(hold: Hold) -> str:
    """A hold's value in its volunteer's hash: ``start end deadline_ms``."""
    return f"{hold.start} {hold.end} {hold.deadline_ms}"


def decode_hold(volunteer_id: str, hold_id: str, text: str) -> Hold:
    start, end, deadline = (int(x) for x in text.split())
    return Hold(volunteer_id, hold_id, start, end, deadline)


def encode_entry_fields(entry: LedgerEntry) -> str:
    """A ledger entry as JSON without its sequence (the store numbers entries)."""
    return _dumps(
        [
            entry.txn_id,
            int(entry.kind),
            entry.account,
            entry.minutes,
            entry.branch_id,
            entry.at_ms,
            entry.order_id,
            entry.reason,
        ]
    )


def decode_entry(sequence: int, text: str | bytes) -> LedgerEntry:
    txn, kind, account, minutes, branch, at, order_id, reason = json.loads(text)
    return LedgerEntry(
        sequence, txn, EntryKind(kind), account, minutes, branch, at, order_id, reason
    )


def encode_effect(effect: RegistryEffect) -> str:
    """A registry effect in the outbox (one text per effect: equal effects, equal texts)."""
    e = effect
    return _dumps(
        [
            e.effect_id,
            e.volunteer_id,
            int(e.kind),
            e.start,
            e.end,
            e.amount,
            e.claim,
            e.claimed_ms,
            e.attempt_version,
            e.attempt_digest,
        ]
    )


def decode_effect(text: str | bytes) -> RegistryEffect:
    effect_id, vid, kind, start, end, amount, claim, claimed, version, digest = json.loads(text)
    return RegistryEffect(
        effect_id, vid, EffectKind(kind), start, end, amount, claim, claimed, version, digest
    )
