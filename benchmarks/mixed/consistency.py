"""Order-side consistency checks after a mixed load run (the ledger's are in ``ledger_checks``).

Each check returns a list of violations (empty: passed). The orders are read through the
public API once the load stopped; the state machine below is written from the protos'
documentation, not imported from the engine, so the engine is not checked against itself.

* ``orders_and_history``: every order has a legal state, a history that starts with one
  submission, follows legal transitions and ends in the order's state, offers numbered
  ``<order>.<n>``, never two offers to one volunteer, accepted volunteers = the ACCEPTED
  offers, slot counts that fit the state, and no acceptance after an offer's deadline.
* ``acknowledged``: no lost order and no lost update: every acknowledged submission exists
  with what was submitted, created at most once per key; every acknowledged accept,
  decline, completion, rating and cancellation is what the store shows.
* ``no_double_booking``: no volunteer has two accepted offers (of orders not cancelled), or
  an accepted one and a live open offer, at overlapping times.
* ``holds``: every stored hold belongs to an OPEN offer (until its deadline) or to an
  accepted offer of an order not over yet (PENDING, OFFERED or ACCEPTED); every such offer
  has its hold; live holds of one volunteer never overlap (store snapshot, read-only).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from benchmarks.mixed.calls import Records, Submission
from benchmarks.mixed.server_proc import StoreSnapshot
from matcher.orders.desk import order_id_for
from matcher.v1 import orders_pb2

O = orders_pb2  # noqa: E741 (the proto module, short: read as a namespace)
P, OF, A = O.ORDER_STATE_PENDING, O.ORDER_STATE_OFFERED, O.ORDER_STATE_ACCEPTED
C, R, X, E = (
    O.ORDER_STATE_COMPLETED,
    O.ORDER_STATE_RATED,
    O.ORDER_STATE_CANCELLED,
    O.ORDER_STATE_EXPIRED,
)
#: Orders whose ACCEPTED offers book their volunteers (a multi-slot order is PENDING or
#: OFFERED while some slots are accepted and others are not yet).
BOOKED = (P, OF, A, C, R)
#: Orders whose ACCEPTED offers still hold the volunteer's time in the store.
HOLDING = (P, OF, A)
#: event -> (states it may happen in, states it may lead to), from orders.proto.
EVENTS: dict[str, tuple[frozenset[int], frozenset[int]]] = {
    "submitted": (frozenset({O.ORDER_STATE_UNSPECIFIED}), frozenset({P})),
    "offered": (frozenset({P}), frozenset({P, OF})),
    "accepted": (frozenset({P, OF}), frozenset({P, OF, A})),
    "declined": (frozenset({P, OF}), frozenset({P})),
    "offer_expired": (frozenset({P, OF}), frozenset({P})),
    "cancelled": (frozenset({P, OF, A}), frozenset({X})),
    "completed": (frozenset({A}), frozenset({C})),
    "rated": (frozenset({C}), frozenset({R})),
    "lapsed": (frozenset({P, OF}), frozenset({E, A})),
}
MAX_LISTED = 30  # violations listed per check (the count is always complete)


def _ms(ts: object) -> int:
    return int(ts.seconds) * 1000 + int(ts.nanos) // 1_000_000  # type: ignore[attr-defined]


def _name(state: int) -> str:
    return O.OrderState.Name(state)


def orders_and_history(orders: Iterable[O.Order]) -> list[str]:
    out: list[str] = []
    for order in orders:
        out += [f"{order.order_id}: {p}" for p in _order_problems(order)]
    return out


def _order_problems(order: O.Order) -> list[str]:
    problems = _history_problems(order)
    offers = list(order.offers)
    needed = max(1, order.request.volunteers_needed)
    for i, offer in enumerate(offers):
        if offer.offer_id != f"{order.order_id}.{i + 1}":
            problems.append(f"offer {i + 1} is numbered {offer.offer_id}")
        if offer.state == O.OFFER_STATE_ACCEPTED and _ms(offer.decide_time) >= _ms(offer.deadline):
            problems.append(f"offer {offer.offer_id} accepted at or after its deadline")
    volunteers = [o.volunteer_id for o in offers]
    if len(set(volunteers)) != len(volunteers):
        problems.append("offered twice to one volunteer")
    accepted = [o.volunteer_id for o in offers if o.state == O.OFFER_STATE_ACCEPTED]
    if list(order.accepted_volunteer_ids) != accepted:
        problems.append(
            f"accepted_volunteer_ids {list(order.accepted_volunteer_ids)} != {accepted}"
        )
    n_open = sum(1 for o in offers if o.state == O.OFFER_STATE_OPEN)
    n_acc, state = len(accepted), order.state
    lapsed = any(ev.event == "lapsed" for ev in order.history)
    expected = {
        P: n_open + n_acc < needed,
        OF: n_open >= 1 and n_open + n_acc == needed,
        A: n_open == 0 and (n_acc == needed or (lapsed and n_acc >= 1)),
        C: n_open == 0 and n_acc >= 1 and order.hours_served > 0,
        R: n_open == 0 and n_acc >= 1 and order.hours_served > 0 and 1 <= order.rating <= 5,
        X: n_open == 0,
        E: n_open == 0 and n_acc == 0,
    }.get(state)
    if expected is None:
        problems.append(f"illegal state {state}")
    elif not expected:
        problems.append(
            f"{_name(state)} with {n_open} open and {n_acc} accepted offers of {needed} slots "
            f"(hours {order.hours_served:g}, rating {order.rating})"
        )
    return problems


def _history_problems(order: O.Order) -> list[str]:
    history = list(order.history)
    if not history:
        return ["no history"]
    problems = []
    if sum(1 for ev in history if ev.event == "submitted") != 1 or history[0].event != "submitted":
        problems.append("history does not start with exactly one submission")
    before = O.ORDER_STATE_UNSPECIFIED
    for ev in history:
        rule = EVENTS.get(ev.event)
        if rule is None:
            problems.append(f"unknown event {ev.event!r}")
        elif ev.from_state not in rule[0] or ev.to_state not in rule[1]:
            problems.append(f"illegal {ev.event}: {_name(ev.from_state)} -> {_name(ev.to_state)}")
        if ev.from_state != before:
            problems.append(f"{ev.event} starts from {_name(ev.from_state)}, not {_name(before)}")
        before = ev.to_state
    if before != order.state:
        problems.append(f"history ends in {_name(before)} but the order is {_name(order.state)}")
    return problems


def acknowledged(orders: dict[str, O.Order], records: Records, *, whole_store: bool) -> list[str]:
    out = list(records.idempotency_mismatches)
    known = set()
    for sub in records.submissions.values():
        order_id = submitted_id(sub)
        if not order_id:
            continue  # sent with a key of unknown id and never acknowledged: not traceable
        known.add(order_id)
        if sub.order_id and sub.order_id != order_id:
            out.append(f"key {sub.key}: acknowledged as {sub.order_id}, expected {order_id}")
        found = orders.get(order_id)
        if sub.created_replies > 1:
            out.append(f"key {sub.key}: created {sub.created_replies} times")
        if sub.acknowledged and sub.created_replies == 0 and not sub.lost_reply:
            out.append(f"key {sub.key}: acknowledged but no reply said it was created")
        if found is None:
            if sub.acknowledged:
                out.append(f"lost order: key {sub.key} acknowledged as {sub.order_id}")
            continue
        asked = sub.request
        if (
            found.branch_id != asked.branch_id
            or found.resident.resident_id != asked.resident.resident_id
            or found.request.window != asked.request.window
            or sorted(found.request.required_skills) != sorted(asked.request.required_skills)
        ):
            out.append(f"order {order_id} differs from what key {sub.key} submitted")
    if whole_store:
        out += [f"order {i} was never submitted by this run" for i in orders if i not in known]
    out += _acknowledged_answers(orders, records)
    return out


def submitted_id(sub: Submission) -> str:
    """The order id a submission gets: its idempotency key, scoped by the id of the API key
    it was sent with (``OrderDesk.submit``); the acknowledged id when that key's id is
    unknown (a ``--role-key`` for a target server), "" if there is none."""
    if sub.owner is None:
        return sub.order_id
    return order_id_for(sub.key, sub.owner)


def _acknowledged_answers(orders: dict[str, O.Order], records: Records) -> list[str]:
    out = []
    offers = {o.offer_id: o for order in orders.values() for o in order.offers}
    for offer_id, want in [(i, O.OFFER_STATE_ACCEPTED) for i in records.accepted] + [
        (i, O.OFFER_STATE_DECLINED) for i in records.declined
    ]:
        got = offers.get(offer_id)
        if got is None or got.state != want:
            shown = "missing" if got is None else O.OfferState.Name(got.state)
            out.append(f"offer {offer_id} acknowledged {O.OfferState.Name(want)}, stored {shown}")
    for order_id, minutes in records.completed.items():
        order = orders.get(order_id)
        if order is None or order.state not in (C, R) or round(order.hours_served * 60) != minutes:
            out.append(f"order {order_id} acknowledged completed ({minutes} min), stored otherwise")
        if records.credited[order_id] != 1:
            out.append(f"order {order_id}: {records.credited[order_id]} completions credited")
    for order_id, stars in records.rated.items():
        order = orders.get(order_id)
        if order is None or order.state != R or order.rating != stars:
            out.append(f"order {order_id} acknowledged rated {stars}, stored otherwise")
    for order_id in records.cancelled:
        order = orders.get(order_id)
        if order is None or order.state != X:
            out.append(f"order {order_id} acknowledged cancelled, stored otherwise")
    return out


def booked_times(orders: Iterable[O.Order]) -> dict[str, list[tuple[int, int, str]]]:
    """Volunteer -> (start, end, order id) of every order they accepted (not cancelled)."""
    booked: dict[str, list[tuple[int, int, str]]] = defaultdict(list)
    for order in orders:
        if order.state not in BOOKED:
            continue
        w = order.request.window
        for offer in order.offers:
            if offer.state == O.OFFER_STATE_ACCEPTED:
                booked[offer.volunteer_id].append((w.start.seconds, w.end.seconds, order.order_id))
    return booked


def no_double_booking(orders: list[O.Order], now_ms: int) -> list[str]:
    out = []
    spans = booked_times(orders)
    for vid, taken in spans.items():
        out += [f"volunteer {vid} booked twice: {a} and {b}" for a, b in _overlaps(taken)]
    held: dict[str, list[tuple[int, int, str]]] = defaultdict(list)
    for order in orders:
        w = order.request.window
        for offer in order.offers:
            if offer.state == O.OFFER_STATE_OPEN and _ms(offer.deadline) > now_ms:
                held[offer.volunteer_id].append((w.start.seconds, w.end.seconds, offer.offer_id))
    for vid, offered in held.items():
        for a, b in _overlaps(offered + spans.get(vid, [])):
            out.append(f"volunteer {vid}: live offer overlaps another booking ({a}, {b})")
    return out


def _overlaps(spans: list[tuple[int, int, str]]) -> list[tuple[str, str]]:
    found = []
    ordered = sorted(spans)
    for i, (_start, end, ident) in enumerate(ordered):
        for start2, _end2, ident2 in ordered[i + 1 :]:
            if start2 >= end:
                break
            found.append((ident, ident2))
    return found


def holds(orders: list[O.Order], snap: StoreSnapshot) -> list[str]:
    out = []
    by_offer = {o.offer_id: (order, o) for order in orders for o in order.offers}
    stored = set()
    for vid, hold_id, start, end, deadline in snap.holds:
        stored.add(hold_id)
        found = by_offer.get(hold_id)
        if found is None:
            out.append(f"hold {hold_id} of {vid} belongs to no offer")
            continue
        order, offer = found
        w = order.request.window
        if offer.volunteer_id != vid or (start, end) != (w.start.seconds, w.end.seconds):
            out.append(f"hold {hold_id} of {vid} does not match its offer")
        if offer.state == O.OFFER_STATE_OPEN:
            if deadline != _ms(offer.deadline):
                out.append(f"hold {hold_id}: deadline {deadline} != offer's {_ms(offer.deadline)}")
        elif offer.state == O.OFFER_STATE_ACCEPTED and order.state in HOLDING:
            if deadline != 0:
                out.append(f"hold {hold_id} of an accepted offer expires at {deadline}")
        else:
            forever = " (forever)" if deadline == 0 else ""
            out.append(
                f"hold {hold_id} of {vid} left behind{forever}: offer "
                f"{O.OfferState.Name(offer.state)}, order {_name(order.state)}"
            )
    for order, offer in by_offer.values():
        live_open = offer.state == O.OFFER_STATE_OPEN and _ms(offer.deadline) > snap.now_ms
        booked = offer.state == O.OFFER_STATE_ACCEPTED and order.state in HOLDING
        if (live_open or booked) and offer.offer_id not in stored:
            out.append(f"offer {offer.offer_id} ({O.OfferState.Name(offer.state)}) holds no time")
    live: dict[str, list[tuple[int, int, str]]] = defaultdict(list)
    for vid, hold_id, start, end, deadline in snap.holds:
        if deadline == 0 or deadline > snap.now_ms:
            live[vid].append((start, end, hold_id))
    for vid, spans in live.items():
        out += [f"volunteer {vid}: live holds {a} and {b} overlap" for a, b in _overlaps(spans)]
    return out
