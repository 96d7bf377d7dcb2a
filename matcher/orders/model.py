"""The order lifecycle's domain types: orders, offers, history, holds and ledger postings.

Independent of protobuf and of any store. Times are epoch milliseconds (``*_ms``) for events
and epoch seconds for service windows (as in the matching core). Hours are held as whole
minutes so that ledger sums are exact integers. Enum values match the proto enums.

Personal data: a resident's ``contact`` and a rating ``comment`` are kept out of ``repr``
(so out of logs and tracebacks); ids are not personal data.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from matcher.core.model import Urgency


class OrderState(enum.IntEnum):
    """Where an order is in its lifecycle (see ``lifecycle`` for the transitions)."""

    PENDING = 1  # waiting for a round: some slot has neither an open nor an accepted offer
    OFFERED = 2  # every open slot is offered; waiting for the volunteers' answers
    ACCEPTED = 3  # every slot accepted (or the service began with some accepted)
    COMPLETED = 4  # the service is done; hours credited
    RATED = 5  # the resident rated it (final)
    CANCELLED = 6  # cancelled before completion (final)
    EXPIRED = 7  # the service time came with no volunteer accepted (final)


class OfferState(enum.IntEnum):
    """What became of one offer to one volunteer."""

    OPEN = 1  # waiting for the volunteer, until the deadline
    ACCEPTED = 2
    DECLINED = 3
    EXPIRED = 4  # the deadline passed unanswered
    WITHDRAWN = 5  # the order was cancelled or its time came while the offer was open


class Actor(enum.IntEnum):
    """Who caused an event."""

    RESIDENT = 1
    CENTRE = 2
    VOLUNTEER = 3
    DISPATCHER = 4  # the engine itself (rounds, deadlines)


class Event(enum.Enum):
    """Order-level events; the value is the word the history shows."""

    SUBMIT = "submitted"
    OFFER = "offered"
    ACCEPT = "accepted"
    DECLINE = "declined"
    OFFER_EXPIRE = "offer_expired"
    CANCEL = "cancelled"
    COMPLETE = "completed"
    RATE = "rated"
    LAPSE = "lapsed"  # the service time came before every slot was accepted
    CLOSE = "closed_uncompleted"  # ACCEPTED, never completed, its grace after the end passed


FINAL_STATES = frozenset({OrderState.RATED, OrderState.CANCELLED, OrderState.EXPIRED})


@dataclass(frozen=True)
class Resident:
    """Who ordered: an opaque reference and a contact for the volunteer (never logged)."""

    resident_id: str
    contact: str = field(default="", repr=False)


@dataclass(frozen=True)
class ServiceSpec:
    """What was ordered (mirrors ``matcher.v1.ServiceRequest``, defaults applied)."""

    skills: tuple[str, ...]  # taxonomy codes, sorted, distinct
    lat: float
    lon: float
    start: int  # epoch seconds
    end: int  # epoch seconds, exclusive
    urgency: Urgency = Urgency.ROUTINE
    volunteers_needed: int = 1
    remote: bool = False
    max_distance_km: float = 0.0

    @property
    def minutes(self) -> int:
        """Length of the service window in whole minutes."""
        return (self.end - self.start) // 60


@dataclass(frozen=True)
class Offer:
    """One order offered to one volunteer."""

    offer_id: str  # "<order id>.<n>", n counting from 1 within the order
    volunteer_id: str
    state: OfferState
    created_ms: int
    deadline_ms: int  # answer before this instant
    window_start: int  # the volunteer's availability window the order uses (epoch s)
    window_end: int
    distance_km: float = 0.0
    decided_ms: int = 0  # when it left OPEN (0 while open)


@dataclass(frozen=True)
class HistoryEvent:
    """One transition of an order, as the history shows it."""

    at_ms: int
    event: Event
    from_state: OrderState | None  # None for the submission
    to_state: OrderState
    actor: Actor
    volunteer_id: str = ""
    offer_id: str = ""
    detail: str = ""  # never personal data


@dataclass(frozen=True)
class Order:
    """An order and everything that happened to it."""

    order_id: str
    branch_id: str  # the grid branch (网格分行) the order belongs to; "" = the head bank
    resident: Resident
    spec: ServiceSpec
    fingerprint: str  # digest of what was submitted (to spot a reused idempotency key)
    state: OrderState
    offers: tuple[Offer, ...] = ()
    history: tuple[HistoryEvent, ...] = ()
    minutes_served: int = 0  # per accepted volunteer, set on completion
    stars: int = 0  # 1-5 once rated
    comment: str = field(default="", repr=False)
    version: int = 0  # set by the store: 1 on creation, +1 on every write
    created_ms: int = 0
    updated_ms: int = 0
    owner: str = ""  # id of the API key that submitted it ("" in open mode or from before)

    @property
    def accepted_volunteers(self) -> tuple[str, ...]:
        """Volunteers who accepted, in offer order."""
        return tuple(o.volunteer_id for o in self.offers if o.state is OfferState.ACCEPTED)

    @property
    def open_offers(self) -> tuple[Offer, ...]:
        return tuple(o for o in self.offers if o.state is OfferState.OPEN)

    @property
    def open_slots(self) -> int:
        """Slots with neither an open nor an accepted offer."""
        taken = sum(1 for o in self.offers if o.state in (OfferState.OPEN, OfferState.ACCEPTED))
        return max(self.spec.volunteers_needed - taken, 0)

    @property
    def offered_volunteers(self) -> frozenset[str]:
        """Everyone this order was ever offered to: never offered to again."""
        return frozenset(o.volunteer_id for o in self.offers)

    def offer(self, offer_id: str) -> Offer | None:
        return next((o for o in self.offers if o.offer_id == offer_id), None)


@dataclass(frozen=True)
class Hold:
    """A volunteer's time reserved by an offer (until its deadline) or an accepted order
    (``deadline_ms`` 0: until released). No two live holds of one volunteer overlap."""

    volunteer_id: str
    hold_id: str  # the offer id
    start: int  # epoch seconds: the order's service window
    end: int
    deadline_ms: int = 0

    def live(self, now_ms: int) -> bool:
        return self.deadline_ms == 0 or self.deadline_ms > now_ms


class EffectKind(enum.IntEnum):
    """What an order write does to one volunteer's registry record (``registry_sync``)."""

    CUT = 1  # accepted: the service window leaves the volunteer's availability
    GIVE_BACK = 2  # cancelled after acceptance: the window is merged back
    HOURS = 3  # completed: ``amount`` minutes added to ``recent_hours``
    RATING = 4  # rated: ``amount`` stars folded into the mean rating


@dataclass(frozen=True)
class RegistryEffect:
    """One registry side effect of an order write, kept in the order store's outbox (written
    atomically with the order) until it is applied to the registry, exactly once.

    The claim fields are set by the process applying it: ``claim`` (its token) and
    ``claimed_ms`` give it a lease, and before its registry write it records the record
    version that write expects (``attempt_version``, 0: none yet) and a digest of the
    profile it writes (``attempt_digest``), so a replay can tell whether the write landed.
    """

    effect_id: str  # "<order id>@<order version written>.<n>"
    volunteer_id: str
    kind: EffectKind
    start: int = 0  # CUT, GIVE_BACK: the service window (epoch s)
    end: int = 0
    amount: int = 0  # HOURS: minutes; RATING: stars
    claim: str = ""
    claimed_ms: int = 0
    attempt_version: int = 0
    attempt_digest: str = ""


@dataclass(frozen=True)
class HoldChanges:
    """Holds one commit adds (checked for overlap) and releases (by volunteer, hold id)."""

    add: tuple[Hold, ...] = ()
    release: tuple[tuple[str, str], ...] = ()


NO_HOLD_CHANGES = HoldChanges()


class EntryKind(enum.IntEnum):
    """Why hours moved."""

    EARNED = 1  # a completed order: volunteer credited, branch debited
    REDEEMED = 2  # a volunteer spent hours: volunteer debited, branch credited


@dataclass(frozen=True)
class Posting:
    """One leg of a transaction: ``minutes`` added to ``account`` (negative: taken)."""

    account: str
    minutes: int


@dataclass(frozen=True)
class Transaction:
    """A balanced set of postings, applied at most once per ``txn_id``.

    ``guard_account`` (if set) must hold at least ``guard_minutes`` before the postings, or
    nothing is posted (``InsufficientBalanceError``).
    """

    txn_id: str
    kind: EntryKind
    branch_id: str
    postings: tuple[Posting, ...]
    at_ms: int
    order_id: str = ""
    reason: str = field(default="", repr=False)
    guard_account: str = ""
    guard_minutes: int = 0

    def __post_init__(self) -> None:
        if sum(p.minutes for p in self.postings) != 0:
            raise ValueError(f"transaction {self.txn_id} does not balance")

    def entry(self, posting: Posting, sequence: int = 0) -> LedgerEntry:
        """One of the postings as the ledger keeps it (``sequence`` 0: not numbered yet)."""
        return LedgerEntry(
            sequence,
            self.txn_id,
            self.kind,
            posting.account,
            posting.minutes,
            self.branch_id,
            self.at_ms,
            self.order_id,
            self.reason,
        )


@dataclass(frozen=True)
class LedgerEntry:
    """One posting as the ledger keeps it (append-only, numbered from 1)."""

    sequence: int
    txn_id: str
    kind: EntryKind
    account: str
    minutes: int
    branch_id: str
    at_ms: int
    order_id: str = ""
    reason: str = field(default="", repr=False)


@dataclass(frozen=True)
class BranchFigures:
    """A branch's time-bank totals, in minutes."""

    branch_id: str
    earned_minutes: int = 0  # credited to volunteers for the branch's completed orders
    redeemed_minutes: int = 0  # spent by volunteers at the branch
    completed_orders: int = 0

    @property
    def outstanding_minutes(self) -> int:
        return self.earned_minutes - self.redeemed_minutes
