"""The engine as a centre runs it: the lifecycle's own ``OrderDesk``, ``Dispatcher`` and rounds
on the memory stores, driven by a simulated clock (the production code path, not a copy).

* The volunteers are registered with their shifts as availability windows
  (``rounds.backlog.registry_of``); the simulation keeps each one's windows up to date as
  their volunteer app would ("busy until 10:40"): after an acceptance a volunteer's windows
  start when the job ends.
* Each order is submitted when it arrives. Today's order API takes a service window, not a
  deadline, so the order asks for its service time starting at its deadline: the lifecycle
  then lapses it unanswered exactly at its deadline, and the engine may only use volunteers
  whose shift holds that window (``service_spec``). ``window="deadline"`` asks for one
  minute at the deadline instead (a diagnosis: the engine then needs volunteers on shift at
  the deadline only, as the world does not).
* A round runs every ``round_s`` (the dispatcher's batch window) and, inside the submission,
  at once for an urgent order (``Dispatcher.wake``).
* Each offer the desk writes (seen through its ``LifecycleObserver``) is answered by the
  world's seeded rule after its delay, through ``OrderDesk.accept`` / ``decline``, or left
  to expire at the offer TTL. An accepted volunteer sets off as soon as they are free
  (``world.set_off``); when the last of an order's volunteers is back, the order is
  completed (``OrderDesk.complete``), which releases their holds.
"""

from __future__ import annotations

import dataclasses
from functools import partial

from benchmarks.day.world import (
    OFFER_TTL_S,
    Agenda,
    Answer,
    Day,
    Outcome,
    Reach,
    Trip,
    busy_s,
    reach,
    set_off,
    shifts,
)
from benchmarks.rounds.backlog import registry_of
from matcher.core.model import Urgency
from matcher.core.skills import mask_codes
from matcher.errors import ConflictError, NotFoundError
from matcher.orders.desk import OrderDesk, order_id_for
from matcher.orders.dispatcher import Dispatcher
from matcher.orders.model import Actor, Order, OrderState, Resident, ServiceSpec, Transaction
from matcher.orders.store.memory import MemoryOrderStore
from matcher.registry.view import PoolView

#: The dispatcher's batch window, seconds.
ROUND_S = 5 * 60
#: How an order's service window is written: from its deadline for its service time, or
#: one minute at its deadline.
WINDOWS = ("service", "deadline")


class OfferLog:
    """The desk's observer: every new offer, and the rounds run."""

    def __init__(self) -> None:
        self.new: list[tuple[str, str, str]] = []  # (order id, offer id, volunteer id)
        self.rounds = 0

    def order_written(self, before: Order | None, after: Order, txn: Transaction | None) -> None:
        for made in after.offers:
            if before is None or before.offer(made.offer_id) is None:
                self.new.append((after.order_id, made.offer_id, made.volunteer_id))

    def round_finished(self, seconds: float, offers: int, failed: bool) -> None:
        self.rounds += 1


def service_spec(day: Day, o: int, window: str = "service") -> ServiceSpec:
    """Order ``o`` as today's API takes it: its service time from its deadline (``window``
    "deadline": one minute from its deadline)."""
    needs = day.needs
    start = int(day.deadline[o])
    length = int(day.service_s[o]) if window == "service" else 60
    return ServiceSpec(
        skills=tuple(sorted(mask_codes(int(needs.skill_mask[o])))),
        lat=float(needs.lat[o]),
        lon=float(needs.lon[o]),
        start=start,
        end=start + length,
        urgency=Urgency(int(needs.urgency[o])),
        volunteers_needed=int(needs.slots[o]),
        remote=bool(needs.remote[o]),
        max_distance_km=float(needs.max_distance_km[o]),
    )


class EngineDay:
    """The event loop of one day dispatched by the engine's rounds."""

    def __init__(
        self, day: Day, round_s: int = ROUND_S, pairs: Reach | None = None, window: str = "service"
    ) -> None:
        if window not in WINDOWS:
            raise ValueError(f"window must be one of {WINDOWS}, not {window!r}")
        self.day = day
        self.round_s = round_s
        self.window = window
        self.pairs = pairs if pairs is not None else reach(day)
        self.agenda = Agenda(float(day.opens))
        self.log = OfferLog()
        self.registry = registry_of(day.pool)
        self.desk = OrderDesk(
            MemoryOrderStore(), self.registry, self.agenda, OFFER_TTL_S, observer=self.log
        )
        self.dispatcher = Dispatcher(self.desk, PoolView(self.registry, self.agenda), 0.0)
        self.shifts = shifts(day.pool)
        self.busy_until = [0] * len(day.pool)
        self.row_of = {vid: v for v, vid in enumerate(day.pool.ids)}
        self.ids = [order_id_for(f"day-{day.name}-{day.seed}-{o}") for o in range(len(day))]
        self.index = {oid: o for o, oid in enumerate(self.ids)}
        self.back_at: dict[int, list[int]] = {}  # order -> when each accepted volunteer is back
        self.outcome = Outcome("engine")

    def run(self) -> Outcome:
        day = self.day
        self.dispatcher.start()
        for o in range(len(day)):
            self.agenda.at(float(day.arrival[o]), partial(self._submit, o))
            settle = float(day.deadline[o]) + self.round_s + 1
            self.agenda.at(settle, partial(self._complete_if_back, o))
        last = int(day.deadline.max(initial=day.opens))
        for when in range(day.opens, last + 2 * self.round_s, self.round_s):
            self.agenda.at(float(when), self._round)
        try:
            self.agenda.run()
        finally:
            self.dispatcher.stop()
        self.outcome.notes["rounds"] = self.log.rounds
        return self.outcome

    def _submit(self, o: int) -> None:
        resident = Resident(f"res-{o}", "")
        key = f"day-{self.day.name}-{self.day.seed}-{o}"
        self.desk.submit("grid-day", resident, service_spec(self.day, o, self.window), key)
        self._answer_new_offers()  # an urgent order's round ran inside the submission

    def _round(self) -> None:
        self.dispatcher.run_round()
        self._answer_new_offers()

    def _answer_new_offers(self) -> None:
        new, self.log.new = self.log.new, []
        for order_id, offer_id, vid in new:
            o, v = self.index[order_id], self.row_of[vid]
            row = self._row(o, v)
            answer = Answer(int(self.pairs.answer[row]))
            if answer is Answer.IGNORE:
                continue  # the next round's sweep expires it
            when = self.agenda.now + int(self.pairs.delay_s[row])
            self.agenda.at(when, partial(self._answer, o, v, row, offer_id, answer))

    def _row(self, o: int, v: int) -> int:
        for row in self.pairs.rows(o):
            if int(self.pairs.volunteer[row]) == v:
                return row
        raise AssertionError(f"the engine offered order {o} to volunteer {v}, out of reach")

    def _answer(self, o: int, v: int, row: int, offer_id: str, answer: Answer) -> None:
        now = int(self.agenda.now)
        deadline = int(self.day.deadline[o])
        if now >= deadline:
            return  # the order is gone: the offer is withdrawn or expires
        km = float(self.pairs.km[row])
        job = busy_s(self.day, o, km)
        start = set_off(self.shifts[v], max(now, self.busy_until[v]), deadline, job)
        try:
            if answer is Answer.ACCEPT and start is not None:
                self.desk.accept(offer_id)
            else:
                self.desk.decline(offer_id)
                return
        except (ConflictError, NotFoundError):
            return  # the order lapsed or was taken meanwhile
        self.outcome.trips.append(Trip(o, v, now, start, km, job))
        self.busy_until[v] = start + job
        self.back_at.setdefault(o, []).append(start + job)
        self._roster(v)
        self.agenda.at(float(start + job), partial(self._complete_if_back, o))

    def _roster(self, v: int) -> None:
        """Volunteer ``v``'s windows: their shifts from the end of their last job on."""
        free = self.busy_until[v]
        windows = tuple((max(s, free), e) for s, e in self.shifts[v] if e > max(s, free))
        record = self.registry.get(self.day.pool.ids[v])
        assert record is not None
        profile = dataclasses.replace(record.profile, windows=windows)
        self.registry.upsert([dataclasses.replace(record, profile=profile)])

    def _complete_if_back(self, o: int) -> None:
        """Complete the order once it is ACCEPTED and every volunteer of it is back."""
        back = self.back_at.get(o)
        if not back or max(back) > self.agenda.now:
            return
        order = self.desk.get(self.ids[o])
        if order.state is not OrderState.ACCEPTED:
            return
        minutes = int(self.day.service_s[o]) // 60
        try:
            self.desk.complete(
                order.order_id, minutes, Actor.VOLUNTEER, order.accepted_volunteers[0]
            )
        except ConflictError:
            return


def run_engine(
    day: Day, round_s: int = ROUND_S, pairs: Reach | None = None, window: str = "service"
) -> EngineDay:
    """The engine's rounds over ``day``; the finished simulation (its ``outcome``, and its
    ``desk`` for a look at the orders' histories)."""
    sim = EngineDay(day, round_s, pairs, window)
    sim.run()
    return sim
